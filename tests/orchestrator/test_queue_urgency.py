"""Urgent cases come first in the human queue: then high, then normal; first come, first served within each."""

from __future__ import annotations

import pytest

from agents.escalation.handoff import priority_of
from orchestrator.cases.queue import QueueSettings, build_queue, position_in, waiting_in_order
from orchestrator.cases.urgency import mark_urgent, raise_priority, urgent_reasons
from orchestrator.conversations import ConversationState, HandoffEvent, ToolCallEvent
from shared.escalation import HandoffNotes, Priority


def _case(
    cid: str, at: float, priority: Priority = "normal", reason: str = "customer asked for a person"
) -> ConversationState:
    notes = HandoffNotes(summary="", suggested_next_step="", priority=priority, reason=reason)
    return ConversationState(conversation_id=cid, status="escalated", escalation=notes, escalated_at=at)


def _handoff(to: str, skill: str, at: float = 1.0) -> HandoffEvent:
    return HandoffEvent(at=at, to_agent=to, skill=skill, reason="")


def test_urgent_first_then_high_then_normal_and_fifo_within_each() -> None:
    cases = [
        _case("normal-old", 1.0),
        _case("high-old", 2.0, "high"),
        _case("urgent-new", 9.0, "urgent"),
        _case("normal-new", 5.0),
        _case("urgent-old", 3.0, "urgent"),
        _case("high-new", 8.0, "high"),
    ]
    order = [s.conversation_id for s in waiting_in_order(cases)]
    assert order == ["urgent-old", "urgent-new", "high-old", "high-new", "normal-old", "normal-new"]
    queue = build_queue(cases, QueueSettings(), now=10.0)
    assert [(i.conversation_id, i.position, i.priority) for i in queue.items][:2] == [
        ("urgent-old", 1, "urgent"),
        ("urgent-new", 2, "urgent"),
    ]
    told = position_in(cases, "urgent-new", QueueSettings(seconds_per_case=60))
    assert told is not None and told.position == 2 and told.priority == "urgent"
    assert told.estimated_wait_seconds == 120.0


def test_a_stolen_phone_is_urgent() -> None:
    state = _case("c", 1.0)
    state.handoffs = [_handoff("support", "report-lost-phone"), _handoff("escalation", "human-handoff")]
    mark_urgent(state)
    assert state.escalation is not None and state.escalation.priority == "urgent"
    assert state.escalation.urgent_because == ["lost or stolen phone reported in this conversation"]


@pytest.mark.parametrize(
    "reason",
    [
        "someone has been using my account, I think it's fraud",
        "my phone was stolen this morning",
        "payment paused: the SIM on the line changed recently",
    ],
)
def test_fraud_and_takeover_words_are_urgent(reason: str) -> None:
    state = _case("c", 1.0, reason=reason)
    mark_urgent(state)
    assert state.escalation is not None and state.escalation.priority == "urgent"
    assert "fraud or account takeover" in state.escalation.urgent_because[0]


def test_a_vulnerable_customer_is_urgent() -> None:
    state = _case("c", 1.0, reason="my husband passed away and I can't cope with these bills")
    assert any("vulnerable" in r for r in urgent_reasons(state, state.escalation.reason if state.escalation else ""))


def test_asking_for_a_person_twice_is_urgent() -> None:
    state = _case("c", 1.0)
    state.handoffs = [_handoff("escalation", "human-handoff", 1.0)]
    assert urgent_reasons(state, "") == []
    state.handoffs.append(_handoff("escalation", "human-handoff", 2.0))
    assert urgent_reasons(state, "") == ["the customer asked for a person 2 times"]


def test_the_same_thing_failing_twice_is_urgent() -> None:
    state = _case("c", 1.0)
    failed = ToolCallEvent(
        at=1.0, agent="billing", skill="change-plan", tool="billing.change_plan", decision="allow", ok=False
    )
    state.tool_calls = [failed]
    assert urgent_reasons(state, "") == []
    state.tool_calls.append(failed.model_copy(update={"at": 2.0}))
    assert urgent_reasons(state, "") == ["repeated failure: billing.change_plan failed 2 times"]


def test_two_wrong_codes_are_a_repeated_failure() -> None:
    state = _case("c", 1.0)
    state.summaries = ["identity: wrong code, 2 attempts left", "identity: wrong code, 1 attempts left"]
    assert urgent_reasons(state, "") == ["repeated failure: a wrong verification code 2 times"]


def test_an_ordinary_request_stays_as_the_specialist_set_it() -> None:
    state = _case("c", 1.0, "high", reason="the customer wants to complain about their bill")
    mark_urgent(state)
    assert state.escalation is not None and state.escalation.priority == "high"
    assert state.escalation.urgent_because == []
    assert raise_priority("urgent", []) == "urgent"  # never lowered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my phone was stolen, get me a person", "urgent"),
        ("I think this is fraud", "urgent"),
        ("this is unacceptable, I want to complain", "high"),
        ("can I talk to someone", "normal"),
    ],
)
def test_the_escalation_specialist_hears_urgency_in_words(text: str, expected: str) -> None:
    assert priority_of(text) == expected
