"""What customers are told about the queue is what the console shows, and a person can be asked for again."""

from __future__ import annotations

import re

import pytest

from shared.escalation import EscalationQueue
from tests.consoles.agent_helpers import escalate, packet_of, queue_item
from tests.consoles.conftest import StaffClient, Team
from tests.e2e.conftest import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

_TOLD = re.compile(r"You're number (\d+) in the queue")


async def _queue(staff: StaffClient) -> EscalationQueue:
    response = await staff.get("/api/console/escalations")
    assert response.status_code == 200, response.text
    return EscalationQueue.model_validate(response.json())


async def _told(chat: Chat) -> int:
    """The position the customer reads when they ask how long it will be."""
    reply = await chat.say("how much longer will it be?")
    found = _TOLD.search(reply["reply"])
    assert reply["status"] == "escalated" and found, reply
    assert "estimated wait" in reply["reply"]
    return int(found.group(1))


async def test_three_customers_are_told_their_place_in_the_consoles_order(team: Team) -> None:
    first, second, urgent = await team.customer(), await team.customer(), await team.customer()
    await escalate(first, "can I talk to a person")
    await escalate(second, "I'd like to speak to someone")
    told = await escalate(urgent, "this is urgent, I need a human agent now")
    assert told["data"]["priority"] == "high"
    ben = await team.sign_in("ben")

    for _ in range(2):  # before and after a pick-up, customers hear exactly the console's order
        queue = await _queue(ben)
        waiting = [i.conversation_id for i in queue.items if i.taken_by is None]
        assert [i.position for i in queue.items if i.taken_by is None] == list(range(1, len(waiting) + 1))
        mine = [c for c in (urgent, first, second) if c.conversation_id in waiting]
        positions = [await _told(c) for c in mine]
        assert positions == [queue_item(queue, c.conversation_id).position for c in mine]
        assert positions == sorted(positions)  # high priority first, then the longest waiting
        state = await mine[0].state()
        assert state["queue"]["position"] == positions[0] and state["queue"]["estimated_wait_seconds"] > 0
        # The case at the head of the queue is picked up: everyone behind it moves up one.
        head = next(i for i in queue.items if i.position == 1)
        assert (await ben.post(f"/api/console/escalations/{head.conversation_id}/take-over")).status_code == 200

    assert (await urgent.state())["queue"] is None  # held by a person: no longer waiting
    for item in (await _queue(ben)).items:
        if item.taken_by == "ben":
            assert item.state == "taken"
            assert (await ben.post(f"/api/console/escalations/{item.conversation_id}/hand-back")).status_code == 200


async def test_after_a_hand_back_the_customer_can_ask_for_a_person_again(team: Team) -> None:
    customer = await team.customer()
    first = await escalate(customer, "let me talk to a person")
    base = f"/api/console/escalations/{customer.conversation_id}"
    ben = await team.sign_in("ben")
    assert (await ben.post(f"{base}/take-over")).status_code == 200
    assert (await ben.post(f"{base}/replies", json={"text": "Your router needs a restart."})).status_code == 201
    back = await ben.post(f"{base}/hand-back", json={"note": "told them to restart the router; call back if not"})
    assert back.status_code == 200 and back.json()["status"] == "open", back.text

    recalled = await customer.say("sorry, what did Ben tell me?")
    assert "Your router needs a restart." in recalled["reply"], recalled
    assert "restart the router; call back if not" in recalled["reply"]

    again = await escalate(customer, "it still doesn't work, I want a person again")
    assert again["data"]["handoff_id"] != first["data"]["handoff_id"], again
    assert first["data"]["priority"] == "normal"
    assert again["data"]["priority"] == "urgent", again["data"]  # a second request for a person goes first
    assert _TOLD.search(again["reply"]), again
    queue = await _queue(ben)
    item = queue_item(queue, customer.conversation_id)
    assert item.state == "waiting" and item.taken_by is None and item.position is not None
    assert item.priority == "urgent"
    packet = await packet_of(ben, customer.conversation_id)
    assert packet.case_summary is not None
    assert packet.case_summary.urgent_because == ["the customer asked for a person 2 times"]
    assert packet.handoff_id == again["data"]["handoff_id"]
    # The whole conversation, including what the human said and noted, is in the packet's summary.
    steps = " ".join(packet.conversation_steps)
    assert "Your router needs a restart." in steps and "call back if not" in steps
    # From the first request for a person to the second: the whole conversation, in order.
    assert [s.split(":")[0] for s in (packet.conversation_steps[0], packet.conversation_steps[-1])] == [
        "escalation",
        "escalation",
    ]
    assert (await ben.post(f"{base}/take-over")).status_code == 200
    assert (await ben.post(f"{base}/hand-back")).status_code == 200


async def test_a_stolen_phone_goes_ahead_of_earlier_cases(team: Team) -> None:
    earlier, stolen = await team.customer(), await team.customer()
    await escalate(earlier, "this is unacceptable, I want to talk to a person")
    told = await escalate(stolen, "my phone was stolen and someone is using my number, get me a person")
    assert told["data"]["priority"] == "urgent", told["data"]
    ben = await team.sign_in("ben")
    queue = await _queue(ben)
    first, second = queue_item(queue, stolen.conversation_id), queue_item(queue, earlier.conversation_id)
    assert first.priority == "urgent" and second.priority == "high"
    assert first.position is not None and second.position is not None and first.position < second.position
    assert await _told(stolen) == first.position
    packet = await packet_of(ben, stolen.conversation_id)
    assert packet.priority == "urgent"
    for chat in (stolen, earlier):  # leave the shared queue as it was
        base = f"/api/console/escalations/{chat.conversation_id}"
        assert (await ben.post(f"{base}/take-over")).status_code == 200
        assert (await ben.post(f"{base}/hand-back")).status_code == 200
