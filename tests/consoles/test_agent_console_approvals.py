"""Approvals from the human-agent console: exact arguments and policy reason, decided as the signed-in person."""

from __future__ import annotations

import pytest

from gateway import read_audit
from tests.consoles.agent_helpers import escalate, held_refund_customer, packet_of
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import refunds_for, wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_an_escalated_case_with_a_held_refund_is_approved_from_the_console(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    customer = held_refund_customer(running.data_dir, 2)
    proposal = await chat.verify(customer, "I was charged twice, please refund the duplicate")
    assert proposal["agent"] == "payment", proposal
    held = await chat.say("yes")
    approval_id = held["data"]["approval_id"]
    await escalate(chat, "I'd like to speak to a person about this")
    agent = await staff_client("agent")

    listed = await agent.get("/api/console/approvals")
    assert listed.status_code == 200, listed.text
    shown = next(a for a in listed.json()["approvals"] if a["id"] == approval_id)
    assert shown["tool"] == "payments.issue_refund" and shown["agent"] == "payment"
    assert shown["arguments"]["account_number"] == customer["account_number"]
    assert shown["arguments"]["amount"] == float(held["data"]["amount"])
    assert "approval.refund-above-40" in shown["policy_ids"] and shown["reason"]
    assert shown["conversation_id"] == chat.conversation_id

    packet = await packet_of(agent, chat.conversation_id)
    assert [a.id for a in packet.pending_approvals] == [approval_id]
    assert packet.suggested_next_step.startswith("Decide the pending approval first")
    summary = packet.case_summary
    assert summary is not None and summary.open_items[0].startswith(f"Approval {approval_id} waiting")
    held_action = next(a for a in summary.actions if a.reference == approval_id)
    assert held_action.outcome == "waiting" and held_action.what.startswith("Refund of £")

    approved = await agent.post(f"/api/console/approvals/{approval_id}/approve", json={"note": "checked the charges"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "executed" and approved.json()["decided_by"] == agent.name
    await wait_for_text(chat.state, "approved and issued")
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1

    replay = await agent.post(f"/api/console/approvals/{approval_id}/approve", json={})
    assert replay.status_code == 409, replay.text  # the gateway's refusal, passed through
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1
    after = await packet_of(agent, chat.conversation_id)
    assert after.pending_approvals == [] and after.case_summary is not None
    refunds = refunds_for(running.data_dir, customer["account_number"])
    done = [(a.what, a.reference, a.outcome) for a in after.case_summary.actions if a.what.startswith("Refund")]
    # The refund, with its reference, once: the approval that held it is marked as approved.
    assert [d[2] for d in done] == ["done", "done"], done
    assert done[0][1] == approval_id and "approved by a person" in done[0][0]
    assert done[1][0].startswith("Refunded £") and done[1][1] == refunds[0][0], (done, refunds)
    records = read_audit(running.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=500)
    assert any(r.tool == "payments.issue_refund" and r.approver == agent.name for r in records)


async def test_a_rejection_from_the_console_reaches_the_customer(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    customer = held_refund_customer(running.data_dir, 1)
    await chat.verify(customer, "I was charged twice, please refund the duplicate")
    held = await chat.say("yes")
    approval_id = held["data"]["approval_id"]
    approver = await staff_client("approver")
    rejected = await approver.post(f"/api/console/approvals/{approval_id}/reject", json={"note": "not a duplicate"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    await wait_for_text(chat.state, "couldn't approve")
    assert refunds_for(running.data_dir, customer["account_number"]) == []
