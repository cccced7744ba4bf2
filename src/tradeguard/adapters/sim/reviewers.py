"""Simulated reviewers (DESIGN.md §8-9): honest buyers rate what they received.

Most ratings are positive; some carry photos (sha256 references) and detailed
ratings; a share of reviewers follow up weeks later; sellers rate most of their
buyers back (which reveals the double-blind); and a few impatient buyers — seed
000's — post a low rating while annoyed and raise it once they have used the
goods. Buyers who never confirm are left to auto-confirm and the default rating.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import Order
from tradeguard.reviews.model import DetailedRatings, Photo, Polarity
from tradeguard.reviews.ports import ReviewFilter

if TYPE_CHECKING:
    from tradeguard.adapters.sim.simulator import SimBuyer, Simulator

#: Overall stars of an honest review, with their weights (mostly positive, as on real platforms).
STARS = (5, 4, 3, 2, 1)
STAR_WEIGHTS = (70, 15, 7, 4, 4)
PRAISE = ("Fast shipping, exactly as described.", "质量很好，物流很快！", "Works great, thanks.")
COMPLAINTS = ("Smaller than the photos.", "包装破损，有点失望。", "Took a long time to arrive.")


class Reviewers:
    """Reviews by honest buyers, seller ratings of buyers, and seed 000's upward revision."""

    name = "reviews"

    def __init__(
        self,
        reviewing_share: float = 0.8,
        photo_share: float = 0.2,
        follow_up_share: float = 0.1,
        impatient_share: float = 0.05,
        seller_rates_share: float = 0.7,
    ) -> None:
        self.reviewing_share = reviewing_share
        self.photo_share = photo_share
        self.follow_up_share = follow_up_share
        self.impatient_share = impatient_share
        self.seller_rates_share = seller_rates_share
        self.counts: Counter[str] = Counter()

    def setup(self, sim: Simulator) -> None:
        """Mark reviewers and seed 000's impatient buyers."""
        for shopper in sim.buyers:
            if "never_confirms" in shopper.traits:
                continue  # left to auto-confirm and the default rating
            if sim.rng.random() < self.reviewing_share:
                shopper.traits.add("reviews")
                if sim.rng.random() < self.impatient_share:
                    shopper.traits.add("impatient_reviewer")

    def on_arrived(self, sim: Simulator, order: Order, shopper: SimBuyer) -> bool:
        """A reviewer confirms receipt, then reviews a few hours later."""
        if "reviews" not in shopper.traits:
            return False
        confirm_in = timedelta(hours=sim.rng.randint(1, 72))
        sim.later(confirm_in, partial(sim.confirm, order.id, shopper))
        review_in = confirm_in + timedelta(hours=sim.rng.randint(1, 96))
        sim.later(review_in, partial(self._review, sim, order, shopper))
        return True

    def daily(self, sim: Simulator, day: int) -> None:
        """Nothing daily: reviews follow deliveries."""

    def _review(self, sim: Simulator, order: Order, shopper: SimBuyer) -> None:
        rng = sim.rng
        impatient = "impatient_reviewer" in shopper.traits
        stars = 2 if impatient else rng.choices(STARS, STAR_WEIGHTS)[0]
        positive = stars >= 4
        photos: tuple[Photo, ...] = ()
        if rng.random() < self.photo_share:
            photos = (
                Photo(f"{rng.getrandbits(256):064x}", "image/jpeg", rng.randint(40_000, 900_000)),
            )
            self.counts["with_photos"] += 1
        detailed = DetailedRatings(
            min(5, stars + rng.choice((0, 0, 1))), rng.randint(3, 5), rng.randint(2, 5)
        )
        review = sim.attempt(
            lambda: sim.app.reviews.post(
                order.id,
                buyer(shopper.id),
                stars=stars,
                detailed=detailed,
                text=rng.choice(PRAISE if positive else COMPLAINTS),
                reason=None if positive else ("parcel is late" if impatient else "not as expected"),
                photos=photos,
                is_anonymous=rng.random() < 0.1,
            )
        )
        if review is None:
            return
        self.counts["posted"] += 1
        if rng.random() < self.seller_rates_share:
            sim.later(
                timedelta(hours=rng.randint(1, 48)),
                lambda: sim.attempt(
                    lambda: sim.app.reviews.rate_buyer(
                        order.id, seller(order.seller_id), Polarity.POSITIVE
                    )
                ),
            )
        if impatient:
            # Seed 000: the buyer uses the goods, finds them fine, and raises the rating once.
            sim.later(
                timedelta(days=rng.randint(2, 10)), partial(self._revise, sim, review.id, shopper)
            )
        elif rng.random() < self.follow_up_share:
            sim.later(
                timedelta(days=rng.randint(7, 25)),
                partial(self._follow_up, sim, review.id, shopper),
            )

    def _revise(self, sim: Simulator, review_id: str, shopper: SimBuyer) -> None:
        revised = sim.attempt(
            lambda: sim.app.reviews.revise(
                review_id, buyer(shopper.id), 5, text="Arrived and works well."
            )
        )
        if revised is not None:
            self.counts["revised_upward"] += 1

    def _follow_up(self, sim: Simulator, review_id: str, shopper: SimBuyer) -> None:
        done = sim.attempt(
            lambda: sim.app.reviews.follow_up(
                review_id, buyer(shopper.id), "Still working after weeks."
            )
        )
        if done is not None:
            self.counts["follow_ups"] += 1

    def summarise(self, sim: Simulator) -> dict[str, Any]:
        """Rating distribution, default ratings, held reviews, revisions and seller levels."""
        stars: Counter[int] = Counter()
        origins: Counter[str] = Counter()
        states: Counter[str] = Counter()
        cursor: str | None = None
        while True:
            page = sim.app.reviews.find(OPERATOR, ReviewFilter(), before_id=cursor, limit=200)
            for view in page:
                stars[view.review.stars] += 1
                origins[view.review.origin.value] += 1
                states[view.review.state.value] += 1
            if len(page) < 200:
                break
            cursor = page[-1].review.id
        levels: Counter[str] = Counter(
            sim.app.reputation.figures(shop.id).level for shop in sim.sellers
        )
        return {
            "reviews": sum(stars.values()),
            "rating_distribution": {str(s): stars.get(s, 0) for s in (5, 4, 3, 2, 1)},
            "by_origin": dict(sorted(origins.items())),
            "by_state": dict(sorted(states.items())),
            "with_photos": self.counts["with_photos"],
            "follow_ups": self.counts["follow_ups"],
            "revised_upward": self.counts["revised_upward"],
            "seller_levels": dict(sorted(levels.items())),
        }
