"""Shared building blocks with no I/O: money, state machines, clock, ids, errors, parties."""
