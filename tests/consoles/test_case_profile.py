"""The human's case shows the plan billing has, even right after a change the CRM has not caught up with."""

from __future__ import annotations

import pytest

from tests.consoles.agent_helpers import escalate, packet_of
from tests.consoles.conftest import Team

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_the_case_profile_shows_billings_plan_after_a_change_in_chat(team: Team) -> None:
    customer = team.running.customers(30, has_open_ticket=False)[-3]
    chat = await team.customer()
    plans = await chat.verify(customer, "I'd like to change my plan")
    assert (plans["agent"], plans["status"]) == ("billing", "input-required"), plans
    target = next(p for p in plans["data"]["plans"] if p["plan_id"] != customer["plan_id"])
    confirm = await chat.say(target["name"])
    if confirm["status"] == "input-required":
        confirm = await chat.say("yes")
    assert confirm["status"] == "completed" and confirm["data"]["new_plan_id"] == target["plan_id"], confirm

    await escalate(chat, "thanks, now I'd like to talk to a person")
    ben = await team.sign_in("ben")
    profile = (await packet_of(ben, chat.conversation_id)).profile
    assert profile is not None and profile.plan_source == "billing.get_account"
    assert profile.plan_name == target["name"]
    # The CRM's own copy still has the old plan: shown as the stale copy it is, never as the plan.
    stale = customer["crm_plan_name"]
    assert profile.crm_plan_name == (stale if stale != target["name"] else None)
