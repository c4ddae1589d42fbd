"""A caller in the queue: a long hold ended by a person, and a hang-up the console sees, then a call back."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.channels.store import ChannelStore
from tests.channels.twilio_calls import Call, hangs_up, listens, spoken
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

HOLD_LOOKS = 60
"""Sixty silent looks of five seconds each: a five-minute hold."""


async def conversation_of(running: RunningStack, call: Call) -> str:
    conversation_id = (await ChannelStore(running.data_dir / "channels.db").call(call.call_sid)).conversation_id
    assert conversation_id is not None
    return conversation_id


async def test_a_long_hold_is_never_hung_up_and_ends_with_the_persons_words(
    running: RunningStack, staff_client: StaffFactory
) -> None:
    agent = await staff_client("agent")
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        call = Call(http, "CA" + "a7" * 16, caller="+15550100207")
        await call.ring()
        queued = await call.say("I'd like to talk to a person please")
        words = spoken(queued)
        assert "member of our team" in words and "in the queue" in words and "estimated wait" in words, words
        gather = queued.find("Gather")
        assert gather is not None and gather.get("timeout") == "5" and listens(queued)

        places = 0
        for _ in range(HOLD_LOOKS):
            look = await call.silence()
            assert listens(look) and not hangs_up(look), call.heard[-3:]
            places += "estimated wait" in spoken(look)
        assert places == HOLD_LOOKS // 6, f"the place is repeated every six looks, heard it {places} times"

        conversation_id = await conversation_of(running, call)
        base = f"/api/console/escalations/{conversation_id}"
        assert (await agent.post(f"{base}/take-over")).status_code == 200
        await agent.post(f"{base}/replies", json={"text": "Hello, this is Sam. Sorry for the wait, how can I help?"})
        answered = await call.silence()
        words = spoken(answered)
        assert words.index("joined the call") < words.index("this is Sam"), words
        assert listens(answered)
        await agent.post(f"{base}/hand-back")


async def test_a_hang_up_leaves_the_queue_and_a_call_back_carries_on(
    running: RunningStack, staff_client: StaffFactory
) -> None:
    agent = await staff_client("agent")
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        caller = "+15550100208"
        first = Call(http, "CA" + "a8" * 16, caller=caller)
        await first.ring()
        assert "in the queue" in spoken(await first.say("can I speak to someone"))
        conversation_id = await conversation_of(running, first)
        queue = (await agent.get("/api/console/escalations")).json()["items"]
        assert conversation_id in [item["conversation_id"] for item in queue]

        ended = await first.hang_up()
        assert ended.status_code == 204
        assert (await first.hang_up()).status_code == 204, "a repeated callback changes nothing"
        queue = (await agent.get("/api/console/escalations")).json()["items"]
        assert conversation_id not in [item["conversation_id"] for item in queue], "the hung-up call left the queue"
        lines = (await agent.get(f"/api/console/escalations/{conversation_id}/transcript")).json()
        assert lines["status"] == "closed"
        notes = [line["text"] for line in lines["lines"] if "hung up" in line["text"]]
        assert notes == ["The caller hung up while waiting for a member of our team."], lines["lines"]

        # Someone else calling gets no offer; the same number within the window does.
        stranger = Call(http, "CA" + "b8" * 16, caller="+15550100209")
        assert "carry on" not in spoken(await stranger.ring())
        again = Call(http, "CA" + "a9" * 16, caller=caller)
        offer = await again.ring()
        assert "carry on" in spoken(offer) and listens(offer)
        back = await again.say("yes please")
        assert "waiting to speak to a member of our team" in spoken(back), spoken(back)
        assert await conversation_of(running, again) == conversation_id
        answer = await again.say("what plans do you have")
        assert listens(answer) and await conversation_of(running, again) == conversation_id
        await again.hang_up()


async def test_a_call_back_set_aside_the_verified_identity(running: RunningStack) -> None:
    # Caller ID proves nothing: carrying on by number asks who the caller is again before account details.
    customer = running.customers(200)[150]
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        first = Call(http, "CA" + "c8" * 16, caller=customer["msisdn"])
        await first.ring()
        await first.say("I'd like to understand my last bill")
        await first.say(customer["email"])
        verified = await first.keys(running.latest_code(customer["customer_id"]))
        assert "verified" in spoken(verified).lower(), spoken(verified)
        await first.hang_up()

        again = Call(http, "CA" + "c9" * 16, caller=customer["msisdn"])
        await again.ring()
        assert "earlier conversation" in spoken(await again.say("yes"))
        asked = await again.say("what is my latest bill")
        assert "confirm who you are" in spoken(asked).lower(), spoken(asked)
