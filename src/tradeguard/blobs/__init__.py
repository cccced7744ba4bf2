"""Uploaded files (attachments, evidence photos), stored by the sha256 of their content."""
