"""Who may call TradeGuard: operator API keys with scopes, and staff accounts with roles (DESIGN.md §1)."""
