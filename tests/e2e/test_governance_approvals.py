"""Human approval end to end: a refund above the threshold parks, a human decides, the conversation goes on."""

from __future__ import annotations

import pytest

from gateway import read_audit
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import big_refund_customers, refunds_for, staff, wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _park(chat: Chat, customer: dict) -> dict:
    proposal = await chat.verify(customer, "I was charged twice, please refund the duplicate")
    assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
    assert float(proposal["data"]["amount"]) > 40
    held = await chat.say("yes")
    assert held["data"].get("approval_pending") is True, held
    assert "needs a quick approval" in held["reply"]
    state = await chat.state()
    assert state["waiting_for_approval"] == held["data"]["approval_id"]
    return held


async def test_refund_above_threshold_waits_then_runs_once_when_approved(chat: Chat, running: RunningStack) -> None:
    customer = big_refund_customers(running.data_dir)[0]
    held = await _park(chat, customer)
    approval_id = held["data"]["approval_id"]
    assert refunds_for(running.data_dir, customer["account_number"]) == []

    # While parked, the customer is told what is happening.
    waiting = await chat.say("any news on my refund?")
    assert "waiting for approval" in waiting["reply"], waiting

    gateway = running.topology.gateway
    listed = await staff(gateway, running.data_dir, "approver", "GET", "/approvals?status=pending")
    shown = next(a for a in listed.json()["approvals"] if a["id"] == approval_id)
    assert shown["arguments"]["account_number"] == customer["account_number"]  # the exact arguments
    assert shown["arguments"]["amount"] == float(held["data"]["amount"])
    assert "approval.refund-above-40" in shown["policy_ids"] and shown["reason"]

    approved = await staff(gateway, running.data_dir, "approver", "POST", f"/approvals/{approval_id}/approve", {})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "executed"
    transcript = await wait_for_text(chat.state, "approved and issued")
    assert transcript[-1]["agent"] == "payment"
    # The payment task waited for the decision and, resumed, read the refund from payments itself.
    reads = read_audit(running.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=500)
    assert any(r.tool == "payments.list_refunds" and r.decision == "allow" for r in reads)
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1

    # A replayed approval is refused and changes nothing; the conversation is no longer parked.
    again = await staff(gateway, running.data_dir, "approver", "POST", f"/approvals/{approval_id}/approve", {})
    assert again.status_code == 409
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1
    assert (await chat.state())["waiting_for_approval"] is None
    after = await chat.say("thanks, can you show my payment history")
    assert after["agent"] == "payment" and after["status"] == "completed", after

    records = read_audit(running.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=500)
    refund_records = [r for r in records if r.tool == "payments.issue_refund"]
    decisions = [r.decision for r in refund_records]

    assert "approval-required" in decisions and "approved" in decisions
    assert any(r.approver == "approver" and r.kind == "outcome" and r.outcome == "ok" for r in refund_records)


async def test_rejected_refund_tells_the_customer_and_offers_alternatives(chat: Chat, running: RunningStack) -> None:
    customer = big_refund_customers(running.data_dir)[1]
    held = await _park(chat, customer)
    approval_id = held["data"]["approval_id"]
    gateway = running.topology.gateway
    rejected = await staff(
        gateway, running.data_dir, "approver", "POST", f"/approvals/{approval_id}/reject", {"note": "not a duplicate"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    transcript = await wait_for_text(chat.state, "couldn't approve")
    assert "colleague" in transcript[-1]["text"] and "recent payments" in transcript[-1]["text"]
    assert refunds_for(running.data_dir, customer["account_number"]) == []
    human = await chat.say("yes")
    assert human["agent"] == "escalation", human


async def test_staff_api_refuses_agents_wrong_roles_and_bad_input(running: RunningStack) -> None:
    gateway = running.topology.gateway
    import httpx

    secrets = running.stack.secrets
    assert secrets is not None
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
        as_agent = await http.get(
            "/governance/approvals", headers={"Authorization": f"Bearer {await running.token('payment', 'gateway')}"}
        )
        assert as_agent.status_code == 403  # the requester can never approve
        nobody = await http.get("/governance/approvals")
        assert nobody.status_code == 401
    wrong_role = await staff(
        gateway, running.data_dir, "approver", "POST", "/kill-switch", {"scope": "all", "on": True}
    )
    assert wrong_role.status_code == 403
    missing = await staff(gateway, running.data_dir, "approver", "POST", "/approvals/APR-NOPE/approve", {})
    assert missing.status_code == 404
    bad = await staff(gateway, running.data_dir, "admin", "POST", "/kill-switch", {"scope": "sometimes", "on": True})
    assert bad.status_code == 400
    mode = await staff(gateway, running.data_dir, "compliance", "POST", "/policies/nope/mode", {"mode": "log-only"})
    assert mode.status_code == 404
