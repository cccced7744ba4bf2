"""The numbers of DESIGN.md §6, with their documented defaults."""

from __future__ import annotations

from pydantic import Field, model_validator

from tradeguard.disputes.model import CaseType
from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import Bps, Count, PeriodField, PolicySection


class CaseTypePolicy(PolicySection):
    """One case type's filing window and staff SLA."""

    filing_window_after_completion: PeriodField = Field(
        default=Period.days(15),
        description="A complaint may be filed from payment until this long after completion.",
    )
    staff_sla: PeriodField = Field(
        default=Period.working_days(7),
        description="Staff decide within this (working days on the holiday calendar) or the case goes to the supervisor queue.",
    )


def _default_types() -> dict[CaseType, CaseTypePolicy]:
    five = Period.working_days(5)
    return {
        CaseType.NOT_RECEIVED: CaseTypePolicy(),
        CaseType.NOT_AS_DESCRIBED: CaseTypePolicy(),
        CaseType.QUALITY: CaseTypePolicy(),
        CaseType.LATE_SHIPMENT: CaseTypePolicy(staff_sla=five),
        CaseType.BROKEN_PROMISE: CaseTypePolicy(staff_sla=five),
        CaseType.SELLER_HARASSMENT: CaseTypePolicy(
            filing_window_after_completion=Period.days(30), staff_sla=five
        ),
        CaseType.MALICIOUS_REVIEW: CaseTypePolicy(filing_window_after_completion=Period.days(30)),
        CaseType.ESCALATED_AFTER_SALES: CaseTypePolicy(),
    }


class DisputePolicy(PolicySection):
    """Complaint windows, response and evidence deadlines, SLAs, appeals (DESIGN.md §6)."""

    types: dict[CaseType, CaseTypePolicy] = Field(
        default_factory=_default_types,
        description="Per case type: filing window after completion and staff SLA.",
    )
    response_window: PeriodField = Field(
        default=Period.days(3),
        description="The respondent answers within this; silence is reported to staff with the suggestion against them (Taobao: 3 days).",
    )
    evidence_window: PeriodField = Field(
        default=Period.days(3),
        description="After the response, both parties may submit evidence for this long.",
    )
    appeal_window: PeriodField = Field(
        default=Period.days(7), description="A party may appeal a decision once within this."
    )
    silent_respondent_points: Count = Field(
        default=4, description="Credit points the rules suggest deducting from a silent seller."
    )
    silent_respondent_compensation_bps: Bps = Field(
        default=500,
        description="Compensation the rules suggest a silent seller pays, as a share of the goods price.",
    )
    broken_promise_points: Count = Field(
        default=2,
        description="Credit points the rules suggest deducting for a broken chat promise.",
    )
    max_upload_bytes: int = Field(
        default=5_000_000,
        strict=True,
        ge=1,
        le=50_000_000,
        description="The largest evidence upload a party may attach.",
    )
    upload_types: tuple[str, ...] = Field(
        default=("image/png", "image/jpeg", "image/webp", "application/pdf", "text/plain"),
        description="Content types a party may upload as evidence.",
    )
    max_quoted_messages: int = Field(
        default=10_000,
        strict=True,
        ge=1,
        le=100_000,
        description="The longest chat range a party may quote as evidence, in messages.",
    )
    max_staged_items: int = Field(
        default=20, strict=True, ge=1, le=200, description="Items a party may stage per case."
    )

    @model_validator(mode="after")
    def _every_type(self) -> DisputePolicy:
        missing = set(CaseType) - set(self.types)
        if missing:
            defaults = _default_types()
            merged = {**{t: defaults[t] for t in missing}, **self.types}
            object.__setattr__(self, "types", merged)
        return self

    def for_type(self, case_type: CaseType) -> CaseTypePolicy:
        """The filing window and SLA of ``case_type``."""
        return self.types[case_type]
