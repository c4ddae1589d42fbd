"""The human-agent console's JSON API on the running stack: queue, packet, takeover, replies, hand-back."""

from __future__ import annotations

import pytest

from gateway import read_audit
from orchestrator.disclosure import DISCLOSURE_SKILL, Disclosure
from shared.escalation import EscalationPacket, EscalationQueue
from tests.consoles.agent_helpers import customer_entries, escalate, packet_of, queue_item
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_queue_and_hydrated_packet(chat: Chat, running: RunningStack, staff_client: StaffFactory) -> None:
    customer = running.customers(40)[31]
    await chat.verify(customer, "what does my bill say?")
    escalated = await chat.say("this is unacceptable, I want to make a complaint. Get me a person")
    assert escalated["status"] == "escalated", escalated
    agent = await staff_client("agent")

    queued = await agent.get("/api/console/escalations")
    assert queued.status_code == 200, queued.text
    item = queue_item(EscalationQueue.model_validate(queued.json()), chat.conversation_id)
    assert item.priority == "high" and item.verified and item.taken_by is None
    assert item.waiting_seconds >= 0 and item.escalated_at > 0

    packet = await packet_of(agent, chat.conversation_id)
    identity = packet.identity
    assert identity.verified and identity.customer_id == customer["customer_id"]
    assert identity.method and identity.method.startswith("otp") and identity.assurance
    assert identity.verified_at and identity.expires_at and identity.expires_at > identity.verified_at
    profile = packet.profile
    assert profile is not None and profile.email == customer["email"]
    assert profile.account_number == customer["account_number"] and profile.segment
    assert "crm.get_profile" in profile.sources and "crm.list_interactions" in profile.sources
    assert profile.interactions, "the customer's earlier contacts are in the profile"
    # The person taking over sees that the customer was told an automated assistant answered.
    notice = packet.transcript[0]
    assert (notice.role, notice.skill, notice.agent) == ("system", DISCLOSURE_SKILL, "supervisor")
    assert notice.text == Disclosure.from_settings().text("chat")
    texts = [line.text for line in packet.transcript]
    assert "what does my bill say?" in texts and any("complaint" in t for t in texts)
    handoffs = [e.title for e in packet.timeline if e.kind == "handoff"]
    assert any("identity" in t for t in handoffs) and any("escalation" in t for t in handoffs)
    calls = [e for e in packet.timeline if e.kind == "tool-call"]
    called = {e.title.split(" ")[0] for e in calls}
    assert {"identity.verify_code", "crm.get_profile", "support.request_human"} <= called, called
    assert all(e.decision for e in calls)
    # A human agent reads this conversation's decisions from the gateway's audit: policy ids included.
    assert packet.warnings == [], packet.warnings
    assert all(e.policy_ids for e in calls), [e.title for e in calls if not e.policy_ids]
    assert any(e.kind == "escalation" for e in packet.timeline)
    assert packet.ai_summary and "complaint" in packet.suggested_next_step.lower()
    assert packet.pending_approvals == [] and packet.priority == "high" and packet.handoff_id


async def test_take_over_reply_live_and_hand_back(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    await escalate(chat, "I need to talk to a real person please")
    agent = await staff_client("agent")
    base = f"/api/console/escalations/{chat.conversation_id}"

    taken = await agent.post(f"{base}/take-over")
    assert taken.status_code == 200, taken.text
    assert taken.json()["human"]["name"] == agent.name
    # Taking one's own case again changes nothing.
    assert (await agent.post(f"{base}/take-over")).status_code == 200
    joined = await wait_for_text(chat.state, "has joined the conversation")
    assert joined[-1]["role"] == "system" and joined[-1]["skill"] == "human-joined"

    # From now on the customer's words go to the human; the AI says nothing.
    before = len((await chat.state())["transcript"])
    quiet = await chat.say("hello? is someone there?")
    assert quiet["status"] == "with-human" and quiet["reply"] == "" and quiet["agent"] is None, quiet
    after = (await chat.state())["transcript"]
    assert [e["role"] for e in after[before:]] == ["customer"]
    live = await agent.get(f"{base}/transcript", params={"after": before})
    assert [line["text"] for line in live.json()["lines"]] == ["hello? is someone there?"]

    sent = await agent.post(f"{base}/replies", json={"text": "Hi, I'm Sam from the team. How can I help?"})
    assert sent.status_code == 201, sent.text
    shown = await wait_for_text(chat.state, "I'm Sam from the team")
    assert shown[-1]["role"] == "human" and shown[-1]["agent"] == agent.name
    # On the phone, the next turn reads out what the human wrote since the caller last spoke.
    spoken = await chat.say("I'm on the phone now", channel="voice")
    assert spoken["status"] == "with-human" and "I'm Sam from the team" in spoken["reply"], spoken

    queue = EscalationQueue.model_validate((await agent.get("/api/console/escalations")).json())
    assert queue_item(queue, chat.conversation_id).taken_by == agent.name

    back = await agent.post(f"{base}/hand-back")
    assert back.status_code == 200 and back.json()["status"] == "open", back.text
    left = await chat.state()
    assert left["status"] == "open" and left["transcript"][-1]["skill"] == "human-left"
    queue = EscalationQueue.model_validate((await agent.get("/api/console/escalations")).json())
    assert chat.conversation_id not in {i.conversation_id for i in queue.items}
    again = await chat.say("what plans do you have?")
    assert again["agent"] is not None and again["reply"], again  # the AI answers again
    packet = await packet_of(agent, chat.conversation_id)  # the case stays readable as history
    assert packet.human is None and [e.title for e in packet.timeline if e.kind == "human"] == [
        "took the conversation over",
        "first answered the customer",
        "handed the conversation back",
    ]
    assert {e.actor for e in packet.case_log} == {agent.name}
    assert customer_entries(packet) >= 3
    # Each decision is also a chained audit record naming the signed-in person.
    records = read_audit(running.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=500)
    decided = [(r.tool, r.oversight.person) for r in records if r.oversight is not None]
    assert decided == [("governance.case-take-over", agent.name), ("governance.case-hand-back", agent.name)]


async def test_packet_validates_and_unknown_cases_are_not_found(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    agent = await staff_client("agent")
    await chat.say("what plans do you have?")  # an ordinary conversation is not the console's
    not_escalated = await agent.get(f"/api/console/escalations/{chat.conversation_id}")
    assert not_escalated.status_code == 404, not_escalated.text
    refused = await agent.post(f"/api/console/escalations/{chat.conversation_id}/take-over")
    assert refused.status_code == 404
    missing = await agent.get("/api/console/escalations/conv-does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    await escalate(chat, "get me a human")
    assert EscalationPacket.model_validate((await agent.get(f"/api/console/escalations/{chat.conversation_id}")).json())
