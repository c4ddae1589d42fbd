"""The human's case shows the plan billing has, even right after a change the CRM has not caught up with,
and follows the plan and contact details while the case is open."""

from __future__ import annotations

import pytest

from shared.escalation import CustomerProfile
from tests.consoles.agent_helpers import escalate, packet_of
from tests.consoles.conftest import Team
from tests.events.conftest import envelope_for, tool, wait_for_view

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
    # The CRM's live customer view follows billing's plan-changed event (asynchronously, by design).
    secrets = team.running.stack.secrets
    assert secrets is not None
    env, url = envelope_for(secrets, customer), team.running.topology.gateway_mcp_url()
    view_args = {"customer_id": customer["customer_id"]}
    await wait_for_view(
        lambda: tool(url, team.running.stack, "escalation", "crm.get_customer_view", view_args, env),
        lambda view: (view.get("plan") or {}).get("plan_id") == target["plan_id"],
    )

    await escalate(chat, "thanks, now I'd like to talk to a person")
    ben = await team.sign_in("ben")
    packet = await packet_of(ben, chat.conversation_id)
    profile = packet.profile
    assert profile is not None and profile.plan_source == "billing.get_account"
    assert profile.plan_name == target["name"]
    # The CRM's record table still has the old plan, but its live view has the change: no old plan shown.
    assert profile.crm_plan_name is None and "crm.get_customer_view" in profile.sources

    # The structured summary names the plans (never their ids) and says each step once.
    summary = packet.case_summary
    assert summary is not None and summary.identity.verified and summary.identity.level
    assert summary.identity.how and "one-time code" in summary.identity.how
    changed = [a for a in summary.actions if a.what.startswith("Plan changed")]
    assert len(changed) == 1 and target["name"] in changed[0].what, summary.actions
    assert "One-time verification code sent" in [a.what for a in summary.actions]
    assert summary.customer_wanted[0].startswith("Change plan: “I'd like to change my plan”")
    shown = " ".join([packet.ai_summary, *packet.conversation_steps, summary.model_dump_json()])
    assert target["plan_id"] not in shown and customer["plan_id"] not in shown
    assert len(packet.conversation_steps) == len(set(packet.conversation_steps))


async def test_the_case_profile_follows_a_plan_and_address_change_made_while_the_case_is_open(team: Team) -> None:
    running = team.running
    customer = running.customers(30, has_open_ticket=False)[-5]
    chat = await team.customer()
    await chat.verify(customer, "what's on my latest bill?")
    await escalate(chat, "I'd like to talk to a person")
    ben = await team.sign_in("ben")
    before = (await packet_of(ben, chat.conversation_id)).profile
    assert before is not None and before.email == customer["email"]

    # Changed at the systems of record while the customer waits (another channel, say).
    secrets = running.stack.secrets
    assert secrets is not None
    env, url = envelope_for(secrets, customer), running.topology.gateway_mcp_url()
    target = "NW-PLUS-60" if customer["plan_id"] != "NW-PLUS-60" else "NW-ESS-10"
    change = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "case-follow-plan"}
    await tool(url, running.stack, "billing", "billing.change_plan", change, env)
    plans = (await tool(url, running.stack, "billing", "billing.list_plans", {}, env))["plans"]
    new_name = next(p["name"] for p in plans if p["plan_id"] == target)
    email = f"case-{customer['customer_id'].lower()}@example.net"
    moved = {"customer_id": customer["customer_id"], "email": email, "idempotency_key": "case-follow-email"}
    await tool(url, running.stack, "identity", "identity.update_contact_details", moved, env)
    home = {"line1": "9 Wharf Street", "town": "Northwood", "postcode": "NW3 5QT"}
    posted = {"customer_id": customer["customer_id"], **home, "idempotency_key": "case-follow-home"}
    await tool(url, running.stack, "identity", "identity.update_postal_address", posted, env)

    async def profile() -> CustomerProfile | None:
        return (await packet_of(ben, chat.conversation_id)).profile

    after = await wait_for_view(
        profile,
        lambda p: (
            p is not None
            and p.email == email
            and p.plan_source != "billing.get_account"
            and p.address == "9 Wharf Street, Northwood, NW3 5QT"
        ),
    )
    assert after.plan_name == new_name and after.crm_plan_name is None and after.city == "Northwood"


async def test_an_address_changed_in_chat_is_checked_and_the_case_shows_it_at_once(team: Team) -> None:
    customer = team.running.customers(30, has_open_ticket=False, has_recent_sim_swap=False)[-7]
    chat = await team.customer()
    asked = await chat.verify(customer, "I've moved house, my new address is 4 Rosemary Lane, Glenbrook, 12345")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("identity", "update-contact", "input-required")
    assert "couldn't find a UK postcode" in asked["reply"], asked
    proposal = await chat.say("Flat 2, 4 Rosemary Lane, Glenbrook, gb2 7xq")
    assert "Flat 2, 4 Rosemary Lane, Glenbrook, GB2 7XQ?" in proposal["reply"], proposal
    done = await chat.say("yes")
    assert done["status"] == "completed" and done["data"]["changed"] is True, done
    assert "now Flat 2, 4 Rosemary Lane, Glenbrook, GB2 7XQ" in done["reply"]

    await escalate(chat, "thanks, now I'd like to talk to a person")
    ben = await team.sign_in("ben")
    profile = (await packet_of(ben, chat.conversation_id)).profile
    assert profile is not None and profile.address == "Flat 2, 4 Rosemary Lane, Glenbrook, GB2 7XQ"
    assert profile.city == "Glenbrook" and "identity.get_contact_details" in profile.sources
