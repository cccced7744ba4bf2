"""Pure rules of the disputes context: filing windows, evidence weight, outcome suggestions.

Outcome suggestions come from one ordered rule table, :data:`SUGGESTION_RULES`;
the first rule whose condition holds names the suggested outcome. Staff always
decide — a suggestion is advice shown with the case, never a ruling.

=============================  ==========================================================  ==============
rule                           when                                                        suggests
=============================  ==========================================================  ==============
respondent_silent              the respondent let the response deadline pass              against them
virtual_delivered_no_evidence  not received, virtual goods, a delivery record, and the     dismissed
                               buyer has no counted evidence of their own
scan_delivered_no_evidence     not received, a carrier delivered/signed scan, and the      dismissed
                               buyer has no counted evidence of their own
never_shipped                  not received, no shipment and no delivery record            buyer wins
human_promise_broken           broken promise, a counted human seller message promising,   buyer wins
                               and the seller submitted no evidence it was kept
only_auto_reply_promises       broken promise, and every quoted promise is an auto-reply   dismissed
late_shipment_confirmed        late shipment, and the order was marked late               buyer wins
no_complainant_evidence        the complainant has no counted evidence at all              dismissed
staff_judgement                anything else                                               (none)
=============================  ==========================================================  ==============

"Counted" evidence is every system record plus party uploads the rules do not
discount: a payment screenshot never counts (seed 001: only the payment record
proves a payment), and a chat message that is an auto-reply never counts as the
seller's promise (seed 002: only non-automatic chat counts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tradeguard.disputes.model import (
    Case,
    CaseType,
    EvidenceItem,
    EvidenceKind,
    Outcome,
    Provenance,
    Suggestion,
)
from tradeguard.disputes.policy import DisputePolicy
from tradeguard.kernel.money import Money, apply_bps
from tradeguard.kernel.parties import Actor
from tradeguard.kernel.periods import WorkingCalendar

PAYMENT_SCREENSHOT_NOTE: Final = (
    "a screenshot of a payment is party-provided; only the payment record proves payment"
)
AUTO_REPLY_NOTE: Final = "an automatic reply is not the seller's promise"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the rules need to know about the disputed order."""

    is_virtual: bool
    is_late: bool
    paid: bool
    goods_minor: int  #: the goods price (without shipping)
    refundable_minor: int  #: paid minus refunded so far
    late_compensation_minor: int
    late_compensation_paid: bool


def filing_deadline(
    completed_at: datetime | None,
    case_type: CaseType,
    policy: DisputePolicy,
    calendar: WorkingCalendar,
) -> datetime | None:
    """Until when a complaint of ``case_type`` may be filed; None while the order is not completed."""
    if completed_at is None:
        return None
    return calendar.add(completed_at, policy.for_type(case_type).filing_window_after_completion)


def weigh(kind: EvidenceKind, data: dict[str, object]) -> tuple[bool, str | None]:
    """Whether a party-provided item counts as evidence, and why not when it does not."""
    if kind == EvidenceKind.PAYMENT_SCREENSHOT:
        return False, PAYMENT_SCREENSHOT_NOTE
    if kind == EvidenceKind.CHAT_RANGE and data.get("promise_kind") not in (None, "human"):
        return False, AUTO_REPLY_NOTE
    return True, None


def _counted(items: list[EvidenceItem], party: Actor) -> list[EvidenceItem]:
    return [
        i
        for i in items
        if i.party == party.value and i.provenance == Provenance.PARTY and i.submitted and i.counts
    ]


def _counted_chat(items: list[EvidenceItem], party: Actor) -> list[EvidenceItem]:
    # A chat range is a system record the party pointed at: it belongs to the party that quoted it.
    return [
        i
        for i in items
        if i.kind == EvidenceKind.CHAT_RANGE and i.data.get("quoted_by") == party.value
    ]


def _has(items: list[EvidenceItem], kind: EvidenceKind) -> bool:
    return any(i.kind == kind for i in items)


@dataclass(frozen=True, slots=True)
class _Context:
    case: Case
    order: OrderFacts
    items: list[EvidenceItem]
    policy: DisputePolicy

    @property
    def complainant_evidence(self) -> list[EvidenceItem]:
        party = self.case.complainant
        return [
            *_counted(self.items, party),
            *[i for i in _counted_chat(self.items, party) if i.counts],
        ]

    @property
    def respondent_evidence(self) -> list[EvidenceItem]:
        party = self.case.respondent
        return [
            *_counted(self.items, party),
            *[i for i in _counted_chat(self.items, party) if i.counts],
        ]

    @property
    def promises(self) -> list[EvidenceItem]:
        return [
            i
            for i in _counted_chat(self.items, Actor.BUYER)
            if i.data.get("promise_seq") is not None
        ]

    def silence_points(self) -> int:
        return self.policy.silent_respondent_points if self.case.respondent == Actor.SELLER else 0

    def silence_compensation(self) -> int:
        if self.case.respondent != Actor.SELLER:
            return 0
        price = Money(self.order.goods_minor, self.case.currency)
        return apply_bps(price, self.policy.silent_respondent_compensation_bps).amount_minor


Condition = Callable[[_Context], bool]
Verdict = Callable[[_Context], Suggestion]


@dataclass(frozen=True, slots=True)
class SuggestionRule:
    """One row of the suggestion table."""

    name: str
    when: str  #: the condition in words, as the README table shows it
    condition: Condition
    verdict: Verdict


