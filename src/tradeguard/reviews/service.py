"""Review use cases: each runs in one unit of work and changes a review only through ``_apply``.

``_apply`` fires the review transition table, checks the row's guard, runs the
row's effects (counting through the reputation context, decisions, follow-ups,
explanations, revisions, exclusions) and appends the outbox event, so a refused
request leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, NewDeadline, Outcome
from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import (
    AlreadyExists,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.orders.model import Order, OrderState
from tradeguard.reputation.ports import EveryoneReliable, ReputationUnitOfWork, ReviewerReliability
from tradeguard.reputation.service import ReputationService
from tradeguard.reviews import rules
from tradeguard.reviews.errors import (
    AlreadyRated,
    AlreadyReviewed,
    BuyerRatingNotAllowed,
    NotReviewable,
)
from tradeguard.reviews.model import (
    EVENT_TYPES,
    REVIEW_TRANSITIONS,
    BuyerRating,
    DeadlineKind,
    DetailedRatings,
    Guard,
    ModerationDecision,
    OrderFacts,
    Photo,
    Polarity,
    Review,
    ReviewEffect,
    ReviewEvent,
    ReviewOrigin,
    ReviewState,
)
from tradeguard.reviews.moderation import Screening, screen
from tradeguard.reviews.policy import ReviewPolicy
from tradeguard.reviews.ports import ReviewFilter, ReviewsUnitOfWork

_SYSTEM = Party(Actor.SYSTEM)
_WINDOW_SUBJECT = "review_window:"


@dataclass(slots=True)
class _Intent:
    """The data an event carries into its effects."""

    text: str | None = None
    photos: tuple[Photo, ...] = ()
    stars: int | None = None
    reason: str | None = None
    note: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReviewView:
    """A review as one reader may see it: ``revealed`` False hides the rating (double-blind)."""

    review: Review
    revealed: bool
    buyer_rating: (
        BuyerRating | None
    )  #: the seller's rating of the buyer, when the reader may see it
    show_buyer: bool  #: False for anonymous reviews read by the seller or the public


class ReviewService:
    """Use cases of reviews and seller-rates-buyer (DESIGN.md §8)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[ReviewsUnitOfWork],
        runtime: Runtime,
        policy: ReviewPolicy,
        reputation: ReputationService,
        reliability: ReviewerReliability | None = None,
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy
        self._reputation = reputation
        self._reliability = reliability or EveryoneReliable()

    @property
    def policy(self) -> ReviewPolicy:
        """The review policy in force."""
        return self._policy

    # -- the buyer ------------------------------------------------------------------------------

    def post(
        self,
        order_id: str,
        party: Party,
        *,
        stars: int,
        detailed: DetailedRatings | None = None,
        text: str = "",
        reason: str | None = None,
        photos: tuple[Photo, ...] = (),
        is_anonymous: bool = False,
    ) -> Review:
        """The buyer of a completed order reviews it within the window (DESIGN.md §8).

        Personal data in the text is masked; insults, spam and links hold the review
        for staff (``pending``); otherwise it is published and counted at once.
        """
        _require(party, {Actor.BUYER})
        rules.check_rating(stars, detailed, reason)
        rules.check_text(text, self._policy)
        rules.check_text(reason or "", self._policy, "reason")
        rules.check_photos(photos, self._policy)

        def work(uow: ReviewsUnitOfWork) -> Review:
            now = self._rt.clock.now()
            order = self._order(uow, order_id, party)
            self._check_reviewable(order, now)
            # A second review of the order is refused by the unique order_id: no read needed.
            text_screening = self._screen(text)
            reason_screening = self._screen(reason) if reason else None
            flags = dict.fromkeys(
                (*text_screening.flags, *(reason_screening.flags if reason_screening else ()))
            )
            screening = Screening(text_screening.text, text_screening.masked, tuple(flags))
            masked_text = text_screening.text
            masked_reason = reason_screening.text if reason_screening else None
            review = self._new_review(
                order, now, ReviewOrigin.BUYER, stars, detailed, masked_text, masked_reason
            )
            review.photos = photos
            review.is_anonymous = is_anonymous
            review.flags = screening.flags
            deadlines.cancel(uow.deadlines, _WINDOW_SUBJECT + order.order_id, None, now)
            self._submitted(uow, review, screening, now)
            return review

        try:
            return self._units.run(work)
        except AlreadyExists as exc:
            if "order_id" in str(exc.details.get("constraint", "")):
                raise AlreadyReviewed(f"Order {order_id} already has a review.") from None
            raise

    def follow_up(
        self, review_id: str, party: Party, text: str, photos: tuple[Photo, ...] = ()
    ) -> Review:
        """One follow-up review within 180 days of completion (buyer)."""
        rules.check_text(text, self._policy)
        rules.check_photos(photos, self._policy)
        if not text.strip():
            raise ValidationFailed("A follow-up needs text.", field="text")
        return self._act(review_id, ReviewEvent.FOLLOW_UP, party, _Intent(text=text, photos=photos))

    def revise(
        self,
        review_id: str,
        party: Party,
        stars: int,
        text: str | None = None,
        reason: str | None = None,
    ) -> Review:
        """Raise a neutral or negative rating, once, within 30 days (buyer; seed 000)."""
        if type(stars) is not int or not 1 <= stars <= 5:
            raise ValidationFailed("The overall rating is 1 to 5 stars.", field="stars")
        if text is not None:
            rules.check_text(text, self._policy)
        return self._act(
            review_id, ReviewEvent.REVISE, party, _Intent(text=text, stars=stars, reason=reason)
        )

    # -- the seller -----------------------------------------------------------------------------

    def explain(
        self, review_id: str, party: Party, text: str, *, on_follow_up: bool = False
    ) -> Review:
        """The seller's one explanation of a review, or of its follow-up. Never an edit."""
        rules.check_text(text, self._policy)
        if not text.strip():
            raise ValidationFailed("An explanation needs text.", field="text")
        event = ReviewEvent.EXPLAIN_FOLLOW_UP if on_follow_up else ReviewEvent.EXPLAIN
        return self._act(review_id, event, party, _Intent(text=text))

    def rate_buyer(
        self, order_id: str, party: Party, rating: Polarity, text: str = ""
    ) -> BuyerRating:
        """The seller rates the buyer of a completed order (policy: positive only or full)."""
        _require(party, {Actor.SELLER})
        rules.check_text(text, self._policy)
        if not rules.buyer_rating_allowed(rating, self._policy):
            raise BuyerRatingNotAllowed(
                "This marketplace lets sellers give buyers positive ratings only."
            )

        def work(uow: ReviewsUnitOfWork) -> BuyerRating:
            now = self._rt.clock.now()
            order = self._order(uow, order_id, party)
            self._check_reviewable(order, now)
            if uow.reviews.buyer_rating(order.order_id) is not None:
                raise AlreadyRated(f"The buyer of order {order.order_id} was already rated.")
            masked = self._screen(text).text
            found = BuyerRating(
                order.order_id, order.seller_id, order.buyer_id, rating, masked, now
            )
            uow.reviews.insert_buyer_rating(found)
            data = {
                "order_id": order.order_id,
                "seller_id": order.seller_id,
                "buyer_id": order.buyer_id,
                "rating": rating.value,
            }
            events.record(
                uow.outbox,
                [
                    DomainEvent(
                        "review.buyer_rated", f"order:{order.order_id}", data, order.order_id
                    )
                ],
                self._rt.ids,
                now,
            )
            return found

        return self._units.run(work)

    # -- staff ----------------------------------------------------------------------------------

    def decide(self, review_id: str, party: Party, *, approve: bool, note: str = "") -> Review:
        """Staff publish or reject a held review; the decision is recorded."""
        event = ReviewEvent.APPROVE if approve else ReviewEvent.REJECT
        return self._act(review_id, event, party, _Intent(note=note))

    def exclude(self, review_id: str, party: Party, reason: str) -> Review:
        """Staff (arbitrator, risk analyst, admin) exclude a malicious review from reputation."""
        if not reason.strip():
            raise ValidationFailed("An exclusion needs a reason.", field="reason")
        return self._act(review_id, ReviewEvent.EXCLUDE, party, _Intent(reason=reason))

    def exclude_for_order(self, uow: ReputationUnitOfWork, order_id: str, reason: str) -> int:
        """Exclude the order's review (disputes and risk call this through reputation)."""
        review_uow: ReviewsUnitOfWork = uow  # type: ignore[assignment]  # the same SQL unit
        review = review_uow.reviews.for_order(order_id, lock=True)
        if review is None or review.excluded_at is not None:
            return 0
        if not REVIEW_TRANSITIONS.allows(review.state, ReviewEvent.EXCLUDE, Actor.SYSTEM):
            return 0  # a rejected review never counted: nothing to exclude
        self._apply(review_uow, review, ReviewEvent.EXCLUDE, _SYSTEM, _Intent(reason=reason))
        return 1

    # -- reads ----------------------------------------------------------------------------------

    def get(self, review_id: str, party: Party) -> ReviewView:
        """A review as the reader may see it; another party's review answers not found."""

        def work(uow: ReviewsUnitOfWork) -> ReviewView:
            review = self._load(uow, review_id, party, lock=False)
            return self._view(uow, review, party)

        return self._units.run(work)

    def for_order(self, order_id: str, party: Party) -> ReviewView:
        """The review of an order, as the reader may see it."""

        def work(uow: ReviewsUnitOfWork) -> ReviewView:
            order = self._order(uow, order_id, party)
            review = uow.reviews.for_order(order.order_id)
            if review is None:
                raise NotFound("review of order", order_id)
            return self._view(uow, review, party)

        return self._units.run(work)

    def find(
        self, party: Party, where: ReviewFilter, *, before_id: str | None = None, limit: int = 50
    ) -> list[ReviewView]:
        """Reviews newest first; a buyer or seller sees only the reviews of their own orders."""
        if party.actor == Actor.BUYER:
            where = replace(where, buyer_id=party.id)
        elif party.actor == Actor.SELLER:
            where = replace(where, seller_id=party.id)
        limit = max(1, min(limit, 201))

        def work(uow: ReviewsUnitOfWork) -> list[ReviewView]:
            found = uow.reviews.find(where, before_id=before_id, limit=limit)
            return [self._view(uow, r, party) for r in found]

        return self._units.run(work)

    def public(
        self, seller_id: str, *, before_id: str | None = None, limit: int = 20
    ) -> list[ReviewView]:
        """A seller's published, revealed reviews for its public page: no reviewer is named."""
        wanted = max(1, min(limit, 101))

        def work(uow: ReviewsUnitOfWork) -> list[ReviewView]:
            where = ReviewFilter(seller_id=seller_id, state=ReviewState.PUBLISHED)
            now = self._rt.clock.now()
            shown: list[ReviewView] = []
            cursor = before_id
            # Reviews still under the double-blind are skipped, so read on until the page is full.
            while len(shown) < wanted:
                found = uow.reviews.find(where, before_id=cursor, limit=wanted)
                shown.extend(
                    ReviewView(r, True, None, False) for r in found if self._revealed(uow, r, now)
                )
                if len(found) < wanted:
                    break
                cursor = found[-1].id
            return shown[:wanted]

        return self._units.run(work)

    def decisions(self, review_id: str, party: Party) -> list[ModerationDecision]:
        """Staff decisions on a review (staff)."""
        if not party.is_staff:
            raise Forbidden("Only staff read moderation decisions.")
        return self._units.run(lambda uow: uow.reviews.decisions(review_id))

    # -- hooks and timers -----------------------------------------------------------------------

    def on_order_completed(self, uow: ReviewsUnitOfWork, order: Order, now: datetime) -> None:
        """Start the review window when an order completes (the orders context calls this).

        Only a default rating needs the timer: without one, the window is checked when
        the buyer posts, and nothing happens when it ends.
        """
        if self._policy.default_rating == "none":
            return
        due = rules.window_ends_at(order.completed_at or now, self._policy)
        deadlines.schedule(
            uow.deadlines,
            [NewDeadline(DeadlineKind.REVIEW_WINDOW, _WINDOW_SUBJECT + order.id, due)],
            now,
        )

    def deadline_handlers(
        self,
    ) -> dict[str, Callable[[ReviewsUnitOfWork, Deadline, datetime], Outcome]]:
        """The review window's handler: the default rating for orders left unrated."""
        return {DeadlineKind.REVIEW_WINDOW: self._on_window_end}

    def _on_window_end(self, uow: ReviewsUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
        order = uow.reviews.order_facts(deadline.subject_id)
        if order is None or order.state != OrderState.COMPLETED or order.completed_at is None:
            return Outcome.OBSOLETE
        if uow.reviews.for_order(order.order_id, lock=True) is not None:
            return Outcome.OBSOLETE
        if self._policy.default_rating == "none":
            return Outcome.FIRED
        review = self._new_review(order, now, ReviewOrigin.DEFAULT, 5, None, "", None)
        self._submitted(uow, review, Screening("", (), ()), now)
        return Outcome.FIRED

    # -- the one place a review changes ---------------------------------------------------------

    def _submitted(
        self, uow: ReviewsUnitOfWork, review: Review, screening: Screening, now: datetime
    ) -> None:
        """Store a new review held for staff, or published (and counted) at once.

        A published review is stored once, in its published state, by the transition:
        one write instead of an insert and an update.
        """
        if screening.is_held:
            uow.reviews.insert(review)
            events.record(
                uow.outbox,
                [
                    DomainEvent(
                        "review.held",
                        review.subject,
                        {**_snapshot(review), "flags": [f.value for f in screening.flags]},
                        review.order_id,
                    )
                ],
                self._rt.ids,
                now,
            )
            return
        self._apply(uow, review, ReviewEvent.PUBLISH, _SYSTEM, _Intent(), stored=False)

    def _act(self, review_id: str, event: ReviewEvent, party: Party, intent: _Intent) -> Review:
        def work(uow: ReviewsUnitOfWork) -> Review:
            return self._apply(uow, self._load(uow, review_id, party), event, party, intent)

        return self._units.run(work)

    def _apply(
        self,
        uow: ReviewsUnitOfWork,
        review: Review,
        event: ReviewEvent,
        party: Party,
        intent: _Intent,
        *,
        stored: bool = True,
    ) -> Review:
        now = self._rt.clock.now()
        row = REVIEW_TRANSITIONS.fire(review.state, event, party.actor)
        if row.guard is not None and not self._guard_holds(
            uow, review, Guard(row.guard), intent, now
        ):
            raise TransitionNotAllowed("review", review.state, event, party.actor, row.guard)
        review.state = row.target
        for effect in row.effects:
            self._effect(uow, review, effect, event, party, intent, now)
        if stored:
            uow.reviews.update(review)
        else:
            uow.reviews.insert(review)
        data = {
            **_snapshot(review),
            "event": event.value,
            "actor": party.actor.value,
            **intent.facts,
        }
        events.record(
            uow.outbox,
            [DomainEvent(EVENT_TYPES[event], review.subject, data, review.order_id)],
            self._rt.ids,
            now,
        )
        return review

    def _guard_holds(
        self, uow: ReviewsUnitOfWork, review: Review, guard: Guard, intent: _Intent, now: datetime
    ) -> bool:
        if guard == Guard.FOLLOW_UP_ALLOWED:
            return rules.follow_up_allowed(review, now, self._policy)
        if guard == Guard.EXPLANATION_ALLOWED:
            return review.explanation is None and self._revealed(uow, review, now)
        if guard == Guard.FOLLOW_UP_EXPLANATION_ALLOWED:
            return review.follow_up_at is not None and review.follow_up_explanation is None
        if guard == Guard.REVISION_ALLOWED:
            return intent.stars is not None and rules.revision_allowed(
                review, intent.stars, now, self._policy
            )
        if guard == Guard.NOT_EXCLUDED:
            return review.excluded_at is None
        raise AssertionError(
            f"unhandled guard {guard}"
        )  # pragma: no cover - the enum is exhaustive

    def _effect(
        self,
        uow: ReviewsUnitOfWork,
        review: Review,
        effect: ReviewEffect,
        event: ReviewEvent,
        party: Party,
        intent: _Intent,
        now: datetime,
    ) -> None:
        if effect == ReviewEffect.COUNT:
            review.published_at = now
            if review.excluded_at is None:  # excluded while held: it never counts
                self._reputation.count(uow, review)
        elif effect == ReviewEffect.RECORD_DECISION:
            decision = ModerationDecision(
                self._rt.ids.new("mod", now), review.id, event.value, str(party), intent.note, now
            )
            uow.reviews.insert_decision(decision)
            review.decided_by, review.decided_at, review.decision_note = (
                str(party),
                now,
                intent.note,
            )
        elif effect == ReviewEffect.RECORD_FOLLOW_UP:
            review.follow_up_text = self._screen(intent.text or "").text
            review.follow_up_photos = intent.photos
            review.follow_up_at = now
        elif effect == ReviewEffect.RECORD_EXPLANATION:
            text = self._screen(intent.text or "").text
            if event == ReviewEvent.EXPLAIN_FOLLOW_UP:
                review.follow_up_explanation, review.follow_up_explained_at = text, now
            else:
                review.explanation, review.explained_at = text, now
        elif effect == ReviewEffect.RECORD_REVISION:
            stars = intent.stars or review.stars
            reason = intent.reason if intent.reason is not None else review.reason
            rules.check_rating(stars, review.detailed, reason)
            old = review.stars
            review.original_stars, review.stars, review.revised_at = old, stars, now
            review.reason = self._screen(reason).text if reason else None
            if intent.text is not None:
                review.text = self._screen(intent.text).text
            intent.facts["from_stars"] = old
            self._reputation.restar(uow, review, old)
        elif effect == ReviewEffect.UNCOUNT:
            review.excluded_at, review.exclusion_reason = now, intent.reason
            self._reputation.uncount(uow, review)

    # -- helpers --------------------------------------------------------------------------------

    def _new_review(
        self,
        order: OrderFacts,
        now: datetime,
        origin: ReviewOrigin,
        stars: int,
        detailed: DetailedRatings | None,
        text: str,
        reason: str | None,
    ) -> Review:
        local = now.astimezone(self._rt.calendar.zone)
        return Review(
            id=self._rt.ids.new("rev", now),
            order_id=order.order_id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            listing_id=order.listing_id,
            state=ReviewState.PENDING,
            origin=origin,
            stars=stars,
            detailed=detailed,
            text=text,
            reason=reason,
            is_anonymous=False,
            photos=(),
            created_at=now,
            rated_on=local.date(),
            rated_month=f"{local.year:04d}-{local.month:02d}",
            order_completed_at=order.completed_at or now,
            weight=self._reliability.weight(order.buyer_id),
        )

    def _screen(self, text: str) -> Screening:
        return screen(
            text,
            hold_links=self._policy.hold_links,
            extra_insults=self._policy.extra_insults,
            extra_spam=self._policy.extra_spam,
        )

    def _check_reviewable(self, order: OrderFacts, now: datetime) -> None:
        if order.state != OrderState.COMPLETED or order.completed_at is None:
            raise NotReviewable(
                f"Order {order.order_id} is {order.state}; only completed orders are rated."
            )
        if not rules.within_review_window(order.completed_at, now, self._policy):
            raise NotReviewable(f"The review window of order {order.order_id} has ended.")

    def _order(self, uow: ReviewsUnitOfWork, order_id: str, party: Party) -> OrderFacts:
        order = uow.reviews.order_facts(order_id)
        if order is None or not _may_see(order.buyer_id, order.seller_id, party):
            raise NotFound("order", order_id)
        return order

    def _load(
        self, uow: ReviewsUnitOfWork, review_id: str, party: Party, *, lock: bool = True
    ) -> Review:
        review = uow.reviews.get(review_id, lock=lock)
        if review is None or not _may_see(review.buyer_id, review.seller_id, party):
            raise NotFound("review", review_id)
        return review

    def _revealed(self, uow: ReviewsUnitOfWork, review: Review, now: datetime) -> bool:
        if review.origin == ReviewOrigin.DEFAULT:
            return True
        both = uow.reviews.buyer_rating(review.order_id) is not None
        return rules.revealed(both, review.order_completed_at, now, self._policy)

    def _view(self, uow: ReviewsUnitOfWork, review: Review, party: Party) -> ReviewView:
        now = self._rt.clock.now()
        revealed = self._revealed(uow, review, now)
        rating = uow.reviews.buyer_rating(review.order_id)
        if party.actor == Actor.BUYER:
            # The buyer always sees its own review; the seller's rating of it only once revealed.
            return ReviewView(review, True, rating if revealed else None, True)
        if party.actor == Actor.SELLER:
            return ReviewView(review, revealed, rating, not review.is_anonymous)
        return ReviewView(review, True, rating, True)


def _snapshot(review: Review) -> dict[str, Any]:
    return {
        "review_id": review.id,
        "order_id": review.order_id,
        "seller_id": review.seller_id,
        "buyer_id": review.buyer_id,
        "state": review.state.value,
        "origin": review.origin.value,
        "stars": review.stars,
        "polarity": review.polarity.value,
        "counted": review.counted,
        "excluded": review.excluded_at is not None,
    }


def _may_see(buyer_id: str, seller_id: str, party: Party) -> bool:
    if party.actor == Actor.BUYER:
        return buyer_id == party.id
    if party.actor == Actor.SELLER:
        return seller_id == party.id
    return True


def _require(party: Party, actors: set[Actor]) -> None:
    if party.actor not in actors:
        raise Forbidden(f"Only {', '.join(sorted(actors))} may do this.")
