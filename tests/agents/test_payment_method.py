"""payment-method: why a payment failed, the card on file, and autopay switched only when asked."""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_a_declined_payment_is_explained_by_the_expired_card(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    payment = await start_specialist("payment")
    answer = await payment.send("my card was declined when you tried to take my bill", "payment-method")
    assert answer.result.status == "completed"
    assert gateway.last("payments.get_payment_method").args == {"account_number": "ACC-1234567"}
    assert "invoice INV-2 for £32.50 is still unpaid" in answer.text
    assert "card ending 4242, expired at the end of 09/2026" in answer.text
    assert "app or our website" in answer.text and "never take card numbers" in answer.text
    assert "payments.set_autopay" not in gateway.tools_called()
    assert answer.result.data["unpaid"] == ["INV-2"] and answer.result.data["card_expired"] is True


async def test_autopay_is_switched_on_once_after_a_yes(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    payment = await start_specialist("payment")
    proposal = await payment.send("please set up autopay for my bills", "payment-method")
    assert proposal.result.status == "input-required" and "Shall I switch on autopay" in proposal.text
    assert "payments.set_autopay" not in gateway.tools_called()
    assert {(c.step or {}).get("step") for c in gateway.calls} == {"review"}
    answer = await payment.send("yes", "payment-method", task=proposal)
    switched = gateway.last("payments.set_autopay")
    assert switched.args["enabled"] is True and switched.step == {"skill": "payment-method", "step": "autopay"}
    assert "I've switched on autopay" in answer.text and answer.result.data["autopay_changed"] is True
    again = await payment.send("set up autopay please", "payment-method")
    assert gateway.tools_called().count("payments.set_autopay") == 1
    assert "Autopay is on" in again.text and again.result.status == "completed"


async def test_a_no_leaves_autopay_as_it_is(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    payment = await start_specialist("payment")
    proposal = await payment.send("turn on autopay", "payment-method")
    answer = await payment.send("no thanks", "payment-method", task=proposal)
    assert answer.result.status == "completed" and "left autopay as it is" in answer.text
    assert "payments.set_autopay" not in gateway.tools_called()
