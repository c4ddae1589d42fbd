"""DESIGN.md behaviours 1-4, end to end over real HTTP, A2A and MCP."""

from __future__ import annotations

import time

import pytest

from gateway import read_audit
from shared.authcontext import AuthContextSigner, generate_private_key_pem
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from tests.e2e.conftest import Chat, RunningStack
from tests.e2e.gateway_client import call_as, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_authentication_handoff_verifies_once_across_agents(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(1, has_duplicate_charge=True)[0]
    verified = await chat.verify(customer, "can you explain my last bill?")
    assert verified["verified"] is True
    # Verification completed and the parked billing goal ran in the same turn.
    assert verified["agent"] == "billing", verified
    assert customer["display_name"].split()[0] in verified["reply"]

    refund = await chat.say("also I think I was charged twice, I want my money back")
    assert refund["agent"] == "payment", refund
    assert "identity" not in refund["handoffs"], "the customer was asked to verify again"
    assert refund["status"] == "input-required"

    state = await chat.state()
    identity_handoffs = [h for h in state["handoffs"] if h["to_agent"] == "identity"]
    assert len(identity_handoffs) == 1
    assert state["auth_method"] and state["auth_method"].startswith("otp")


def _envelope_for(customer: dict, auth_context: str | None) -> ContextEnvelope:
    keys = CustomerKeys(
        customer_id=customer["customer_id"],
        email=customer["email"],
        msisdn=customer["msisdn"],
        account_number=customer["account_number"],
    )
    return ContextEnvelope(
        conversation_id="conv-adversarial", customer=CustomerRef(keys=keys), auth_context=auth_context
    )


async def test_gateway_refuses_forged_expired_and_other_customer_contexts(running: RunningStack) -> None:
    victim, attacker = running.customers(2)
    secrets = running.stack.secrets
    assert secrets is not None
    token = await running.token("billing", "gateway")
    url = running.topology.gateway_mcp_url()
    keys = CustomerKeys(**{k: victim[k] for k in ("customer_id", "email", "msisdn", "account_number")})

    conversation = "conv-adversarial"
    forged = AuthContextSigner(generate_private_key_pem()).issue(
        keys, method="otp-sms", assurance="AAL2", conversation_id=conversation
    )
    real_signer = AuthContextSigner(secrets.identity_private_pem.encode(), ttl_seconds=60)
    expired = real_signer.issue(
        keys, method="otp-sms", assurance="AAL2", now=time.time() - 3600, conversation_id=conversation
    )
    attacker_keys = CustomerKeys(**{k: attacker[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    other_customer = real_signer.issue(attacker_keys, method="otp-sms", assurance="AAL2", conversation_id=conversation)

    for label, auth in (("forged", forged), ("expired", expired), ("other customer", other_customer), ("none", None)):
        result = await call_as(
            url, token, "billing.list_invoices", {"msisdn": victim["msisdn"]}, _envelope_for(victim, auth)
        )
        assert result.is_error, label
        assert text_of(result).startswith("DENIED"), (label, text_of(result))

    valid = real_signer.issue(keys, method="otp-sms", assurance="AAL2", conversation_id=conversation)
    ok = await call_as(url, token, "billing.list_invoices", {"msisdn": victim["msisdn"]}, _envelope_for(victim, valid))
    assert not ok.is_error, text_of(ok)


async def test_permission_gap_payment_refunds_and_billing_cannot(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(3, has_duplicate_charge=True)[2]
    proposal = await chat.verify(customer, "I've been charged twice this month, please refund the duplicate")
    assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
    done = await chat.say("yes please")
    assert done["agent"] == "payment" and done["status"] == "completed", done
    assert done["data"].get("refund_id"), done

    # The billing agent, even with a valid auth context for this customer, may not refund.
    secrets = running.stack.secrets
    assert secrets is not None
    keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    auth = AuthContextSigner(secrets.identity_private_pem.encode()).issue(
        keys, method="otp-sms", assurance="AAL2", conversation_id="conv-adversarial"
    )
    denied = await call_as(
        running.topology.gateway_mcp_url(),
        await running.token("billing", "gateway"),
        "payments.issue_refund",
        {
            "account_number": customer["account_number"],
            "charge_id": "CH-anything",
            "amount": 1.0,
            "reason": "duplicate",
            "idempotency_key": "billing-tries-refund",
        },
        _envelope_for(customer, auth),
    )
    assert denied.is_error and text_of(denied).startswith("DENIED"), text_of(denied)
    records = read_audit(running.data_dir / "audit.db", agent="billing", limit=500)
    assert any(r.tool == "payments.issue_refund" and r.decision == "deny" for r in records)


async def test_data_discrepancy_support_sees_the_plan_billing_just_changed(chat: Chat, running: RunningStack) -> None:
    without_roaming = {"NW-BASIC-2", "NW-ESS-10", "NW-EVR-30"}
    customer = [c for c in running.customers(60) if c["plan_id"] in without_roaming][3]
    opened = await chat.verify(customer, "I'd like to change my plan")
    assert opened["agent"] == "billing" and opened["status"] == "input-required", opened
    picked = await chat.say("the Plus 60GB one please")
    if picked["status"] == "input-required":
        picked = await chat.say("yes, go ahead")
    assert picked["status"] == "completed" and picked["data"].get("new_plan_id") == "NW-PLUS-60", picked

    # The CRM still holds the old plan name; support must go by billing, the source of truth,
    # and not deny EU roaming the customer now pays for.
    support = await chat.say("my phone won't connect to any network here in Spain, roaming isn't working")
    assert support["agent"] == "support", support
    assert support["data"].get("plan_id") == "NW-PLUS-60", support
    assert "Plus 60GB plan includes eu-roaming" in support["reply"], support["reply"]
    assert "not included" not in support["reply"].lower()


async def test_missing_history_repeat_issue_is_recognised(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(1, has_recent_network_interaction=True)[0]
    reply = await chat.verify(customer, "still no signal on my phone, this keeps happening")
    assert reply["agent"] == "support", reply
    assert reply["data"].get("repeat_of"), reply
    assert "contacted us" in reply["reply"].lower() or "again" in reply["reply"].lower(), reply["reply"]
