"""A request for another specialist is never trapped by a question a specialist is waiting on."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import small_refund_customers

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_refund_request_while_billing_waits_for_a_plan_choice_goes_to_payment(
    chat: Chat, running: RunningStack
) -> None:
    customer = small_refund_customers(running.data_dir)[7]
    plans = await chat.verify(customer, "I'd like to change my plan")
    assert (plans["agent"], plans["status"]) == ("billing", "input-required"), plans

    refund = await chat.say("refund me 8 pounds")
    assert refund["agent"] == "payment" and refund["skill"] == "refund-charge", refund
    # Billing's question is dropped out loud, not left hanging.
    assert "put your change plan request on hold" in refund["reply"], refund
    state = await chat.state()
    assert state["active"] is None or state["active"]["agent"] == "payment", state

    again = await chat.say("ok, now change my plan please")
    assert again["agent"] == "billing" and again["status"] == "input-required", again
