"""The simulator: a marketplace of honest and abusive parties on an accelerated clock."""
