"""The structured hand-off summary: what was wanted, identity, actions with references, open items, tone."""

from __future__ import annotations

from orchestrator.cases.actions import record_actions, settle_approval
from orchestrator.cases.case_summary import build_case_summary, sentiment
from orchestrator.conversations import ConversationState, Goal, HandoffEvent, TranscriptEntry, collapse_repeats
from shared.escalation import HandoffNotes, PendingApproval
from shared.handoff import SpecialistResult, ToolCallSummary


def _said(at: float, text: str, role: str = "customer") -> TranscriptEntry:
    return TranscriptEntry(at=at, role=role, text=text, channel="chat")  # type: ignore[arg-type]


def _result(skill: str, summary: str, status: str = "completed", **data: object) -> SpecialistResult:
    return SpecialistResult(status=status, skill=skill, summary=summary, data=dict(data))  # type: ignore[arg-type]


def _state() -> ConversationState:
    state = ConversationState(conversation_id="c-1", status="escalated", escalated_at=9.0)
    state.escalation = HandoffNotes(summary="", suggested_next_step="", urgent_because=["asked twice"])
    return state


def test_actions_carry_names_currency_and_references_once() -> None:
    state = _state()
    plan = _result(
        "change-plan",
        "plan changed from Essential 10GB to Plus 60GB, effective 1 Jun",
        changed=True,
        old_plan_id="NW-ESS-10",
        new_plan_id="NW-PLUS-60",
        old_plan_name="Essential 10GB",
        new_plan_name="Plus 60GB",
        effective_from="2026-06-01",
    )
    refund = _result(
        "refund-charge", "refunded £42.00", refunded=True, refund_id="RF-9", amount="42.00", currency="GBP"
    )
    ticket = _result("make-complaint", "complaint recorded", ticket_id="TCK-7", priority="high")
    for result, agent in ((plan, "billing"), (refund, "payment"), (refund, "payment"), (ticket, "support")):
        record_actions(state, agent, result.skill, result)
    lines = [(a.what, a.reference) for a in state.actions]
    assert lines == [
        ("Plan changed from Essential 10GB to Plus 60GB, effective 2026-06-01", None),
        ("Refunded £42.00 for a duplicate charge", "RF-9"),
        ("Ticket opened (high priority)", "TCK-7"),
    ]
    assert not any("NW-" in what for what, _ in lines)  # names, never plan ids


def test_a_code_sent_and_a_held_refund_that_is_then_approved() -> None:
    state = _state()
    sent = _result("verify-identity", "verification code requested", status="input-required")
    sent.tool_calls = [ToolCallSummary(tool="identity.start_verification", decision="allow", ok=True)]
    record_actions(state, "identity", "verify-identity", sent)
    held = _result(
        "refund-charge", "awaits", status="input-required", approval_pending=True, approval_id="APR-1", amount="60.00"
    )
    record_actions(state, "payment", "refund-charge", held)
    assert [(a.what, a.outcome) for a in state.actions] == [
        ("One-time verification code sent", "done"),
        ("Refund of £60.00 held for a person's approval", "waiting"),
    ]
    settle_approval(state, "APR-1", "executed")
    assert (state.actions[-1].what, state.actions[-1].outcome) == ("Refund of £60.00 approved by a person", "done")


def test_the_summary_says_what_was_wanted_once_and_what_is_open() -> None:
    state = _state()
    state.handoffs = [
        HandoffEvent(at=1.0, to_agent="billing", skill="change-plan", reason="", status="input-required"),
        HandoffEvent(at=2.0, to_agent="identity", skill="verify-identity", reason="", status="completed"),
        HandoffEvent(at=3.0, to_agent="billing", skill="change-plan", reason="", status="input-required"),
        HandoffEvent(at=5.0, to_agent="escalation", skill="human-handoff", reason="", status="completed"),
    ]
    state.queued = Goal(agent="support", skill="track-order", text="and where is my new phone?")
    transcript = [
        _said(0.5, "I want a bigger plan"),
        _said(2.5, "the big one"),
        _said(4.0, "this is RIDICULOUS, I asked three times, just get me a PERSON"),
    ]
    approval = PendingApproval(
        id="APR-2",
        status="pending",
        agent="payment",
        tool="payments.issue_refund",
        conversation_id="c-1",
        arguments={},
        policy_ids=[],
        reason="above the threshold",
        created_at=1.0,
        expires_at=2.0,
    )
    summary = build_case_summary(state, transcript, [approval], "Decide the approval first", now=6.0)
    assert summary.customer_wanted == [
        "Change plan: “I want a bigger plan”",
        "Human handoff: “this is RIDICULOUS, I asked three times, just get me a PERSON”",
    ]
    assert summary.open_items == [
        "Approval APR-2 waiting: payments.issue_refund requested by payment (above the threshold)",
        "Track order (“and where is my new phone?”): asked for in the same message, not started yet",
        "Change plan: not finished: it was waiting for the customer's answer",
    ]
    assert not summary.identity.verified and summary.identity.how == "not verified in this conversation"
    assert summary.sentiment == "angry" and "ridiculous" in summary.sentiment_cues
    assert summary.urgent_because == ["asked twice"] and summary.suggested_next_step == "Decide the approval first"


def test_tone_from_the_customers_words_only() -> None:
    calm = [_said(1.0, "could you check my bill please"), _said(2.0, "this is unacceptable", role="agent")]
    assert sentiment(calm) == ("calm", [])
    assert sentiment([_said(1.0, "my phone was stolen and I'm worried")])[0] == "distressed"
    assert sentiment([_said(1.0, "still not working, fed up")]) == ("frustrated", ["still"])


def test_repeated_steps_are_said_once() -> None:
    steps = ["billing: asked which plan", "billing: asked which plan", "billing: customer named their current plan"]
    steps.append("billing: asked which plan")
    assert collapse_repeats(steps) == [
        "billing: asked which plan (3 times)",
        "billing: customer named their current plan",
    ]
    assert collapse_repeats(steps, anywhere=False) == [
        "billing: asked which plan (2 times)",
        "billing: customer named their current plan",
        "billing: asked which plan",
    ]
    state = ConversationState(conversation_id="c", summaries=steps)
    assert state.summary.count("asked which plan") == 1
