"""Behaviours 4 and 6: refunds within policy, approvals above it, and a SIM swap that pauses payments."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.behaviours.conftest import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

SIM_SWAP = "org.camaraproject.sim-swap-subscriptions.v0.swapped"


async def _refund_proposal(chat, customer: dict) -> dict:  # type: ignore[no-untyped-def]
    proposal = await chat.verify(customer, "I was charged twice, please refund the duplicate")
    assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
    return proposal


async def test_4_permission_gap(deployment: Deployment, new_customer, staff) -> None:  # type: ignore[no-untyped-def]
    candidates = await deployment.customers(has_duplicate_charge=True, has_recent_sim_swap=False)
    held = None
    for customer in candidates[2:12]:
        chat = await new_customer()
        await _refund_proposal(chat, customer)
        answer = await chat.say("yes please")
        if answer["data"].get("approval_pending"):
            held = (chat, answer)
            break
        assert answer["status"] == "completed" and answer["data"].get("refund_id"), answer  # within policy
    assert held is not None, "no customer with a duplicate charge above the approval threshold"
    chat, answer = held
    approver = await staff("approver")
    approval_id = answer["data"]["approval_id"]
    approved = await approver.post(f"/api/console/approvals/{approval_id}/approve", {"note": "checked"})
    assert approved.status_code == 200 and approved.json()["status"] == "executed", approved.text
    again = await approver.post(f"/api/console/approvals/{approval_id}/approve")
    assert again.status_code == 409  # executed exactly once
    transcript = await chat.wait_for("approved and issued")
    assert sum("approved and issued" in e["text"] for e in transcript) == 1


def _signed(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


async def test_6_network_signal(deployment: Deployment, new_customer, staff) -> None:  # type: ignore[no-untyped-def]
    customer = (await deployment.customers(has_duplicate_charge=True, has_recent_sim_swap=False))[-1]
    signal = {
        "id": str(uuid.uuid4()),
        "source": "https://carrier.example/notifications",
        "type": SIM_SWAP,
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "time": datetime.now(UTC).isoformat(),
        "data": {"phoneNumber": customer["msisdn"], "subscriptionId": "behaviours"},
    }
    raw = json.dumps(signal).encode()
    secret = (deployment.data_dir / "signal-secret").read_bytes().strip()
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        unsigned = await http.post(
            "/api/signals", content=raw, headers={"content-type": "application/cloudevents+json"}
        )
        assert unsigned.status_code in (401, 403), unsigned.text
        accepted = await http.post(
            "/api/signals",
            content=raw,
            headers={"content-type": "application/cloudevents+json", "X-Switchboard-Signature": _signed(secret, raw)},
        )
    assert accepted.status_code == 202, accepted.text

    chat = await new_customer()
    reply = await chat.verify(customer, "I was charged twice, please refund the duplicate")
    if reply["status"] == "input-required" and reply["agent"] == "payment":
        reply = await chat.say("yes please")
    assert not reply["data"].get("refund_id"), reply  # paused at once
    compliance = await staff("compliance")
    traces = (
        await compliance.get(
            "/api/console/compliance/traces", customer=customer["customer_id"], tool="payments.issue_refund"
        )
    )["traces"]
    assert any(t["decision"] == "deny" and "guard.fraud-hold-pauses-payments" in t["policy_ids"] for t in traces), (
        traces
    )
