"""Durable timers: schedule, pause, resume, cancel, fire exactly once (DESIGN.md §12)."""
