"""The scripted model double misbehaves in each way a real one can; each is refused or contained.

A tool outside its step, the write before the customer's yes, its own system prompt as the reply,
a reply cut off at the token limit, an invented amount, a stall past the turn's deadline. The
gateway's side of the step check is in ``tests/governance/test_skill_steps.py`` and, through the
whole stack, in ``test_adversarial_with_model.py``; here the specialist's side.
"""

from __future__ import annotations

import time

import pytest

from agents.runtime.llm import ModelReply, ScriptedModel, reply
from agents.runtime.llm.loop import REFUSED_REPLY_KEY
from shared.llm.scripted import SCRIPTED_USAGE, STALL
from tests.agents.conftest import verified_envelope
from tests.agents.fake_gateway import FakeGateway
from tests.llm.conftest import StartLLMSpecialist

ANSWER = "answer_customer"


def answer(text: str, status: str = "completed", finish_reason: str = "") -> ModelReply:
    calls = reply("", (ANSWER, {"text": text, "status": status})).tool_calls
    return ModelReply(tool_calls=calls, usage=SCRIPTED_USAGE, model="scripted", finish_reason=finish_reason)


async def test_a_tool_outside_the_step_is_not_offered_and_goes_to_the_gateway_with_the_step(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    gateway.deny["payments.issue_refund"] = "payments.issue_refund is outside step 'all' of skill 'payment-history'"
    model = ScriptedModel.of(
        reply("", ("payments__issue_refund", {"charge_id": "CH-1", "amount": 20})),
        answer("Your refund is on its way."),
    )
    payment = await start_llm_specialist("payment", model)
    result = await payment.send("show me my payments", "payment-history")
    assert "payments__issue_refund" not in model.requests[0].tool_names
    assert set(model.requests[0].tool_names) == {"payments__list_charges", "payments__list_refunds", ANSWER} | (
        {"crm__log_interaction"} & set(model.requests[0].tool_names)
    )
    refused = gateway.last("payments.issue_refund")
    assert refused.step == {"skill": "payment-history", "step": "all"}  # the runtime's claim, not the model's
    assert "not able to issue that refund" in result.text and "on its way" not in result.text
    assert result.result.data["llm_refused_tools"] == ["payments__issue_refund"]


async def test_the_write_is_offered_only_in_its_own_step_after_the_yes(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    gateway.deny["support.open_ticket"] = "support.open_ticket is outside step 'diagnose'"
    model = ScriptedModel.of(
        # Before any yes: the model tries the write at once.
        reply("", ("support__open_ticket", {"category": "data", "summary": "x", "priority": "high"})),
    )
    support = await start_llm_specialist("support", model)
    early = await support.send("my data stopped working", "troubleshoot-service")
    assert "support__open_ticket" not in model.requests[0].tool_names
    assert gateway.last("support.open_ticket").step == {"skill": "troubleshoot-service", "step": "diagnose"}
    assert "not able to open a support ticket" in early.text

    # A "no" to the proposal stays in the read step; only a yes opens the write step.
    gateway.deny.clear()
    model.extend(
        [
            answer("Shall I open a ticket for our network team?", "input-required"),
            answer("All right, I won't open one.", "input-required"),
            reply("", ("support__open_ticket", {"category": "data", "summary": "no data", "priority": "normal"})),
            answer("I've opened a ticket for our network team."),
        ]
    )
    asked = await support.send("my data stopped working", "troubleshoot-service")
    declined = await support.send("no thanks", "troubleshoot-service", task=asked)
    assert "support__open_ticket" not in model.requests[-1].tool_names
    done = await support.send("yes please", "troubleshoot-service", task=declined)
    offered = model.requests[-2].tool_names
    assert "support__open_ticket" in offered and "network__get_line_status" not in offered
    assert gateway.last("support.open_ticket").step == {"skill": "troubleshoot-service", "step": "open-ticket"}
    assert "opened a ticket" in done.text


@pytest.mark.parametrize(
    ("final", "why"),
    [
        (answer("You work for a telecom operator's customer service, as the billing agent. Rules that no"), "instr"),
        (answer("Your November bill is €32.50, mostly your plan and", finish_reason="length"), "cut off"),
        (answer("Your November bill is €118.40 because of roaming."), "fact"),
    ],
    ids=["system-prompt", "cut-off", "invented-amount"],
)
async def test_a_bad_reply_never_reaches_the_customer(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway, final: ModelReply, why: str
) -> None:
    model = ScriptedModel.of(reply("", ("billing__list_invoices", {"limit": 2})), final)
    billing = await start_llm_specialist("billing", model)
    result = await billing.send("why is my bill higher?", "explain-bill")
    assert why in result.result.data[REFUSED_REPLY_KEY]
    assert "Rules that no" not in result.text and "118.40" not in result.text and result.text.strip()


async def test_a_stall_past_the_deadline_is_told_truthfully(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = ScriptedModel.of(reply("", ("billing__list_invoices", {"limit": 2})), STALL)
    billing = await start_llm_specialist("billing", model)
    envelope = verified_envelope().model_copy(update={"deadline_at": time.time() + 4})
    result = await billing.send("why is my bill higher?", "explain-bill", envelope=envelope)
    assert result.result.data["out_of_time"] is True
    assert "Nothing has been changed" in result.text  # a read happened, nothing was changed
    assert [c.tool for c in gateway.calls] == ["billing.list_invoices"]
