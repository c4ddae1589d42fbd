"""An open case is any unresolved contact: no marketing while a person is awaited or holds the case."""

from __future__ import annotations

import pytest

from shared.authcontext import AuthContextSigner
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from tests.consoles.agent_helpers import escalate, held_refund_customer
from tests.consoles.conftest import Team
from tests.e2e.conftest import RunningStack
from tests.e2e.gateway_client import call_as, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

GUARD = "guard.no-marketing-during-open-case"


async def _offer(running: RunningStack, customer: dict, key: str) -> str:
    """``crm.send_offer`` as the agent that sends outreach; the gateway's answer as text."""
    secrets = running.stack.secrets
    assert secrets is not None
    keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    conversation_id = f"conv-outreach-{key}"
    auth = AuthContextSigner(secrets.identity_private_pem.encode()).issue(
        keys, method="otp-sms", assurance="AAL2", conversation_id=conversation_id
    )
    envelope = ContextEnvelope(conversation_id=conversation_id, customer=CustomerRef(keys=keys), auth_context=auth)
    offer = {"email": customer["email"], "offer_id": "SPRING-5G", "channel": "email", "idempotency_key": key}
    result = await call_as(
        running.topology.gateway_mcp_url(), await running.token("billing", "gateway"), "crm.send_offer", offer, envelope
    )
    return text_of(result) if result.is_error or text_of(result).startswith("DENIED") else "sent"


async def test_no_marketing_while_the_customer_waits_for_or_talks_to_a_person(team: Team) -> None:
    running = team.running
    customer = running.customers(20, has_open_ticket=False, has_marketing_consent=True)[-1]
    assert await _offer(running, customer, "open-case-0") == "sent"

    chat = await team.customer()
    await chat.verify(customer, "what's on my latest bill?")
    await escalate(chat, "I want to talk to a person")
    waiting = await _offer(running, customer, "open-case-1")
    assert waiting.startswith("DENIED") and GUARD in waiting, waiting
    assert f"escalation in {chat.conversation_id} (waiting for a person)" in waiting

    ben = await team.sign_in("ben")
    base = f"/api/console/escalations/{chat.conversation_id}"
    assert (await ben.post(f"{base}/take-over")).status_code == 200
    held = await _offer(running, customer, "open-case-2")
    assert GUARD in held and f"escalation in {chat.conversation_id} (held by ben)" in held, held

    assert (await ben.post(f"{base}/hand-back")).status_code == 200
    assert await _offer(running, customer, "open-case-3") == "sent"  # resolved: outreach may go again


async def test_no_marketing_while_an_approval_waits(team: Team) -> None:
    running = team.running
    # Index 0 belongs to the one-voice test; the others are free on this stack.
    customer = next(
        c for c in (held_refund_customer(running.data_dir, i) for i in range(1, 8)) if c["has_marketing_consent"]
    )
    chat = await team.customer()
    await chat.verify(customer, "I was charged twice, please refund the duplicate")
    held = await chat.say("yes")
    approval_id = held["data"]["approval_id"]
    waiting = await _offer(running, customer, "open-case-4")
    assert GUARD in waiting and f"approval {approval_id}" in waiting, waiting

    approver = await team.sign_in("approver")
    rejected = await approver.post(f"/api/console/approvals/{approval_id}/reject", json={"note": "not a duplicate"})
    assert rejected.status_code == 200, rejected.text
    assert await _offer(running, customer, "open-case-5") == "sent"


async def test_an_unverified_customers_escalation_counts_as_their_open_case(team: Team) -> None:
    running = team.running
    customer = running.customers(40, has_open_ticket=False, has_marketing_consent=True)[-2]
    assert await _offer(running, customer, "open-case-6") == "sent"

    chat = await team.customer()
    asked = await chat.say("what's on my latest bill?")
    assert asked["agent"] == "identity", asked
    sent = await chat.say(f"it's {customer['email']}")
    assert sent["status"] == "input-required", sent  # the code is on its way; not verified yet
    await escalate(chat, "I want to talk to a person")
    waiting = await _offer(running, customer, "open-case-7")
    assert waiting.startswith("DENIED") and GUARD in waiting, waiting
    assert f"escalation in {chat.conversation_id} (waiting for a person, not verified)" in waiting

    # Someone else's claim never blocks a customer who made none.
    other = running.customers(40, has_open_ticket=False, has_marketing_consent=True)[-3]
    assert await _offer(running, other, "open-case-8") == "sent"
