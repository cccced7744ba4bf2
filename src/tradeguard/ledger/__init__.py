"""The ledger: accounts, immutable balanced transfers, cached balances, invariants (DESIGN.md §3)."""
