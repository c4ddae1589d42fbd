"""The account, billing and payment skills against the stand-in gateway: a dead system, a refusal, no yes."""

from __future__ import annotations

import pytest

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway

WRITES = {
    "billing.send_invoice_copy",
    "billing.close_account",
    "billing.arrange_payment",
    "identity.update_contact_details",
}
# (agent, skill, what the customer says, the system that is down)
SKILLS = [
    ("billing", "invoice-copy", "can you resend my last bill", "billing"),
    ("billing", "close-account", "please close my account", "billing"),
    ("payment", "payment-arrangement", "can i pay my bill in 3 instalments", "billing"),
    ("payment", "refund-status", "where is my refund", "payments"),
    ("identity", "update-contact", "change my email to new.ana@example.org", "identity"),
]


@pytest.mark.parametrize(("agent", "skill", "text", "system"), SKILLS, ids=[s[1] for s in SKILLS])
async def test_a_dead_system_gets_a_plain_answer_and_changes_nothing(
    start_specialist: StartSpecialist, gateway: FakeGateway, agent: str, skill: str, text: str, system: str
) -> None:
    gateway.down = {system}
    specialist = await start_specialist(agent)
    answer = await specialist.send(text, skill)
    assert answer.result.status == "failed", answer.text
    assert "isn't answering" in answer.text and "Nothing has been changed" in answer.text
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "escalation"
    assert not WRITES & set(gateway.tools_called())


async def test_an_invoice_copy_is_not_sent_without_a_yes(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    offered = await billing.send("i need a copy of my october invoice", "invoice-copy")
    assert offered.result.status == "input-required"
    assert "October 2025 invoice (INV-1, £18.00)" in offered.text
    declined = await billing.send("no thanks", "invoice-copy", task=offered)
    assert declined.result.status == "completed" and declined.result.data == {"sent": False}
    assert "billing.send_invoice_copy" not in gateway.tools_called()


async def test_a_refused_contact_change_is_a_rejected_task(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.deny["identity.update_contact_details"] = "guard.contact-change-needs-aal2: needs AAL2"
    identity = await start_specialist("identity")
    asked = await identity.send("change my email to new.ana@example.org", "update-contact")
    assert asked.result.status == "input-required" and "new.ana@example.org" in asked.text
    refused = await identity.send("yes", "update-contact", task=asked)
    assert refused.result.status == "rejected", refused.text
    step = gateway.last("identity.update_contact_details").step
    assert step == {"skill": "update-contact", "step": "update"}


async def test_a_phone_number_change_is_handed_to_a_person(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    identity = await start_specialist("identity")
    answer = await identity.send("i want to change my mobile number on the account", "update-contact")
    assert answer.result.status == "completed" and "can't be changed in a chat" in answer.text
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "escalation"
    assert "identity.update_contact_details" not in gateway.tools_called()
