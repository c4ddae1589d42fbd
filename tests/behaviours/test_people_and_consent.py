"""Behaviours 5 and 7: a person when asked for, and no action without consent or during an open case."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.behaviours.conftest import WAIT, Deployment, Staff

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

ROAMING = "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-status"


async def test_5_escalation(deployment: Deployment, new_customer, staff) -> None:  # type: ignore[no-untyped-def]
    customer = (await deployment.customers(has_open_ticket=False))[5]
    chat = await new_customer()
    await chat.verify(customer, "what's on my latest bill?")
    asked = await chat.say("I want to talk to a person")
    assert asked["status"] == "escalated" and "in the queue" in asked["reply"], asked
    agent = await staff("agent")
    queue = await agent.get("/api/console/escalations")
    assert chat.conversation_id in {i["conversation_id"] for i in queue["items"]}
    case = await agent.get(f"/api/console/escalations/{chat.conversation_id}")
    assert case["identity"]["verified"] is True and case["profile"]["customer_id"] == customer["customer_id"]
    assert any(line["role"] == "customer" for line in case["transcript"])
    base = f"/api/console/escalations/{chat.conversation_id}"
    assert (await agent.post(f"{base}/take-over")).status_code == 200
    assert (await agent.post(f"{base}/replies", {"text": "Hello, I'm here to help."})).status_code == 201
    await chat.wait_for("Hello, I'm here to help.")
    assert (await agent.post(f"{base}/hand-back", {"note": "greeted; nothing else needed"})).status_code == 200


async def _roaming(deployment: Deployment, msisdn: str) -> None:
    signal = {
        "id": str(uuid.uuid4()),
        "source": "https://carrier.example/notifications",
        "type": ROAMING,
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "time": datetime.now(UTC).isoformat(),
        "data": {
            "device": {"phoneNumber": msisdn},
            "subscriptionId": "behaviours",
            "roaming": True,
            "countryCode": 34,
            "countryName": ["Spain"],
        },
    }
    raw = json.dumps(signal).encode()
    secret = (deployment.data_dir / "signal-secret").read_bytes().strip()
    mac = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        sent = await http.post(
            "/api/signals",
            content=raw,
            headers={"content-type": "application/cloudevents+json", "X-Switchboard-Signature": mac},
        )
    assert sent.status_code == 202, sent.text


async def _offer_decision(compliance: Staff, customer_id: str) -> dict:
    """The gateway's decision on the outreach the roaming signal triggered (bounded wait)."""
    async with asyncio.timeout(WAIT):
        while True:
            traces = (
                await compliance.get("/api/console/compliance/traces", customer=customer_id, tool="crm.send_offer")
            )["traces"]
            if traces:
                return traces[0]
            await asyncio.sleep(0.2)


async def test_7_consent(deployment: Deployment, new_customer, staff) -> None:  # type: ignore[no-untyped-def]
    compliance = await staff("compliance")
    # No marketing consent: the offer the roaming signal would send is denied.
    no_consent = (await deployment.customers(has_marketing_consent=False, has_open_ticket=False))[0]
    await _roaming(deployment, no_consent["msisdn"])
    decided = await _offer_decision(compliance, no_consent["customer_id"])
    assert decided["decision"] == "deny" and "guard.consent-required" in decided["policy_ids"], decided

    # Consent given, but a support ticket is open: no marketing.
    ticket_open = (await deployment.customers(has_marketing_consent=True, has_open_ticket=True))[0]
    await _roaming(deployment, ticket_open["msisdn"])
    decided = await _offer_decision(compliance, ticket_open["customer_id"])
    assert decided["decision"] == "deny" and "guard.no-marketing-during-open-case" in decided["policy_ids"]

    # Consent given, no ticket, but waiting for a person: that is an open case too.
    waiting = (await deployment.customers(has_marketing_consent=True, has_open_ticket=False))[3]
    chat = await new_customer()
    await chat.verify(waiting, "what's on my latest bill?")
    assert (await chat.say("I want to talk to a person"))["status"] == "escalated"
    await _roaming(deployment, waiting["msisdn"])
    decided = await _offer_decision(compliance, waiting["customer_id"])
    assert decided["decision"] == "deny" and "guard.no-marketing-during-open-case" in decided["policy_ids"]
    assert chat.conversation_id in decided["reason"], decided
