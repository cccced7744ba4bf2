"""TradeGuard: the trust and safety engine a marketplace runs beside its storefront."""

__version__ = "0.1.0"
