"""Risk signals (DESIGN.md §11): facts other contexts record for the risk engine.

Only the signal record exists so far; the scam scan of messaging is its first
producer. Risk cases and actions are built on these rows later.
"""
