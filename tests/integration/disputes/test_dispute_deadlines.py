"""DESIGN.md §6 and §12: response and evidence deadlines, staff SLAs in working days, the overdue queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradeguard.disputes.model import CaseState, CaseType, Outcome
from tradeguard.kernel.parties import buyer, seller


def test_a_silent_respondent_is_reported_to_staff_with_the_suggestion_against_them(
    disputes,
) -> None:
    # given: a buyer complains and the seller never answers
    order_id = disputes.shipped(price=20_000)
    case = disputes.file(order_id, CaseType.NOT_AS_DESCRIBED)
    # when: the response deadline (3 days) passes
    disputes.advance(timedelta(days=3))
    # then: staff review the case with a suggestion against the seller (Taobao: points and compensation)
    case = disputes.case(case.id)
    assert case.state == CaseState.UNDER_REVIEW
    assert case.respondent_silent
    assert case.suggestion is not None
    assert case.suggestion.rule == "respondent_silent"
    assert case.suggestion.outcome == Outcome.BUYER_WINS
    assert case.suggestion.refund_minor == 20_000
    assert case.suggestion.compensation_minor == 1_000  # 5 % of the goods price
    assert case.suggestion.credit_points == 4
    assert "dispute.respondent_silent" in disputes.event_types(order_id)


def test_the_evidence_phase_ends_at_its_deadline(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    disputes.app.disputes.respond(case.id, seller("s1"), "It was shipped, see tracking.")
    case = disputes.case(case.id)
    assert case.state == CaseState.EVIDENCE
    assert case.evidence_due_at == disputes.clock.now() + timedelta(days=3)
    # when
    disputes.advance(timedelta(days=3) - timedelta(seconds=1))
    assert disputes.case(case.id).state == CaseState.EVIDENCE
    disputes.advance(timedelta(seconds=1))
    # then
    assert disputes.case(case.id).state == CaseState.UNDER_REVIEW


def test_the_evidence_phase_ends_early_when_both_parties_submitted(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    disputes.app.disputes.respond(case.id, seller("s1"), "Shipped.")
    # when
    disputes.app.disputes.submit_evidence(case.id, buyer("b1"))
    assert disputes.case(case.id).state == CaseState.EVIDENCE
    disputes.app.disputes.submit_evidence(case.id, seller("s1"))
    # then
    case = disputes.case(case.id)
    assert case.state == CaseState.UNDER_REVIEW
    assert case.suggestion is not None


def test_a_case_past_its_staff_sla_goes_to_the_supervisor_queue_and_stays_there(disputes) -> None:
    # given: a not-received case under review (SLA 7 working days)
    case = disputes.file(disputes.shipped())
    case = disputes.to_review(case.id)
    assert case.sla_due_at is not None
    # when: the SLA passes with no decision
    disputes.advance(case.sla_due_at - disputes.clock.now())
    # then: overdue, in the supervisor queue, still under review
    case = disputes.case(case.id)
    assert case.overdue
    assert case.state == CaseState.UNDER_REVIEW
    assert [c.id for c in disputes.app.disputes.supervisor_queue()] == [case.id]
    assert "dispute.overdue" in disputes.event_types(case.order_id)
    # and: weeks later it is still there, never dropped
    disputes.advance(timedelta(days=60))
    assert [c.id for c in disputes.app.disputes.supervisor_queue()] == [case.id]
    # and: a decision takes it out of the queue
    disputes.decide(case.id, outcome="dismissed")
    assert disputes.app.disputes.supervisor_queue() == []


def test_staff_sla_counts_working_days_across_a_holiday(disputes) -> None:
    # given: a complaint filed on 2026-09-26; the silent seller's case enters review on Tue 2026-09-29,
    # the eve of the National Day holiday (Oct 1-7; Sat Oct 10 is worked)
    disputes.clock.set(datetime(2026, 9, 26, 2, 0, tzinfo=UTC))
    case = disputes.file(disputes.shipped())
    disputes.advance(timedelta(days=3))
    case = disputes.case(case.id)
    assert case.review_started_at == datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
    # then: 7 working days are Sep 30, Oct 8, 9, 10, 12, 13, 14
    assert case.sla_due_at == datetime(2026, 10, 14, 2, 0, tzinfo=UTC)
    disputes.advance(datetime(2026, 10, 14, 1, 59, tzinfo=UTC) - disputes.clock.now())
    assert not disputes.case(case.id).overdue
    disputes.advance(timedelta(minutes=1))
    assert disputes.case(case.id).overdue


def test_each_case_type_has_its_own_staff_sla(disputes) -> None:
    # given: the same start, a broken promise (5 working days) and not received (7)
    promise = disputes.file(disputes.shipped(), CaseType.BROKEN_PROMISE)
    received = disputes.file(disputes.shipped(), CaseType.NOT_RECEIVED)
    disputes.advance(timedelta(days=3))
    # then: Thu Jan 8 + 5 wd = Thu Jan 15; + 7 wd = Mon Jan 19
    assert disputes.case(promise.id).sla_due_at == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert disputes.case(received.id).sla_due_at == datetime(2026, 1, 19, 9, 0, tzinfo=UTC)


def test_an_appeal_restarts_the_staff_sla(disputes) -> None:
    # given: a decided case
    case = disputes.to_review(disputes.file(disputes.shipped()).id)
    disputes.decide(case.id, outcome="dismissed")
    # when: the buyer appeals and staff do nothing
    disputes.app.disputes.appeal(
        case.id, buyer("b1"), "The tracking number belongs to another parcel."
    )
    appealed = disputes.case(case.id)
    assert appealed.state == CaseState.APPEALED
    disputes.advance(appealed.sla_due_at - disputes.clock.now())
    # then: the appeal is overdue in the supervisor queue too
    assert disputes.case(case.id).overdue
    assert [c.id for c in disputes.app.disputes.supervisor_queue()] == [case.id]
