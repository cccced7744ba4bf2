"""Complaints and disputes (维权, 客服介入): cases, evidence, suggestions, decisions, appeals, bundles."""
