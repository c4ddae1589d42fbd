"""Two orchestrator processes of ``switchboard up --workers``: what one knows, the other knows.

Each worker here is a whole orchestrator app, configured as the launcher configures worker 1
and worker 2 of two (``Stack.orchestrator_config``), on a data directory of their own and a
real socket each, in front of one running stack. The kernel hands a connection to either
process of ``up``; the tests choose which, so every case is deterministic: a staff sign-in
on one worker, an external agent's task and a web-chat stream ticket, used on the other, and
the admission limit shared so that the two admit the configured total, not twice it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from a2a.client import A2ACardResolver, AuthInterceptor, Client, ClientConfig, ClientFactory
from a2a.types import AgentInterface, GetTaskRequest, TaskState
from a2a.utils.errors import TaskNotFoundError

from orchestrator.admission import DEFAULT_TARGET_SECONDS
from orchestrator.api import OrchestratorConfig, build_orchestrator_app
from orchestrator.launcher import Stack
from shared.service_auth import AudienceCredentials
from shared.serving import serving
from shared.settings import A2A_JSONRPC_PATH
from tests.channels.sse import ticket_for
from tests.channels.test_admission import HeldRouter
from tests.e2e.conftest import Chat, RunningStack
from tests.e2e.test_a2a_front import register, send

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def worker_config(running: RunningStack, data_dir: Path, worker: int, **settings: Any) -> OrchestratorConfig:
    """Worker ``worker`` of two, as ``up --workers 3`` starts it, on ``data_dir``."""
    base = running.stack
    stack = Stack(base.settings.model_copy(update={"data_dir": data_dir, **settings}), agents=base.agents)
    stack.secrets, stack.topology = base.secrets, base.topology
    stack.front_worker, stack.front_workers = worker, 2
    return stack.orchestrator_config()


@contextlib.asynccontextmanager
async def two_workers(
    running: RunningStack, data_dir: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    configs = [dataclasses.replace(worker_config(running, data_dir, i), **overrides) for i in (0, 1)]
    async with (
        serving(build_orchestrator_app(configs[0]), name="orchestrator-1") as one,
        serving(build_orchestrator_app(configs[1]), name="orchestrator-2") as two,
        httpx.AsyncClient(base_url=one, timeout=30) as first,
        httpx.AsyncClient(base_url=two, timeout=30) as second,
    ):
        yield first, second


@contextlib.asynccontextmanager
async def a2a_client_of(http: httpx.AsyncClient, credentials: AudienceCredentials) -> AsyncIterator[Client]:
    """An A2A client that reaches the worker ``http`` talks to (the card names the shared URL)."""
    card = await A2ACardResolver(http, str(http.base_url)).get_agent_card()
    del card.supported_interfaces[:]
    card.supported_interfaces.append(
        AgentInterface(url=f"{http.base_url}{A2A_JSONRPC_PATH}", protocol_binding="JSONRPC", protocol_version="1.0")
    )
    config = ClientConfig(streaming=False, httpx_client=http, supported_protocol_bindings=["JSONRPC"])
    yield ClientFactory(config).create(card, interceptors=[AuthInterceptor(credentials)])


async def sign_in(http: httpx.AsyncClient, name: str, token: str) -> str:
    """The staff sign-in form as a browser posts it; returns the session's CSRF token."""
    page = await http.get("/console/sign-in")
    form_token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = await http.post("/console/sign-in", data={"csrf_token": form_token, "name": name, "token": token})
    assert signed.status_code == 303, signed.text
    return str((await http.get("/api/console/session")).json()["csrf_token"])


async def test_a_staff_sign_in_on_one_worker_holds_on_the_other(running: RunningStack, tmp_path: Path) -> None:
    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token("compliance")
    async with two_workers(running, tmp_path) as (first, second):
        csrf = await sign_in(first, name, token)
        second.cookies = first.cookies  # the browser's next request reaches the other process
        session = await second.get("/api/console/session")
        assert session.status_code == 200, session.text
        assert (session.json()["name"], session.json()["csrf_token"]) == (name, csrf)

        out = await second.post("/console/sign-out", data={"csrf_token": csrf})
        assert out.status_code == 303, out.text
        # The first worker's browser still sends the cookie: the session behind it is gone.
        assert (await first.get("/api/console/session")).status_code == 401


