"""The hand-over summary for the human agent is written by the model, with a safe fallback."""

from __future__ import annotations

from agents.runtime.llm import ModelUnavailable, ScriptedModel, reply
from tests.agents.conftest import verified_envelope
from tests.agents.fake_gateway import FakeGateway
from tests.llm.conftest import StartLLMSpecialist


async def test_the_model_writes_the_summary(start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway) -> None:
    summary = ScriptedModel.of(reply("Wants a duplicate charge refunded; refund was declined. Call ana@example.com"))
    escalation = await start_llm_specialist("escalation", None, summary_model=summary)
    envelope = verified_envelope(summary="refund of a duplicate charge was declined")
    answer = await escalation.send("this is unacceptable, get me a person", "human-handoff", envelope=envelope)
    sent = gateway.last("support.request_human").args["summary"]
    assert sent == "Wants a duplicate charge refunded; refund was declined. Call [email]"
    assert answer.result.data["llm_usage"]["agent"] == "escalation"
    case = summary.requests[0].text()
    assert "<case>" in case and "refund of a duplicate charge was declined" in case
    assert "ana@example.com" not in case


async def test_a_failing_model_keeps_the_supervisors_summary(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    summary = ScriptedModel.of(ModelUnavailable("provider down"))
    escalation = await start_llm_specialist("escalation", None, summary_model=summary)
    envelope = verified_envelope(summary="plan change questions")
    answer = await escalation.send("human please", "human-handoff", envelope=envelope)
    assert answer.result.status == "completed"
    assert gateway.last("support.request_human").args["summary"] == "plan change questions"
    assert "llm_usage" not in answer.result.data


async def test_the_handoff_itself_stays_deterministic_with_a_specialist_model(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = ScriptedModel(then=reply("I've asked a member of our team to join. You're number 2 in the queue."))
    escalation = await start_llm_specialist("escalation", model)
    answer = await escalation.send("agent please", "human-handoff")
    assert "support.request_human" in gateway.tools_called()
    assert all(r.tools == () for r in model.requests)
    assert "I've asked a member of our team" in answer.text and "number 2" not in answer.text
