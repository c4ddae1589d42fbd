"""Everything the foundation promises a customer, in one conversation."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import small_refund_customers

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_one_conversation_from_bill_to_human(chat: Chat, running: RunningStack) -> None:
    # Below the approval threshold (the approval path has its own tests), and one no other test uses.
    customer = small_refund_customers(running.data_dir)[-2]

    bill = await chat.verify(customer, "hi, can you explain my latest bill?")
    assert (bill["agent"], bill["skill"], bill["verified"]) == ("billing", "explain-bill", True), bill

    proposal = await chat.say("also it looks like you took the payment twice, I want that money back")
    assert (proposal["agent"], proposal["status"]) == ("payment", "input-required"), proposal
    refunded = await chat.say("yes please")
    assert refunded["status"] == "completed" and refunded["data"]["refund_id"], refunded

    plans = await chat.say("I'd like to change my plan")
    assert (plans["agent"], plans["skill"], plans["status"]) == ("billing", "change-plan", "input-required")
    # A change of topic mid-goal goes back through routing ...
    detour = await chat.say("wait, first: my mobile data has stopped working completely")
    assert (detour["agent"], detour["skill"]) == ("support", "troubleshoot-service"), detour
    assert detour["status"] == "input-required" and detour["data"].get("ticket_offered"), detour
    assert "1." in detour["reply"], "knowledge-base steps are given"
    ticket = await chat.say("yes, open a ticket")
    assert ticket["agent"] == "support" and ticket["data"].get("ticket_id"), ticket

    # ... and a follow-up answer stays with the specialist that asked the question.
    plans = await chat.say("ok now the plan change please")
    assert plans["agent"] == "billing" and plans["status"] == "input-required", plans
    target = next(p for p in plans["data"]["plans"] if p["plan_id"] != customer["plan_id"])
    confirm = await chat.say(target["name"])
    assert confirm["agent"] == "billing", confirm
    if confirm["status"] == "input-required":
        confirm = await chat.say("yep")
    assert confirm["status"] == "completed" and confirm["data"]["new_plan_id"] == target["plan_id"], confirm

    human = await chat.say("thanks, but now I'd like to talk to a person about all this")
    assert (human["agent"], human["status"]) == ("escalation", "escalated"), human

    state = await chat.state()
    assert [h["to_agent"] for h in state["handoffs"]].count("identity") == 1
    assert state["status"] == "escalated"
    assert {"billing", "payment", "support", "escalation"} <= {h["to_agent"] for h in state["handoffs"]}
