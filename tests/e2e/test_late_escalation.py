"""A request for a person is never lost: the conversation is escalated even when the escalation
agent answers after the turn's deadline, and the customer is told a colleague was asked.

The escalation agent is the real one, reached through a proxy that holds its answers until the
test lets them through: exactly what a busy agent looks like to the supervisor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.conversations import SqliteConversationStore
from orchestrator.routing import Brain, build_brain
from orchestrator.specialists import SpecialistDirectory
from orchestrator.supervisor import Supervisor
from orchestrator.turn_deadline import HUMAN_ASKED, NOT_STARTED
from shared.serving import serving
from shared.settings import Settings
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class HeldAgent:
    """A reverse proxy to one agent whose message calls wait until ``release`` is set."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.release = asyncio.Event()
        self.held = 0
        self.url = ""

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        if request.method == "POST":
            self.held += 1
            await self.release.wait()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.request(request.method, self.upstream + request.url.path, content=body, headers=headers)
        content = answer.content
        if request.url.path.endswith("agent-card.json"):
            content = content.replace(self.upstream.encode(), self.url.encode())  # callers come back here
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "cache-control", "etag")}
        return Response(content, status_code=answer.status_code, headers=kept)


def _brain(directory: SpecialistDirectory) -> Brain:
    """The running stack's skills, routed with the weights its start cached (no training again)."""
    return build_brain(directory.skill_specs(), cache_dir=Settings().cache_dir)


@pytest_asyncio.fixture(loop_scope="session")
async def late_escalation(running: RunningStack, tmp_path: Path) -> AsyncIterator[tuple[Supervisor, HeldAgent]]:
    agents = dict(running.topology.agents)
    held = HeldAgent(agents["escalation"])
    app = Starlette(routes=[Route("/{path:path}", held.forward, methods=["GET", "POST"])])
    async with serving(app, name="held-escalation") as url:
        held.url = url
        agents["escalation"] = url
        directory = await SpecialistDirectory.discover(
            list(agents.values()), tokens=running.stack.service_auth("orchestrator").tokens, timeout=20
        )
        store = await SqliteConversationStore.open(tmp_path / "conversations.db")
        supervisor = Supervisor(store, directory, _brain(directory), turn_seconds=3.0)
        try:
            yield supervisor, held
        finally:
            held.release.set()
            await directory.close()
            await store.close()


async def test_a_late_escalation_agent_still_escalates_the_conversation(
    late_escalation: tuple[Supervisor, HeldAgent],
) -> None:
    supervisor, held = late_escalation
    state, _ = await supervisor.start()

    outcome = await supervisor.turn(state.conversation_id, "I want to talk to a real person please")

    assert held.held == 1  # the hand-off was sent, and the agent had not answered by the deadline
    assert outcome.status == "escalated", outcome
    assert HUMAN_ASKED in outcome.reply and "couldn't reach" not in outcome.reply
    saved = await supervisor.store.load(state.conversation_id)
    assert saved.status == "escalated" and saved.escalation is not None
    # The agent's late answer changes nothing: the conversation stays with the staff queue.
    held.release.set()
    again = await supervisor.turn(state.conversation_id, "hello?")
    assert again.status == "escalated"


async def test_a_turn_with_no_time_left_starts_nothing_and_says_so(running: RunningStack, tmp_path: Path) -> None:
    directory = await SpecialistDirectory.discover(
        list(running.topology.agents.values()), tokens=running.stack.service_auth("orchestrator").tokens, timeout=20
    )
    store = await SqliteConversationStore.open(tmp_path / "conversations.db")
    try:
        # Shorter than the specialist's reserve: no hand-off can start within it.
        supervisor = Supervisor(store, directory, _brain(directory), turn_seconds=1.0)
        state, _ = await supervisor.start()
        outcome = await supervisor.turn(state.conversation_id, "why is my bill so high")
        assert NOT_STARTED in outcome.reply and outcome.status == "unavailable", outcome
    finally:
        await directory.close()
        await store.close()
