"""A take-over is a lease: it ends with the person's session, and supervisors can move any case."""

from __future__ import annotations

import pytest

from shared.escalation import EscalationQueue
from tests.consoles.agent_helpers import escalate, packet_of, queue_item
from tests.consoles.conftest import StaffClient, Team

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _queue(staff: StaffClient) -> EscalationQueue:
    response = await staff.get("/api/console/escalations")
    assert response.status_code == 200, response.text
    return EscalationQueue.model_validate(response.json())


def _base(conversation_id: str) -> str:
    return f"/api/console/escalations/{conversation_id}"


async def test_a_sign_out_puts_the_case_back_on_top_for_another_agent(team: Team) -> None:
    first, second = await team.customer(), await team.customer()
    await escalate(first, "can I talk to a person please")
    await escalate(second, "a human please")
    ben, cleo = await team.sign_in("ben"), await team.sign_in("cleo")

    assert (await ben.post(f"{_base(first.conversation_id)}/take-over")).status_code == 200
    taken = queue_item(await _queue(cleo), first.conversation_id)
    assert (taken.state, taken.taken_by, taken.position) == ("taken", "ben", None)
    lost = await cleo.post(f"{_base(first.conversation_id)}/take-over")
    assert lost.status_code == 409, lost.text  # the loser learns who has it and what to do
    assert "ben took this case" in lost.json()["error"]["message"]
    assert "pick another case" in lost.json()["error"]["hint"]

    assert (await ben.sign_out()).status_code == 303
    # The customer, still writing, is told the truth: waiting again, first in line before the later case.
    hello = await first.say("hello? is anyone there?")
    assert hello["status"] == "escalated" and "You're number" in hello["reply"], hello
    queue = await _queue(cleo)
    back, later = queue_item(queue, first.conversation_id), queue_item(queue, second.conversation_id)
    assert back.state == "returned" and back.taken_by is None and "ben signed out" in back.note
    assert back.position is not None and later.position is not None and back.position < later.position
    assert hello["data"]["queue"]["position"] == back.position
    assert back.waiting_seconds >= later.waiting_seconds  # the full wait, from the first request

    assert (await cleo.post(f"{_base(first.conversation_id)}/take-over")).status_code == 200
    packet = await packet_of(cleo, first.conversation_id)
    assert packet.human is not None and packet.human.name == "cleo"
    assert [(e.action, e.actor) for e in packet.case_log] == [
        ("take-over", "ben"),
        ("lapsed", "system"),
        ("take-over", "cleo"),
    ]
    assert (await cleo.post(f"{_base(first.conversation_id)}/hand-back")).status_code == 200
    assert (await cleo.post(f"{_base(second.conversation_id)}/take-over")).status_code == 200
    assert (await cleo.post(f"{_base(second.conversation_id)}/hand-back")).status_code == 200


async def test_a_supervisor_reassigns_and_releases_and_an_agent_transfers(team: Team) -> None:
    customer = await team.customer()
    await escalate(customer, "I want to speak to someone")
    base = _base(customer.conversation_id)
    ben, cleo, sam = await team.sign_in("ben"), await team.sign_in("cleo"), await team.sign_in("sam")
    assert (await ben.post(f"{base}/take-over")).status_code == 200

    refused = await ben.post(f"{base}/reassign", json={"to": "cleo"})
    assert refused.status_code == 403, refused.text  # only a supervisor moves someone else's case
    assert (await cleo.post(f"{base}/transfer", json={"to": "cleo"})).status_code == 409  # not hers to pass on
    assert (await ben.post(f"{base}/transfer", json={"to": "nobody-here"})).status_code == 400

    moved = await sam.post(f"{base}/reassign", json={"to": "cleo", "note": "ben is on a long call"})
    assert moved.status_code == 200 and moved.json()["human"]["name"] == "cleo", moved.text
    late = await ben.post(f"{base}/replies", json={"text": "still there?"})
    assert late.status_code == 409 and "cleo took this case" in late.json()["error"]["message"], late.text
    assert (await cleo.post(f"{base}/replies", json={"text": "Hi, I'm Cleo."})).status_code == 201

    passed = await cleo.post(f"{base}/transfer", json={"to": "ben", "note": "billing question, ben knows it"})
    assert passed.status_code == 200 and passed.json()["human"]["name"] == "ben", passed.text
    released = await sam.post(f"{base}/release", json={"note": "end of ben's shift"})
    assert released.status_code == 200 and released.json()["human"] is None
    item = queue_item(await _queue(sam), customer.conversation_id)
    assert item.state == "returned" and item.note == "end of ben's shift" and item.position is not None

    packet = await packet_of(sam, customer.conversation_id)
    assert [(e.action, e.actor, e.holder) for e in packet.case_log] == [
        ("take-over", "ben", "ben"),
        ("reassigned", "sam", "cleo"),
        ("answered", "cleo", "cleo"),
        ("transferred", "cleo", "ben"),
        ("released", "sam", None),
    ]
    assert "reassigned the case to cleo" in [e.title for e in packet.timeline if e.kind == "human"]
    assert (await sam.post(f"{base}/take-over")).status_code == 200
    assert (await sam.post(f"{base}/hand-back")).status_code == 200
