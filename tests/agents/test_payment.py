"""refund-charge and payment-history."""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway

DUPLICATE = {
    "charge_id": "CH-9",
    "duplicate_of": "CH-8",
    "invoice_id": "INV-2",
    "amount": 32.5,
    "currency": "EUR",
    "charged_at": "2025-11-03T09:00:00+00:00",
}


async def test_refunds_the_duplicate_on_yes(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    proposal = await payment.send("I was charged twice", "refund-charge")
    assert proposal.result.status == "input-required"
    assert "duplicate charge of €32.50 on 3 Nov" in proposal.text
    assert "payments.issue_refund" not in gateway.tools_called()

    done = await payment.send("Yes please", "refund-charge", state=proposal.result.skill_state)
    assert done.result.status == "completed"
    assert done.result.data["refund_id"] == "RF-1"
    assert "refund reference is RF-1" in done.text
    refund = gateway.last("payments.issue_refund")
    assert refund.args["charge_id"] == "CH-9" and refund.args["amount"] == 32.5
    assert refund.args["account_number"] == "ACC-1234567"
    assert refund.envelope is not None and refund.envelope["auth_context"] == "signed.auth.context"
    assert gateway.last("crm.log_interaction").args["topic"] == "refund-charge"


async def test_retried_yes_refunds_once(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    proposal = await payment.send("double charge", "refund-charge")
    first = await payment.send("yes", "refund-charge", state=proposal.result.skill_state)
    again = await payment.send("yes", "refund-charge", state=proposal.result.skill_state)
    assert first.result.data["refund_id"] == again.result.data["refund_id"] == "RF-1"
    assert len(gateway.refunds) == 1


async def test_no_means_nothing_refunded(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    proposal = await payment.send("double charge", "refund-charge")
    declined = await payment.send("nope", "refund-charge", state=proposal.result.skill_state)
    assert declined.result.status == "completed"
    assert declined.result.data == {"refunded": False}
    assert "haven't refunded anything" in declined.text
    assert "payments.issue_refund" not in gateway.tools_called()


async def test_no_duplicate_lists_recent_charges_and_offers_a_human(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    payment = await start_specialist("payment")
    answer = await payment.send("I think I paid twice", "refund-charge")
    assert answer.result.status == "completed"
    assert "couldn't find a duplicate charge" in answer.text
    assert "€19.00 (succeeded)" in answer.text
    assert "member of our team" in answer.text
    assert answer.result.data["duplicate_found"] is False


async def test_payment_history_lists_charges_and_refunds(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    payment = await start_specialist("payment")
    answer = await payment.send("show my payments", "payment-history")
    assert answer.result.status == "completed"
    assert "Your recent payments" in answer.text and "card ending 4242" in answer.text
    assert "no refunds" in answer.text
    assert answer.result.data == {"charges": 3, "refunds": 0}
    assert gateway.tools_called()[:2] == ["payments.list_charges", "payments.list_refunds"]
