"""Consent, fraud holds, the marketing rule and the kill switch, against the running system."""

from __future__ import annotations

import time

import pytest

from gateway import read_audit
from shared.authcontext import AuthContextSigner
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from tests.e2e.conftest import Chat, RunningStack
from tests.e2e.gateway_client import call_as, text_of
from tests.governance.e2e_helpers import (
    big_refund_customers,
    four_eyes,
    refunds_for,
    small_refund_customers,
    staff,
    wait_for_text,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _envelope(running: RunningStack, customer: dict, conversation_id: str = "conv-governance") -> ContextEnvelope:
    secrets = running.stack.secrets
    assert secrets is not None
    keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    auth = AuthContextSigner(secrets.identity_private_pem.encode()).issue(
        keys, method="otp-sms", assurance="AAL2", conversation_id=conversation_id
    )
    return ContextEnvelope(conversation_id=conversation_id, customer=CustomerRef(keys=keys), auth_context=auth)


async def _as(running: RunningStack, agent: str, tool: str, args: dict, envelope: ContextEnvelope):
    return await call_as(
        running.topology.gateway_mcp_url(), await running.token(agent, "gateway"), tool, args, envelope
    )


def _decisions(running: RunningStack, conversation_id: str, tool: str) -> list:
    records = read_audit(running.data_dir / "audit.db", conversation_id=conversation_id, limit=1000)
    return [r for r in records if r.tool == tool and r.kind == "decision"]


async def test_consent_revoked_mid_conversation_denies_the_very_next_call(chat: Chat, running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[5]
    proposal = await chat.verify(customer, "I was charged twice, refund the duplicate please")
    assert proposal["status"] == "input-required", proposal
    revoked = await _as(
        running,
        "identity",
        "consent.revoke_consent",
        {"customer_id": customer["customer_id"], "purpose": "payments", "idempotency_key": "revoke-1"},
        _envelope(running, customer),
    )
    assert not revoked.is_error, text_of(revoked)
    answer = await chat.say("yes")
    # The refund step reads the charge again before acting, and that read is already refused.
    assert answer["data"].get("denied") is True and "not able to" in answer["reply"], answer
    assert refunds_for(running.data_dir, customer["account_number"]) == []
    denied = _decisions(running, chat.conversation_id, "payments.find_duplicate_charges")
    assert denied and denied[-1].decision == "deny" and "guard.consent-required" in denied[-1].policy_ids


async def test_fraud_hold_pauses_payment_actions_until_lifted(chat: Chat, running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[6]
    gateway, data_dir = running.topology.gateway, running.data_dir
    held = await staff(
        gateway, data_dir, "compliance", "POST", f"/fraud-holds/{customer['customer_id']}", {"reason": "sim swap"}
    )
    assert held.status_code == 200, held.text
    try:
        await chat.verify(customer, "I was charged twice, refund the duplicate please")
        answer = await chat.say("yes")
        assert "For your protection" in answer["reply"], answer
        assert refunds_for(data_dir, customer["account_number"]) == []
        denied = _decisions(running, chat.conversation_id, "payments.issue_refund")[-1]
        assert denied.decision == "deny" and "guard.fraud-hold-pauses-payments" in denied.policy_ids
    finally:
        path = f"/fraud-holds/{customer['customer_id']}"
        lifted = await four_eyes(gateway, data_dir, "compliance", "admin", "DELETE", path, {})
        assert lifted.status_code == 200 and lifted.json()["status"] == "active", lifted.text
    staff_records = read_audit(data_dir / "audit.db", agent="staff:compliance", limit=100)
    assert [r.tool for r in staff_records[-2:]] == ["governance.fraud-hold", "governance.fraud-hold-lift"]


async def test_no_marketing_while_a_support_case_is_open_or_without_consent(running: RunningStack) -> None:
    offer = {"offer_id": "SPRING-5G", "channel": "email", "idempotency_key": "offer-1"}
    open_case = running.customers(3, has_open_ticket=True, has_marketing_consent=True)[-1]
    result = await _as(
        running, "billing", "crm.send_offer", {**offer, "email": open_case["email"]}, _envelope(running, open_case)
    )
    assert text_of(result).startswith("DENIED") and "guard.no-marketing-during-open-case" in text_of(result)
    no_consent = running.customers(3, has_open_ticket=False, has_marketing_consent=False)[-1]
    result = await _as(
        running, "billing", "crm.send_offer", {**offer, "email": no_consent["email"]}, _envelope(running, no_consent)
    )
    assert text_of(result).startswith("DENIED") and "guard.consent-required" in text_of(result)
    fine = running.customers(12, has_open_ticket=False, has_marketing_consent=True)[-1]
    result = await _as(
        running, "billing", "crm.send_offer", {**offer, "email": fine["email"]}, _envelope(running, fine)
    )
    assert not result.is_error, text_of(result)


async def test_kill_switch_stops_calls_at_once_and_rejects_pending_approvals(chat: Chat, running: RunningStack) -> None:
    customer = big_refund_customers(running.data_dir)[2]
    await chat.verify(customer, "I was charged twice, please refund the duplicate")
    held = await chat.say("yes")
    assert held["data"].get("approval_pending") is True, held
    gateway, data_dir = running.topology.gateway, running.data_dir
    on = await staff(
        gateway,
        data_dir,
        "admin",
        "POST",
        "/kill-switch",
        {"scope": "agent", "target": "payment", "on": True, "reason": "drill"},
    )
    switched_at = time.monotonic()
    try:
        assert on.status_code == 200 and on.json()["approvals_rejected"] >= 1, on.text
        probe = await _as(
            running,
            "payment",
            "payments.list_charges",
            {"account_number": customer["account_number"]},
            _envelope(running, customer),
        )
        assert time.monotonic() - switched_at < 1.0
        assert text_of(probe).startswith("DENIED") and "kill switch" in text_of(probe)
        transcript = await wait_for_text(chat.state, "paused")
        assert "colleague" in transcript[-1]["text"]
        assert refunds_for(data_dir, customer["account_number"]) == []
        human = await chat.say("yes")
        assert human["agent"] == "escalation", human
    finally:
        off = await four_eyes(
            gateway, data_dir, "admin", "compliance", "POST", "/kill-switch",
            {"scope": "agent", "target": "payment", "on": False},
        )  # fmt: skip
        assert off.status_code == 200, off.text
    after = await _as(
        running,
        "payment",
        "payments.list_charges",
        {"account_number": customer["account_number"]},
        _envelope(running, customer),
    )
    assert not after.is_error, text_of(after)
