"""Domain events and the transactional outbox (DESIGN.md §13)."""
