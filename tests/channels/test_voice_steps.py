"""Every webhook answers within the bound: a slow turn goes on behind a holding line; a retry is not a new turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from orchestrator.channels import ChannelSettings, TurnHub, channel_routes
from orchestrator.channels.store import ChannelStore
from orchestrator.conversations import SqliteConversationStore
from orchestrator.routing import Brain, RouteDecision, build_brain
from orchestrator.specialists import SpecialistDirectory
from orchestrator.supervisor import Supervisor
from shared.settings import Settings
from tests.channels.twilio_calls import Call, fields, listens, spoken, step_of, twiml
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class SlowBrain:
    """The real offline router, held until the test releases it: a model that takes its time."""

    def __init__(self, brain: Brain) -> None:
        self._brain = brain
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def route(self, text: str) -> RouteDecision:
        self.calls += 1
        self.entered.set()
        async with asyncio.timeout(30):
            await self.release.wait()
        return await self._brain.route(text)


@dataclass
class SlowLine:
    http: httpx.AsyncClient
    brain: SlowBrain
    supervisor: Supervisor
    channels: ChannelStore

    async def customer_turns(self, call_sid: str) -> list[str]:
        conversation_id = (await self.channels.call(call_sid)).conversation_id
        assert conversation_id is not None
        transcript = await self.supervisor.store.transcript(conversation_id)
        return [e.text for e in transcript if e.role == "customer"]


@pytest_asyncio.fixture(loop_scope="session")
async def slow_line(running: RunningStack, tmp_path: Path) -> AsyncIterator[SlowLine]:
    directory = await SpecialistDirectory.discover(
        list(running.topology.agents.values()), tokens=running.stack.service_auth("orchestrator").tokens, timeout=20
    )
    store = await SqliteConversationStore.open(tmp_path / "conversations.db")
    brain = SlowBrain(build_brain(directory.skill_specs(), cache_dir=Settings().cache_dir))
    hub = TurnHub()
    supervisor = Supervisor(store, directory, brain, on_saved=hub.changed)
    settings = ChannelSettings(voice_answer_within_seconds=0.3)
    channels = ChannelStore(tmp_path / "channels.db")
    await channels.open()
    app = Starlette(routes=channel_routes(lambda: supervisor, channels, settings, hub))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://line.test") as http:
            yield SlowLine(http, brain, supervisor, channels)
    finally:
        brain.release.set()
        await directory.close()
        await store.close()


async def test_a_slow_turn_goes_on_behind_a_holding_line(slow_line: SlowLine) -> None:
    call = Call(slow_line.http, "CA" + "51" * 16, caller="+15550100151")
    await call.ring()
    action = call.action
    form = fields(call.call_sid, call.caller, SpeechResult="why is my bill so high", Confidence="0.9")
    first = await call.post(action, form)
    holding = twiml(first)
    assert slow_line.brain.entered.is_set(), "the turn started"
    assert "One moment" in spoken(holding) and holding.find("Gather") is None
    redirect = holding.find("Redirect")
    assert redirect is not None and redirect.text and "/voice/twilio/result" in redirect.text

    # The platform retries the same delivery: the same answer, and the turn does not run again.
    retried = await call.post(action, form)
    assert retried.content == first.content
    # Still running: the result says nothing new and sends the caller back to wait.
    waiting = twiml(await call.post(redirect.text, fields(call.call_sid, call.caller)))
    assert waiting.find("Gather") is None and waiting.find("Redirect") is not None

    slow_line.brain.release.set()
    answer = await call.follow(waiting)
    assert listens(answer) and "confirm who you are" in spoken(answer).lower(), call.heard
    assert slow_line.brain.calls == 1
    assert await slow_line.customer_turns(call.call_sid) == ["why is my bill so high"]
    # A late retry of the first delivery still gets what the first delivery got, and runs nothing.
    assert (await call.post(action, form)).content == first.content
    assert slow_line.brain.calls == 1


async def test_a_retried_webhook_is_answered_again_without_a_second_turn(slow_line: SlowLine) -> None:
    slow_line.brain.release.set()  # a model that answers at once
    call = Call(slow_line.http, "CA" + "52" * 16, caller="+15550100152")
    await call.ring()
    action = call.action
    form = fields(call.call_sid, call.caller, SpeechResult="what plans do you have", Confidence="0.9")
    first = await call.post(action, form)
    second = await call.post(action, form)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    gather = twiml(first).find("Gather")
    assert gather is not None and step_of(gather.get("action") or "") != step_of(action), "each answer is a new step"
    assert slow_line.brain.calls == 1
    assert await slow_line.customer_turns(call.call_sid) == ["what plans do you have"]
