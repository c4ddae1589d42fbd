"""Fixtures: specialists on real loopback sockets, driven by the A2A client.

New agent tests use ``tests/agents/real_gateway.py`` (the real gateway and reference systems), as
the restart, PostgreSQL-state, streaming, sign-in, contract-end, payment-method, lost-phone and
complaint tests do. The ``gateway`` fixture here is the older stand-in (``fake_gateway.py``), still
used by the orders and plan-step tests, pruning, the JavaScript client and the LLM-loop tests until
they move over.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from a2a.client import Client, ClientConfig, create_client
from a2a.helpers import get_message_text
from a2a.types import Message, Part, Role, SendMessageRequest, Task, TaskState
from starlette.types import ASGIApp

from agents import build_app
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope, CustomerKeys, CustomerRef
from shared.handoff import HANDOFF_META_KEY, RESULT_META_KEY, HandoffRequest, SpecialistResult
from shared.skills import SKILLS_DIR
from tests.agents.fake_gateway import CUSTOMER, FakeGateway, build_gateway
from tests.service_tokens import TokenAuthority, as_orchestrator

WAIT = 10.0

AUTHORITY = TokenAuthority.temporary()


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve(stack: AsyncExitStack, app: ASGIApp, sock: socket.socket) -> str:
    """Serve ``app`` on ``sock`` until the stack closes; returns the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def stop() -> None:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task

    stack.push_async_callback(stop)
    async with asyncio.timeout(WAIT):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def verified_envelope(conversation_id: str = "conv-1", summary: str = "customer is on chat") -> ContextEnvelope:
    return ContextEnvelope(
        conversation_id=conversation_id,
        customer=CustomerRef(keys=CustomerKeys(**CUSTOMER), display_name="Ana"),
        auth_context="signed.auth.context",
        summary=summary,
    )


@dataclass
class Answer:
    text: str
    result: SpecialistResult
    context_id: str
    task_id: str
    state: TaskState.ValueType


@dataclass
class Specialist:
    """One running specialist and an A2A client to it."""

    name: str
    base_url: str
    client: Client

    async def send_metadata(self, text: str, metadata: dict[str, Any], *, task: Answer | None = None) -> Answer:
        message = Message(
            role=Role.ROLE_USER,
            message_id=str(uuid.uuid4()),
            parts=[Part(text=text)],
            task_id=task.task_id if task else "",
            context_id=task.context_id if task else "",
        )
        message.metadata.update(metadata)
        async with asyncio.timeout(WAIT):
            events = [ev async for ev in self.client.send_message(SendMessageRequest(message=message))]
        assert len(events) == 1 and events[0].WhichOneof("payload") == "task"
        return answer_of(events[0].task)

    async def send(
        self,
        text: str,
        skill: str,
        *,
        task: Answer | None = None,
        envelope: ContextEnvelope | None = None,
        reason: str = "",
        request_id: str = "",
    ) -> Answer:
        """Start a task for ``skill``, or continue ``task`` (an earlier answer that waits)."""
        metadata = handoff_metadata(skill, envelope=envelope, reason=reason, request_id=request_id)
        return await self.send_metadata(text, metadata, task=task)


def handoff_metadata(
    skill: str, *, envelope: ContextEnvelope | None = None, reason: str = "", request_id: str = ""
) -> dict[str, Any]:
    env = envelope if envelope is not None else verified_envelope()
    handoff = HandoffRequest(skill=skill, reason=reason, request_id=request_id)
    return {ENVELOPE_META_KEY: env.model_dump_json(), HANDOFF_META_KEY: handoff.model_dump_json()}


def answer_of(task: Task) -> Answer:
    """The reply a task carries: its status message's text and the SpecialistResult in its metadata."""
    reply = task.status.message
    assert reply.role == Role.ROLE_AGENT
    result = SpecialistResult.model_validate_json(reply.metadata[RESULT_META_KEY])
    return Answer(get_message_text(reply), result, task.context_id, task.id, task.status.state)


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exit_stack:
        yield exit_stack


@pytest.fixture
async def gateway(stack: AsyncExitStack) -> FakeGateway:
    state = FakeGateway()
    app = build_gateway(state).streamable_http_app(streamable_http_path="/mcp")
    state.url = await serve(stack, app, free_socket()) + "/mcp"
    return state


StartSpecialist = Callable[..., Awaitable[Specialist]]


@pytest.fixture
def start_specialist(stack: AsyncExitStack, gateway: FakeGateway, tmp_path: Path) -> StartSpecialist:
    async def start(
        name: str,
        *,
        gateway_url: str | None = None,
        mcp_timeout_seconds: float = 5.0,
        streaming: bool = False,
        binding: str = "JSONRPC",
    ) -> Specialist:
        sock = free_socket()
        host, port = sock.getsockname()[:2]
        app = build_app(
            name,
            public_url=f"http://{host}:{port}",
            gateway_mcp_url=gateway_url or gateway.url,
            auth=AUTHORITY.auth(name),
            data_dir=tmp_path / name,
            skills_dir=SKILLS_DIR,
            mcp_timeout_seconds=mcp_timeout_seconds,
        )
        base = await serve(stack, app, sock)
        config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding], use_client_preference=True)
        client = await create_client(base, client_config=config, interceptors=as_orchestrator(AUTHORITY, name))
        await stack.enter_async_context(client)
        return Specialist(name, base, client)

    return start
