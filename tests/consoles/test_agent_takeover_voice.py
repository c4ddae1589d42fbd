"""A human's replies reach a caller: on the caller's next phone turn, or while they wait on the line."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.channels.store import ChannelStore
from tests.channels.twilio_calls import Call, listens, spoken
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_caller_hears_the_human_on_the_phone(running: RunningStack, staff_client: StaffFactory) -> None:
    agent = await staff_client("agent")
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        call = Call(http, "CA" + "7e" * 16, caller="+15550100177")
        await call.ring()
        queued = await call.say("I want to speak to a person")
        assert "member of our team" in spoken(queued), spoken(queued)
        conversation_id = (await ChannelStore(running.data_dir / "channels.db").call(call.call_sid)).conversation_id
        queue = (await agent.get("/api/console/escalations")).json()["items"]
        assert any(i["conversation_id"] == conversation_id and i["channel"] == "voice" for i in queue), queue
        base = f"/api/console/escalations/{conversation_id}"
        assert (await agent.post(f"{base}/take-over")).status_code == 200

        # The caller is on hold: the next look announces the person who joined.
        joined = await call.silence()
        assert "joined the call" in spoken(joined) and listens(joined), spoken(joined)

        # The caller speaks: it goes to the human, and the caller is told so, not answered by the AI.
        passed = await call.say("my phone has no signal since yesterday")
        assert "passed that to our colleague" in spoken(passed) and listens(passed)
        lines = (await agent.get(f"{base}/transcript")).json()["lines"]
        assert lines[-1]["role"] == "customer" and lines[-1]["channel"] == "voice"

        # The caller waits in silence; the human's reply is read out at the next look, once.
        waiting = await call.silence()
        assert listens(waiting) and "mast" not in spoken(waiting)
        await agent.post(f"{base}/replies", json={"text": "I can see a mast fault near you; it is fixed tonight."})
        heard = await call.silence()
        assert "mast fault" in spoken(heard) and listens(heard)
        again = await call.silence()
        assert "mast fault" not in spoken(again) and listens(again)

        # A reply written before the caller next speaks is what that turn says.
        await agent.post(f"{base}/replies", json={"text": "Anything else I can do for you?"})
        turn = await call.say("okay thanks")
        assert "Anything else" in spoken(turn), spoken(turn)

        # The hand-back is announced at the next look, and the assistant answers again.
        assert (await agent.post(f"{base}/hand-back")).status_code == 200
        back = await call.silence()
        assert "back with our virtual assistant" in spoken(back), spoken(back)
        answer = await call.say("what's my data allowance")
        assert "colleague" not in spoken(answer).lower()[:40], spoken(answer)
