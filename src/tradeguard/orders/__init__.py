"""Guaranteed transactions (担保交易): order lifecycle, shipping, receipt, settlement (DESIGN.md §4)."""
