"""Who is acting: the roles of DESIGN.md §1 and the party a request speaks for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Actor(StrEnum):
    """A role that may send events to a state machine."""

    BUYER = "buyer"
    SELLER = "seller"
    OPERATOR = "operator"  #: the marketplace's backend, with an API key
    SYSTEM = "system"  #: TradeGuard itself: deadlines, automatic records
    SUPPORT = "support"  #: customer service (客服)
    ARBITRATOR = "arbitrator"  #: decides disputes (小二)
    RISK_ANALYST = "risk_analyst"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Actor.SUPPORT, Actor.ARBITRATOR, Actor.RISK_ANALYST, Actor.ADMIN})


@dataclass(frozen=True, slots=True)
class Party:
    """The actor behind a request and, for buyers, sellers and staff, which one.

    Participants act only on their own objects: services compare ``id`` with the
    object's buyer or seller and answer "not found" for anyone else's.
    """

    actor: Actor
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.actor}:{self.id}" if self.id else str(self.actor)

    @property
    def is_participant(self) -> bool:
        """True for buyers and sellers, who may only see their own objects."""
        return self.actor in (Actor.BUYER, Actor.SELLER)

    @property
    def is_staff(self) -> bool:
        """True for staff of any role."""
        return self.actor in STAFF_ROLES


SYSTEM = Party(Actor.SYSTEM)
OPERATOR = Party(Actor.OPERATOR)


def buyer(buyer_id: str) -> Party:
    """The buyer ``buyer_id``."""
    return Party(Actor.BUYER, buyer_id)


def seller(seller_id: str) -> Party:
    """The seller ``seller_id``."""
    return Party(Actor.SELLER, seller_id)