def _not_received(c: _Context) -> bool:
    return c.case.type == CaseType.NOT_RECEIVED


def _silent_verdict(c: _Context) -> Suggestion:
    if c.case.respondent == Actor.SELLER:
        return Suggestion(
            "respondent_silent",
            Outcome.BUYER_WINS,
            "the seller did not answer before the response deadline",
            refund_minor=min(
                c.case.claimed_minor or c.order.refundable_minor, c.order.refundable_minor
            ),
            compensation_minor=c.silence_compensation(),
            credit_points=c.silence_points(),
        )
    return Suggestion(
        "respondent_silent",
        Outcome.SELLER_WINS,
        "the buyer did not answer before the response deadline",
    )


def _delivery_scanned(c: _Context) -> bool:
    return any(
        i.kind == EvidenceKind.TRACKING_EVENT and i.data.get("status") in ("delivered", "signed")
        for i in c.items
    )


#: The suggestion table; order matters, the first match wins.
SUGGESTION_RULES: Final[tuple[SuggestionRule, ...]] = (
    SuggestionRule(
        "respondent_silent",
        "the respondent let the response deadline pass",
        lambda c: c.case.respondent_silent,
        _silent_verdict,
    ),
    SuggestionRule(
        "virtual_delivered_no_evidence",
        "not received, virtual goods, a delivery record, and the buyer has no counted evidence",
        lambda c: (
            _not_received(c)
            and c.order.is_virtual
            and _has(c.items, EvidenceKind.DELIVERY_RECORD)
            and not c.complainant_evidence
        ),
        lambda c: Suggestion(
            "virtual_delivered_no_evidence",
            Outcome.DISMISSED,
            "the delivery record shows the goods were delivered and the buyer has no evidence",
        ),
    ),
    SuggestionRule(
        "scan_delivered_no_evidence",
        "not received, a carrier delivered/signed scan, and the buyer has no counted evidence",
        lambda c: _not_received(c) and _delivery_scanned(c) and not c.complainant_evidence,
        lambda c: Suggestion(
            "scan_delivered_no_evidence",
            Outcome.DISMISSED,
            "the carrier recorded delivery and the buyer has no evidence",
        ),
    ),
    SuggestionRule(
        "never_shipped",
        "not received, no shipment and no delivery record",
        lambda c: (
            _not_received(c)
            and not _has(c.items, EvidenceKind.SHIPMENT)
            and not _has(c.items, EvidenceKind.DELIVERY_RECORD)
        ),
        lambda c: Suggestion(
            "never_shipped",
            Outcome.BUYER_WINS,
            "nothing was shipped or delivered",
            refund_minor=c.order.refundable_minor,
        ),
    ),
    SuggestionRule(
        "human_promise_broken",
        "broken promise, a counted human seller message promising, no seller evidence it was kept",
        lambda c: (
            c.case.type == CaseType.BROKEN_PROMISE
            and any(i.counts for i in c.promises)
            and not c.respondent_evidence
        ),
        lambda c: Suggestion(
            "human_promise_broken",
            Outcome.BUYER_WINS,
            "the seller promised in chat (a human message) and shows nothing kept the promise",
            refund_minor=min(c.case.claimed_minor, c.order.refundable_minor),
            credit_points=c.policy.broken_promise_points,
        ),
    ),
    SuggestionRule(
        "only_auto_reply_promises",
        "broken promise, and every quoted promise is an auto-reply",
        lambda c: (
            c.case.type == CaseType.BROKEN_PROMISE
            and bool(c.promises)
            and not any(i.counts for i in c.promises)
        ),
        lambda c: Suggestion(
            "only_auto_reply_promises",
            Outcome.DISMISSED,
            "the quoted promise is an automatic reply, which is not the seller's promise",
        ),
    ),
    SuggestionRule(
        "late_shipment_confirmed",
        "late shipment, and the order was marked late",
        lambda c: c.case.type == CaseType.LATE_SHIPMENT and c.order.is_late,
        lambda c: Suggestion(
            "late_shipment_confirmed",
            Outcome.BUYER_WINS,
            "the seller missed the ship-by time",
            compensation_minor=0
            if c.order.late_compensation_paid
            else c.order.late_compensation_minor,
        ),
    ),
    SuggestionRule(
        "no_complainant_evidence",
        "the complainant has no counted evidence at all",
        lambda c: not c.complainant_evidence,
        lambda c: Suggestion(
            "no_complainant_evidence",
            Outcome.DISMISSED,
            "the complainant submitted no evidence that counts",
        ),
    ),
)


def suggest(
    case: Case, order: OrderFacts, items: list[EvidenceItem], policy: DisputePolicy
) -> Suggestion:
    """The first matching rule's suggestion, or "staff judgement" when none matches."""
    context = _Context(case, order, items, policy)
    for rule in SUGGESTION_RULES:
        if rule.condition(context):
            return rule.verdict(context)
    return Suggestion("staff_judgement", None, "no rule applies; staff weigh the evidence")


def rule_table_markdown() -> str:
    """The suggestion table as Markdown (the README shows it)."""
    lines = ["| rule | when |", "|---|---|"]
    lines += [f"| {r.name} | {r.when} |" for r in SUGGESTION_RULES]
    lines.append("| staff_judgement | anything else: no suggestion |")
    return "\n".join(lines)
