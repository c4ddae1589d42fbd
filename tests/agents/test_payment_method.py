"""payment-method: why a payment failed, the card on file, and autopay switched only when asked.

Behind the real gateway, payments and billing systems: the customers (an expired card, autopay
off) are found in the reference data, and the reply is checked against what those systems hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def payment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("payment-method"), "payment") as running:
        yield running


async def _method(payment: AgentOnStack, who: dict[str, Any]) -> dict[str, Any]:
    args = {"account_number": who["account_number"]}
    return await payment.read("payments.get_payment_method", args, payment.envelope(who))


async def _customer(payment: AgentOnStack, **wanted: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first reference customer whose payment method has the ``wanted`` values."""
    for who in payment.customers(120):
        method = await _method(payment, who)
        if all(bool(method.get(k)) is v for k, v in wanted.items()):
            return who, method
    raise AssertionError(f"no reference customer with a payment method {wanted}")


async def test_a_declined_payment_is_explained_by_the_expired_card(payment: AgentOnStack) -> None:
    who, method = await _customer(payment, card_expired=True)
    envelope = payment.envelope(who)
    text = "my card was declined when you tried to take my bill"
    answer = await payment.specialist.send(text, "payment-method", envelope=envelope)
    assert answer.result.status == "completed"
    year, _, month = str(method["card_expiry"]).partition("-")
    assert f"card ending {method['card_last4']}, expired at the end of {month}/{year}" in answer.text
    assert "app or our website" in answer.text and "never take card numbers" in answer.text
    tools = [c.tool for c in payment.calls(envelope.conversation_id)]
    assert "payments.get_payment_method" in tools and "payments.set_autopay" not in tools
    assert answer.result.data["card_expired"] is True
    invoices = await payment.read("billing.list_invoices", {"msisdn": who["msisdn"], "limit": 3}, envelope)
    unpaid = [i["invoice_id"] for i in invoices["invoices"] if i["status"] != "paid"]
    assert answer.result.data["unpaid"] == unpaid and all(f"invoice {i} for" in answer.text for i in unpaid)


async def test_autopay_is_switched_on_once_after_a_yes(payment: AgentOnStack) -> None:
    who, _ = await _customer(payment, autopay=False)
    envelope = payment.envelope(who)
    proposal = await payment.specialist.send("please set up autopay for my bills", "payment-method", envelope=envelope)
    assert proposal.result.status == "input-required" and "Shall I switch on autopay" in proposal.text
    assert "payments.set_autopay" not in [c.tool for c in payment.calls(envelope.conversation_id)]
    answer = await payment.specialist.send("yes", "payment-method", task=proposal, envelope=envelope)
    assert "I've switched on autopay" in answer.text and answer.result.data["autopay_changed"] is True
    assert (await _method(payment, who))["autopay"] is True
    again = await payment.specialist.send("set up autopay please", "payment-method", envelope=envelope)
    assert "Autopay is on" in again.text and again.result.status == "completed"
    switched = [c for c in payment.calls(envelope.conversation_id) if c.tool == "payments.set_autopay"]
    assert [(c.decision, c.args["enabled"]) for c in switched] == [("allow", True)]


async def test_a_no_leaves_autopay_as_it_is(payment: AgentOnStack) -> None:
    who, _ = await _customer(payment, autopay=False)
    envelope = payment.envelope(who)
    proposal = await payment.specialist.send("turn on autopay", "payment-method", envelope=envelope)
    answer = await payment.specialist.send("no thanks", "payment-method", task=proposal, envelope=envelope)
    assert answer.result.status == "completed" and "left autopay as it is" in answer.text
    assert "payments.set_autopay" not in [c.tool for c in payment.calls(envelope.conversation_id)]
    assert (await _method(payment, who))["autopay"] is False
