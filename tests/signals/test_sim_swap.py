"""DESIGN.md behaviour 6: a SIM-swap signal pauses payments at once, visibly in the audit trail,
and the customer's next contact must verify through a channel the SIM does not control."""

from __future__ import annotations

import pytest

from gateway import read_audit
from mcp_servers.identity.outbox import read_outbox
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import small_refund_customers, staff
from tests.signals.conftest import SIM_SWAP, notification, send, wait_for_rows

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_sim_swap_holds_payments_and_demands_step_up(chat: Chat, running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[-1]
    signal = notification(SIM_SWAP, customer["msisdn"])
    accepted = await send(running.topology.orchestrator, running.data_dir, signal)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["kind"] == "network.sim-swapped"

    await wait_for_rows(
        running.data_dir / "audit.db", "SELECT 1 FROM fraud_holds WHERE customer_id = ?", (customer["customer_id"],)
    )
    holds = (await staff(running.topology.gateway, running.data_dir, "compliance", "GET", "/fraud-holds")).json()
    assert signal["id"] in holds["fraud_holds"][customer["customer_id"]]["reason"]

    # Next contact: the code cannot go by text message to a swapped SIM; email is used instead.
    first = await chat.say("I was charged twice, please refund the duplicate")
    assert first["agent"] == "identity", first
    sent = await chat.say(f"it's {customer['msisdn']}")
    assert "email address or mobile number on the account" in sent["reply"], sent["reply"]  # says no more
    [message] = read_outbox(running.data_dir, customer_id=customer["customer_id"], limit=1)
    assert message["channel"] == "email"  # not a text to the swapped SIM
    code = running.latest_code(customer["customer_id"])
    verified = await chat.say(code)

    # The refund is a payment action: denied, and the denial names the signal.
    reply = verified
    if reply["status"] == "input-required" and reply["agent"] == "payment":
        reply = await chat.say("yes please")
    records = [
        r for r in read_audit(running.data_dir / "audit.db", limit=5000) if r.customer_id == customer["customer_id"]
    ]
    denied = [r for r in records if r.tool == "payments.issue_refund" and r.decision == "deny"]
    assert denied, [(r.tool, r.decision, r.reason) for r in records]
    assert "guard.fraud-hold-pauses-payments" in denied[-1].policy_ids
    assert signal["id"] in denied[-1].reason
    assert any(r.tool == "governance.fraud-hold" and signal["id"] in r.reason for r in records)
