"""human-handoff, verified or not, behind the real gateway and the reference support system."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from shared.envelope import ContextEnvelope
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def escalation(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(Path(tmp_path_factory.mktemp("escalation")), "escalation") as running:
        yield running


async def test_hands_off_a_verified_customer(escalation: AgentOnStack) -> None:
    ana = escalation.customers(3)[0]
    envelope = escalation.envelope(ana).model_copy(update={"summary": "refund of a duplicate charge was declined"})
    answer = await escalation.specialist.send(
        "this is unacceptable, get me a person", "human-handoff", envelope=envelope
    )
    assert answer.result.status == "completed"
    # The place in the queue is the supervisor's to tell, from the console's own ordering.
    assert "in the queue" not in answer.text
    assert answer.result.data["handoff_id"]
    calls = escalation.calls(envelope.conversation_id)
    request = next(c for c in calls if c.tool == "support.request_human")
    assert request.decision == "allow" and request.args["conversation_id"] == envelope.conversation_id
    assert request.args["summary"] == "refund of a duplicate charge was declined"
    assert request.args["priority"] == "high" and request.args["email"] == ana["email"]
    logged = next(c for c in calls if c.tool == "crm.log_interaction")
    assert logged.args["outcome"] == "escalated"


async def test_hands_off_before_verification(escalation: AgentOnStack) -> None:
    envelope = ContextEnvelope(conversation_id="anon-7")
    answer = await escalation.specialist.send(
        "agent please", "human-handoff", envelope=envelope, reason="asked for a human"
    )
    assert answer.result.status == "completed"
    calls = escalation.calls("anon-7")
    request = next(c for c in calls if c.tool == "support.request_human")
    assert request.decision == "allow" and request.args.get("email") is None
    assert request.args["priority"] == "normal" and request.args["reason"] == "asked for a human"
    assert "crm.log_interaction" not in [c.tool for c in calls]


async def test_each_request_for_a_person_is_its_own_handoff(escalation: AgentOnStack) -> None:
    envelope = escalation.envelope(escalation.customers(3)[1])
    for request_id in ("3.1", "3.1", "7.1"):  # a redelivery of turn 3, then a new request after a hand-back
        await escalation.specialist.send("a person please", "human-handoff", envelope=envelope, request_id=request_id)
    requests = [c for c in escalation.calls(envelope.conversation_id) if c.tool == "support.request_human"]
    keys = [c.args["idempotency_key"] for c in requests]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]
