"""On PostgreSQL the A2A tasks and the skill graphs' checkpoints are stored there and survive a restart."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
from a2a.client import ClientConfig, create_client
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

from agents import build_app
from tests.agents.conftest import AUTHORITY, SKILLS_DIR, WAIT, answer_of, free_socket, handoff_metadata, serve
from tests.agents.fake_gateway import DUPLICATE, FakeGateway
from tests.service_tokens import as_orchestrator
from tests.storage.pg import BASE_URL, private_schema


async def _send(base: str, text: str, *, task_id: str, context_id: str) -> tuple[str, TaskState.ValueType]:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )
    message.metadata.update(handoff_metadata("refund-charge"))
    async with await create_client(
        base, client_config=ClientConfig(streaming=False), interceptors=as_orchestrator(AUTHORITY, "payment")
    ) as client:
        async with asyncio.timeout(WAIT):
            (event,) = [e async for e in client.send_message(SendMessageRequest(message=message))]
    answer = answer_of(event.task)
    return answer.task_id, answer.state


async def _payment_agent(stack: AsyncExitStack, gateway: FakeGateway, url: str, tmp_path: Path) -> str:
    sock = free_socket()
    host, port = sock.getsockname()[:2]
    app = build_app(
        "payment",
        public_url=f"http://{host}:{port}",
        gateway_mcp_url=gateway.url,
        auth=AUTHORITY.auth("payment"),
        data_dir=tmp_path,
        skills_dir=SKILLS_DIR,
        database_url=url,
    )
    return await serve(stack, app, sock)


async def test_a_waiting_task_is_stored_in_postgres_and_resumes_after_a_restart(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.duplicates = [DUPLICATE]
    conversation = f"conv-{uuid.uuid4().hex}"  # 37 characters, as the supervisor makes them
    async with private_schema("agents") as url:
        async with AsyncExitStack() as first:
            base = await _payment_agent(first, gateway, url, tmp_path)
            task_id, state = await _send(base, "I was charged twice", task_id="", context_id=conversation)
            assert state == TaskState.TASK_STATE_INPUT_REQUIRED
        # Every process of the first run is gone; a new one on the same database picks the task up.
        schema = url.rsplit("schema=", 1)[1]
        conn = await asyncpg.connect(BASE_URL, server_settings={"search_path": schema})
        try:
            stored = await conn.fetchrow("SELECT id, context_id FROM tasks WHERE id = $1", task_id)
            threads = await conn.fetchval("SELECT count(*) FROM checkpoints WHERE thread_id = $1", task_id)
        finally:
            await conn.close()
        assert stored is not None and stored["context_id"] == conversation and threads >= 1
        async with AsyncExitStack() as second:
            base = await _payment_agent(second, gateway, url, tmp_path)
            again, state = await _send(base, "yes", task_id=task_id, context_id=conversation)
        assert again == task_id and state == TaskState.TASK_STATE_COMPLETED
        assert len(gateway.refunds) == 1
