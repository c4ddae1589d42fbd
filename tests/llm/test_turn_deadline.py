"""One deadline per turn: the model's calls get what is left, and a stall ends in a true answer.

The scripted double stalls like a one-at-a-time server busy with another request. Each case ends
with the customer told what happened, and nothing started after the deadline.
"""

from __future__ import annotations

import time

import pytest

from agents.runtime.llm import ScriptedModel, reply
from shared.deadline import DeadlinePassed
from shared.envelope import ContextEnvelope
from shared.llm.budget import ModelBudget
from shared.llm.scripted import STALL
from tests.agents.conftest import verified_envelope
from tests.agents.fake_gateway import FakeGateway
from tests.llm.conftest import StartLLMSpecialist

ANSWER = "answer_customer"


def answer(text: str, status: str = "completed") -> object:
    return reply("", (ANSWER, {"text": text, "status": status}))


def with_deadline(seconds: float):
    return verified_envelope().model_copy(update={"deadline_at": time.time() + seconds})


def test_max_tokens_and_the_time_out_follow_from_the_time_left() -> None:
    budget = ModelBudget(max_tokens=600, timeout_seconds=60, tokens_per_second=10, first_token_seconds=2)
    assert budget.call(None) == (60, 580)  # no deadline: the configured limits, tokens cut to fit
    assert budget.call(12) == (12, 100)  # 10 s of writing at 10 tokens a second
    timeout, tokens = budget.call(500)
    assert (timeout, tokens) == (60, 580)  # never more than configured
    with pytest.raises(DeadlinePassed):
        budget.call(2.5)  # not even the shortest answer fits


async def test_every_model_call_is_cut_to_what_is_left_of_the_turn(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = ScriptedModel.of(reply("", ("billing__list_invoices", {"limit": 2})), answer("Your bill is as before."))
    billing = await start_llm_specialist("billing", model)
    await billing.send("why is my bill higher?", "explain-bill", envelope=with_deadline(30))
    first, second = model.requests
    assert first.timeout_seconds is not None and first.timeout_seconds <= 20  # the configured model time-out
    assert second.timeout_seconds is not None and second.max_tokens is not None and second.max_tokens <= 600


async def test_a_model_that_stalls_past_the_deadline_ends_in_a_true_answer(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = ScriptedModel.of(STALL)
    billing = await start_llm_specialist("billing", model)
    result = await billing.send("why is my bill higher?", "explain-bill", envelope=with_deadline(3.5))
    assert result.result.status == "failed" and result.result.data["out_of_time"] is True
    assert "taking longer than it should" in result.text and "Nothing has been changed" in result.text
    assert gateway.calls == []  # the procedure was not started after the deadline either
    assert len(model.requests) == 1 and model.requests[0].timeout_seconds is not None
    assert model.requests[0].timeout_seconds <= 3.5


async def test_a_stall_after_a_side_effect_says_what_did_happen(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    # The model opened a ticket after the customer's yes, then stalled: the customer hears about the ticket.
    model = ScriptedModel.of(
        answer("Shall I open a ticket for our network team?", "input-required"),
        reply("", ("support__open_ticket", {"category": "data", "summary": "no data", "priority": "normal"})),
        STALL,
    )
    support = await start_llm_specialist("support", model)
    asked = await support.send("my data stopped working", "troubleshoot-service")
    assert asked.result.status == "input-required"
    done = await support.send("yes", "troubleshoot-service", task=asked, envelope=with_deadline(4.5))
    assert [c.tool for c in gateway.calls] == ["support.open_ticket"]
    assert done.result.data["out_of_time"] is True and done.result.status == "failed"
    assert "I've opened a support ticket for you" in done.text and "Nothing else was changed" in done.text


async def test_no_tool_call_starts_after_the_deadline(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = ScriptedModel.of(reply("", ("billing__list_invoices", {"limit": 2})), answer("Your bill is as before."))
    billing = await start_llm_specialist("billing", model)
    result = await billing.send("why is my bill higher?", "explain-bill", envelope=with_deadline(-1))
    assert result.result.data["out_of_time"] is True and "Nothing has been changed" in result.text
    assert gateway.calls == [] and model.requests == []


async def test_a_code_sent_is_said_even_when_the_model_would_stall_the_rephrasing(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    # The case: the code went out while a slow rephrasing ran the turn out, and the customer
    # read "couldn't reach our identity team". Now a rephrasing gets only spare time, so the
    # procedure's own words ("I've sent a 6-digit code") come back within the deadline.
    model = ScriptedModel.of(then=STALL)
    identity = await start_llm_specialist("identity", model)
    first = await identity.send("hi, I need help", "verify-identity", envelope=_anonymous(8))
    sent = await identity.send("it's ana@example.com", "verify-identity", envelope=_anonymous(8), task=first)
    assert "I've sent a 6-digit code" in sent.text, sent.text
    assert gateway.last("identity.start_verification")
    # The rephrasings were tried, each with at most half of what was left, and abandoned.
    assert model.requests and all(r.timeout_seconds is not None and r.timeout_seconds <= 4 for r in model.requests)


def _anonymous(seconds: float) -> ContextEnvelope:
    return ContextEnvelope(conversation_id="conv-code", deadline_at=time.time() + seconds)
