"""Errors of the reviews context."""

from __future__ import annotations

from tradeguard.kernel.errors import Conflict, TradeGuardError


class AlreadyReviewed(Conflict):
    """This order already has a review (one per order)."""

    code = "already_reviewed"


class AlreadyRated(Conflict):
    """The seller already rated this buyer for this order; ratings are never edited."""

    code = "already_rated"


class NotReviewable(Conflict):
    """The order cannot be reviewed now: it is not completed, or the review window has ended."""

    code = "not_reviewable"


class BuyerRatingNotAllowed(TradeGuardError):
    """The policy lets sellers give buyers positive ratings only."""

    code = "buyer_rating_not_allowed"
