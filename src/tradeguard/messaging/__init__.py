"""Buyer–seller conversations as a hash-chained, checkpoint-signed log, with a scam scan (DESIGN.md §7)."""
