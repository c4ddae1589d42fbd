"""human-handoff, verified or not."""

from __future__ import annotations

from shared.envelope import ContextEnvelope
from tests.agents.conftest import StartSpecialist, verified_envelope
from tests.agents.fake_gateway import FakeGateway


async def test_hands_off_a_verified_customer(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    escalation = await start_specialist("escalation")
    envelope = verified_envelope(summary="refund of a duplicate charge was declined")
    answer = await escalation.send("this is unacceptable, get me a person", "human-handoff", envelope=envelope)
    assert answer.result.status == "completed"
    # The place in the queue is the supervisor's to tell, from the console's own ordering.
    assert "in the queue" not in answer.text
    assert answer.result.data["handoff_id"] == "HO-1"
    request = gateway.last("support.request_human")
    assert request.args["conversation_id"] == "conv-1"
    assert request.args["summary"] == "refund of a duplicate charge was declined"
    assert request.args["priority"] == "high" and request.args["email"] == "ana@example.com"
    assert gateway.last("crm.log_interaction").args["outcome"] == "escalated"


async def test_hands_off_before_verification(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    escalation = await start_specialist("escalation")
    envelope = ContextEnvelope(conversation_id="anon-7")
    answer = await escalation.send("agent please", "human-handoff", envelope=envelope, reason="asked for a human")
    assert answer.result.status == "completed"
    request = gateway.last("support.request_human")
    assert request.args["email"] is None and request.args["priority"] == "normal"
    assert request.args["reason"] == "asked for a human"
    assert "crm.log_interaction" not in gateway.tools_called()


async def test_each_request_for_a_person_is_its_own_handoff(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    escalation = await start_specialist("escalation")
    for request_id in ("3.1", "3.1", "7.1"):  # a redelivery of turn 3, then a new request after a hand-back
        await escalation.send("a person please", "human-handoff", request_id=request_id)
    keys = [c.args["idempotency_key"] for c in gateway.calls if c.tool == "support.request_human"]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]