async def test_an_a2a_task_started_on_one_worker_is_found_on_the_other(running: RunningStack, tmp_path: Path) -> None:
    partner = register(running, "two-workers")
    async with (
        two_workers(running, tmp_path) as (first, second),
        a2a_client_of(first, partner) as via_first,
        a2a_client_of(second, partner) as via_second,
    ):
        asked = await send(via_first, "I think I was charged twice")
        assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, asked
        assert len(asked.context_id) == 37  # "conv-" and 32 hex digits

        found = await via_second.get_task(GetTaskRequest(id=asked.id))
        assert (found.id, found.context_id, found.status.state) == (asked.id, asked.context_id, asked.status.state)
        # The conversation goes on through the other worker, on the same task.
        answered = await send(via_second, "it's nobody@example.com", context_id=asked.context_id, task_id=asked.id)
        assert answered.id == asked.id and answered.status.state == TaskState.TASK_STATE_INPUT_REQUIRED

        stranger = register(running, "stranger")
        async with a2a_client_of(second, stranger) as other:
            with pytest.raises(TaskNotFoundError):  # tasks stay scoped to the agent that owns them
                await other.get_task(GetTaskRequest(id=asked.id))


async def test_a_stream_ticket_from_one_worker_opens_the_stream_on_the_other(
    running: RunningStack, tmp_path: Path
) -> None:
    async with two_workers(running, tmp_path) as (first, second):
        chat = await Chat(first, running).start()
        ticket = await ticket_for(first, chat.conversation_id, chat.token)
        params = {"ticket": ticket, "after": "0"}
        async with second.stream("GET", f"/api/conversations/{chat.conversation_id}/events", params=params) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("event: entry"):
                    break  # the disclosure the conversation opened with, read from the shared store


async def test_two_workers_together_shed_at_the_configured_total(running: RunningStack, tmp_path: Path) -> None:
    # SWITCHBOARD_MAX_TURNS_IN_FLIGHT=2 over two workers: one slot each, two in all.
    routers = [HeldRouter(), HeldRouter()]
    configs = [
        dataclasses.replace(
            worker_config(running, tmp_path, i, max_turns_in_flight=2, retry_after_seconds=3), router_model=routers[i]
        )
        for i in (0, 1)
    ]
    async with (
        serving(build_orchestrator_app(configs[0]), name="orchestrator-1") as one,
        serving(build_orchestrator_app(configs[1]), name="orchestrator-2") as two,
        httpx.AsyncClient(base_url=one, timeout=30) as first,
        httpx.AsyncClient(base_url=two, timeout=30) as second,
    ):
        chats = [await Chat(first, running).start(), await Chat(second, running).start()]
        waiting = await Chat(second, running).start()
        held = [asyncio.create_task(chat.say("why is my bill so high this month?")) for chat in chats]
        with anyio.fail_after(20):
            for router in routers:
                await router.entered.wait()
        for http in (first, second):
            load = (await http.get("/healthz")).json()["load"]
            shares = {k: load[k] for k in ("in_flight", "capacity", "shed", "workers", "total_capacity")}
            assert shares == {"in_flight": 1, "capacity": 1, "shed": 0, "workers": 2, "total_capacity": 2}, load
            assert (load["floor"], load["ceiling"]) == (1, 1)  # the adaptive limit has no room to move

        auth = {"Authorization": f"Bearer {waiting.token}"}
        for http in (first, second):  # the configured total is in flight: either worker sheds
            shed = await http.post(
                f"/api/conversations/{waiting.conversation_id}/messages", json={"text": "hi"}, headers=auth
            )
            assert shed.status_code == 503, shed.text
            assert shed.headers["retry-after"] == "3"
            assert shed.json()["error"]["code"] == "overloaded"

        routers[0].release.set()
        with anyio.fail_after(20):
            await held[0]
        # A slot is free again on the first worker; the second is still full.
        turn = await first.post(
            f"/api/conversations/{waiting.conversation_id}/messages", json={"text": "hello"}, headers=auth
        )
        assert turn.status_code == 200, turn.text
        routers[1].release.set()
        with anyio.fail_after(20):
            await held[1]
        assert (await second.get("/healthz")).json()["load"]["shed"] == 1


async def test_one_worker_alone_keeps_the_whole_limit(running: RunningStack, tmp_path: Path) -> None:
    stack = Stack(running.stack.settings.model_copy(update={"data_dir": tmp_path, "max_turns_in_flight": 5}))
    stack.secrets, stack.topology = running.stack.secrets, running.stack.topology
    assert stack.orchestrator_config().admission.max_in_flight == 5
    # Offline, the limit adapts to the default latency target between the minimum and this maximum.
    assert stack.orchestrator_config().admission.target_seconds == DEFAULT_TARGET_SECONDS
    stack.front_workers = 2
    shares = []
    for worker in (0, 1):
        stack.front_worker = worker
        shares.append(stack.orchestrator_config().admission.max_in_flight)
    assert shares == [3, 2]
