"""Merchants (DESIGN.md §10).

Merchants (DESIGN.md §10): verification records, registration-number validators per country,
document uploads, guarantee enrolment and the deposit (保证金) held in the ledger.
"""
