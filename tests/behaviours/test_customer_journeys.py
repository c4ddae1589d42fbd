"""Behaviours 1-3: one verification across agents, one truth about the plan, history remembered."""

from __future__ import annotations

import pytest

from tests.behaviours.conftest import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

WITHOUT_ROAMING = {"NW-BASIC-2", "NW-ESS-10", "NW-EVR-30"}


async def test_1_authentication_handoff(deployment: Deployment, new_customer) -> None:  # type: ignore[no-untyped-def]
    customer = (await deployment.customers(has_duplicate_charge=True))[0]
    chat = await new_customer()
    bill = await chat.verify(customer, "can you explain my last bill?")
    assert bill["verified"] is True and bill["agent"] == "billing", bill
    refund = await chat.say("also I think I was charged twice, I want my money back")
    assert refund["agent"] == "payment" and "identity" not in refund["handoffs"], refund
    state = await chat.state()
    assert [h["to_agent"] for h in state["handoffs"]].count("identity") == 1

    # Someone else's conversation token opens nothing.
    other = await new_customer()
    stolen = await chat.http.get(
        f"/api/conversations/{chat.conversation_id}", headers={"Authorization": f"Bearer {other.token}"}
    )
    assert stolen.status_code == 401, stolen.text


async def test_2_data_discrepancy(deployment: Deployment, new_customer) -> None:  # type: ignore[no-untyped-def]
    candidates = await deployment.customers(has_open_ticket=False)
    customer = [c for c in candidates if c["plan_id"] in WITHOUT_ROAMING][1]
    chat = await new_customer()
    opened = await chat.verify(customer, "I'd like to change my plan")
    assert opened["agent"] == "billing" and opened["status"] == "input-required", opened
    picked = await chat.say("the Plus 60GB one please")
    if picked["status"] == "input-required":
        picked = await chat.say("yes, go ahead")
    assert picked["status"] == "completed" and picked["data"].get("new_plan_id") == "NW-PLUS-60", picked
    support = await chat.say("my phone won't connect to any network here in Spain, roaming isn't working")
    assert support["agent"] == "support" and support["data"].get("plan_id") == "NW-PLUS-60", support
    assert "not included" not in support["reply"].lower()


async def test_3_missing_history(deployment: Deployment, new_customer) -> None:  # type: ignore[no-untyped-def]
    customer = (await deployment.customers(has_recent_network_interaction=True))[0]
    chat = await new_customer()
    reply = await chat.verify(customer, "still no signal on my phone, this keeps happening")
    assert reply["agent"] == "support" and reply["data"].get("repeat_of"), reply
    assert reply["data"].get("repeat") is True
