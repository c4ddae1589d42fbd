"""sign-in-help: a link to the email on record, for a password or a registration, after verification."""

from __future__ import annotations

from shared.envelope import ContextEnvelope
from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_forgotten_password_gets_a_reset_link(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    identity = await start_specialist("identity")
    answer = await identity.send("i forgot my password for the app", "sign-in-help")
    assert answer.result.status == "completed"
    sent = gateway.last("identity.send_sign_in_link").args
    assert sent["customer_id"] == "CUST-00001" and sent["purpose"] == "password-reset"
    assert sent["idempotency_key"]
    assert "a••@example.com" in answer.text and "set a new password" in answer.text
    assert answer.result.data["link_id"] == "LNK-1"


async def test_a_stuck_registration_gets_a_registration_link(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    identity = await start_specialist("identity")
    answer = await identity.send("I never got the confirmation email when I signed up online", "sign-in-help")
    assert gateway.last("identity.send_sign_in_link").args["purpose"] == "registration"
    assert "finish setting up your online account" in answer.text


async def test_nothing_is_sent_before_verification(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    identity = await start_specialist("identity")
    answer = await identity.send("forgot my password", "sign-in-help", envelope=ContextEnvelope(conversation_id="c"))
    assert answer.result.status == "auth-required"
    assert gateway.calls == []
