"""After-sales (售后): refunds, returns, exchanges, advances and instant refunds (DESIGN.md §5)."""
