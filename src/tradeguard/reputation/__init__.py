"""Reputation (DESIGN.md §9).

Reputation (DESIGN.md §9): seller credit points and levels, positive rates, DSR, the ranking
score, buyer credit and tiers, and the trust badge.
"""
