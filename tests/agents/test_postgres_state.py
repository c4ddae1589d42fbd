"""On PostgreSQL the A2A tasks and the skill graphs' checkpoints are stored there and survive a restart.

The specialist is served by the test (so its process can end and a new one start on the same
database), as a client of a test stack's token service and behind its real gateway; the refund
it finally issues is read back from the payments system.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from a2a.client import AuthInterceptor, ClientCallInterceptor, ClientConfig, create_client
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

from agents import build_app
from shared.envelope import ContextEnvelope
from shared.service_auth import AudienceCredentials, audiences
from shared.skills import SKILLS_DIR
from tests.agents.conftest import WAIT, answer_of, free_socket, handoff_metadata, serve
from tests.agents.real_gateway import AgentOnStack, agent_on_stack
from tests.governance.e2e_helpers import small_refund_customers
from tests.storage.pg import BASE_URL, private_schema

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def payment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    """The stack whose gateway, systems and token service the specialist on PostgreSQL uses."""
    async with agent_on_stack(tmp_path_factory.mktemp("pg-state"), "payment") as running:
        yield running


async def _send(
    payment: AgentOnStack, base: str, text: str, envelope: ContextEnvelope, *, task_id: str
) -> tuple[str, TaskState.ValueType]:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=envelope.conversation_id,
    )
    message.metadata.update(handoff_metadata("refund-charge", envelope=envelope))
    tokens = payment.stack.service_auth(audiences.ORCHESTRATOR).tokens
    credentials = AudienceCredentials(tokens, audiences.agent("payment"))
    interceptors: list[ClientCallInterceptor] = [AuthInterceptor(credentials)]
    async with await create_client(base, client_config=ClientConfig(streaming=False), interceptors=interceptors) as c:
        async with asyncio.timeout(WAIT):
            (event,) = [e async for e in c.send_message(SendMessageRequest(message=message))]
    answer = answer_of(event.task)
    return answer.task_id, answer.state


async def _payment_agent(stack: AsyncExitStack, payment: AgentOnStack, url: str, tmp_path: Path) -> str:
    topology = payment.stack.topology
    assert topology is not None
    sock = free_socket()
    host, port = sock.getsockname()[:2]
    app = build_app(
        "payment",
        public_url=f"http://{host}:{port}",
        gateway_mcp_url=topology.gateway_mcp_url(),
        auth=payment.stack.service_auth("payment"),
        data_dir=tmp_path,
        skills_dir=SKILLS_DIR,
        database_url=url,
    )
    return await serve(stack, app, sock)


async def test_a_waiting_task_is_stored_in_postgres_and_resumes_after_a_restart(
    payment: AgentOnStack, tmp_path: Path
) -> None:
    who = small_refund_customers(payment.data_dir)[0]
    # 37 characters, as the supervisor makes them.
    envelope = payment.envelope(who, conversation_id=f"conv-{uuid.uuid4().hex}")
    async with private_schema("agents") as url:
        async with AsyncExitStack() as first:
            base = await _payment_agent(first, payment, url, tmp_path)
            task_id, state = await _send(payment, base, "I was charged twice", envelope, task_id="")
            assert state == TaskState.TASK_STATE_INPUT_REQUIRED
        # Every process of the first run is gone; a new one on the same database picks the task up.
        schema = url.rsplit("schema=", 1)[1]
        conn = await asyncpg.connect(BASE_URL, server_settings={"search_path": schema})
        try:
            stored = await conn.fetchrow("SELECT id, context_id FROM tasks WHERE id = $1", task_id)
            threads = await conn.fetchval("SELECT count(*) FROM checkpoints WHERE thread_id = $1", task_id)
        finally:
            await conn.close()
        assert stored is not None and stored["context_id"] == envelope.conversation_id and threads >= 1
        async with AsyncExitStack() as second:
            base = await _payment_agent(second, payment, url, tmp_path)
            again, state = await _send(payment, base, "yes", envelope, task_id=task_id)
        assert again == task_id and state == TaskState.TASK_STATE_COMPLETED
    args = {"account_number": who["account_number"]}
    refunds = (await payment.read("payments.list_refunds", args, payment.envelope(who)))["refunds"]
    assert len(refunds) == 1
