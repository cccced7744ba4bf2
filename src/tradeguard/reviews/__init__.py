"""Reviews (DESIGN.md §8).

Reviews (DESIGN.md §8): ratings, detailed seller ratings, follow-ups, explanations, revisions,
seller-rates-buyer with a double-blind reveal, and moderation before publishing.
"""
