"""A waiting task survives a kill -9 of its specialist and acts once after it.

Two waits: the customer's "yes" (state in one SQLite file named by the database URL), and a
human approval of a held refund in the embedded default (no database URL: the task records and the
graph checkpoints are the data directory's files). After the restart the caller continues the task
by its id, the graph resumes from its checkpoint and the outcome is reported through the task.
The specialist process is a client of a test stack's token service and calls its real gateway;
what happened is read back from the payments system and the gateway's audit log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from a2a.client import AuthInterceptor, Client, ClientConfig, create_client
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, Task, TaskState

from shared.envelope import ContextEnvelope
from shared.service_auth import AudienceCredentials, audiences
from tests.agents.conftest import WAIT, Answer, answer_of, free_socket, handoff_metadata
from tests.agents.real_gateway import AgentOnStack, agent_on_stack, staff
from tests.governance.e2e_helpers import big_refund_customers, small_refund_customers

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

REPO = Path(__file__).resolve().parents[2]
REFUND = "payments.issue_refund"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def payment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    """The stack whose gateway, systems and token service the restarted process uses."""
    async with agent_on_stack(tmp_path_factory.mktemp("restart"), "payment") as running:
        yield running


async def _ready(base: str, child: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(WAIT), httpx.AsyncClient() as http:
        while True:
            if child.poll() is not None:
                raise AssertionError(f"the agent process exited with {child.returncode}")
            try:
                if (await http.get(f"{base}/.well-known/agent-card.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def _client(payment: AgentOnStack, base: str) -> Client:
    tokens = payment.stack.service_auth(audiences.ORCHESTRATOR).tokens
    credentials = AudienceCredentials(tokens, audiences.agent("payment"))
    return await create_client(
        base, client_config=ClientConfig(streaming=False), interceptors=[AuthInterceptor(credentials)]
    )


async def _send(payment: AgentOnStack, base: str, text: str, task: Answer | None, envelope: ContextEnvelope) -> Answer:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task.task_id if task else "",
        context_id=task.context_id if task else envelope.conversation_id,
    )
    message.metadata.update(handoff_metadata("refund-charge", envelope=envelope))
    async with await _client(payment, base) as client:
        async with asyncio.timeout(WAIT):
            (event,) = [e async for e in client.send_message(SendMessageRequest(message=message))]
    return answer_of(event.task)


async def _get(payment: AgentOnStack, base: str, task_id: str) -> Task:
    async with await _client(payment, base) as client:
        async with asyncio.timeout(WAIT):
            return await client.get_task(GetTaskRequest(id=task_id))


async def _refunds(payment: AgentOnStack, who: dict[str, Any]) -> list[dict[str, Any]]:
    """The customer's refunds, as the payments system holds them."""
    args = {"account_number": who["account_number"]}
    listed = await payment.read("payments.list_refunds", args, payment.envelope(who))
    return list(listed["refunds"])


@asynccontextmanager
async def _payment_process(
    payment: AgentOnStack, tmp_path: Path, database_url: str | None
) -> AsyncIterator[tuple[str, Callable[[], None], Callable[[], Awaitable[None]]]]:
    """A payment agent in its own process; yields its URL, ``kill_9`` and ``restart``."""
    stack = payment.stack
    assert stack.topology is not None and stack.secrets is not None
    sock = free_socket()
    sock.listen()
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    config = tmp_path / "agent.json"
    settings = {
        "fd": sock.fileno(),
        "agent": "payment",
        "public_url": base,
        "gateway_url": stack.topology.gateway_mcp_url(),
        "token_url": stack.topology.tokens,
        "client_secret": stack.secrets.client_secrets["payment"],
        "data_dir": str(tmp_path / "payment"),
    }
    if database_url:
        settings["database_url"] = database_url
    config.write_text(json.dumps(settings))
    command = [sys.executable, "-m", "tests.agents.agent_child", str(config)]

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, cwd=REPO, pass_fds=[sock.fileno()])

    children = [spawn()]

    def kill_9() -> None:
        os.kill(children[-1].pid, signal.SIGKILL)
        assert children[-1].wait(timeout=WAIT) == -signal.SIGKILL

    async def restart() -> None:
        children.append(spawn())
        await _ready(base, children[-1])

    try:
        await _ready(base, children[-1])
        yield base, kill_9, restart
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=WAIT)
        sock.close()


async def test_a_waiting_refund_resumes_from_its_checkpoint_after_kill_9(payment: AgentOnStack, tmp_path: Path) -> None:
    who = small_refund_customers(payment.data_dir)[0]
    envelope = payment.envelope(who)
    # Tasks and checkpoints in one SQLite file, so both outlive the process.
    async with _payment_process(payment, tmp_path, f"sqlite:///{tmp_path / 'payment-state.db'}") as (
        base,
        kill_9,
        restart,
    ):
        proposal = await _send(payment, base, "I was charged twice", None, envelope)
        assert proposal.state == TaskState.TASK_STATE_INPUT_REQUIRED
        kill_9()
        await restart()
        done = await _send(payment, base, "yes", proposal, envelope)
    assert done.task_id == proposal.task_id and done.state == TaskState.TASK_STATE_COMPLETED
    assert done.result.data["refunded"] is True
    refunds = await _refunds(payment, who)
    assert [r["refund_id"] for r in refunds] == [done.result.data["refund_id"]]
    calls = [c for c in payment.calls(envelope.conversation_id) if c.tool == REFUND]
    assert [c.decision for c in calls] == ["allow"]


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "rejected"])
async def test_a_refund_waiting_for_a_human_approval_survives_kill_9_and_reports_the_outcome(
    payment: AgentOnStack, tmp_path: Path, approved: bool
) -> None:
    who = big_refund_customers(payment.data_dir)[0 if approved else 1]
    envelope = payment.envelope(who)
    async with _payment_process(payment, tmp_path, None) as (base, kill_9, restart):
        proposal = await _send(payment, base, "I was charged twice", None, envelope)
        held = await _send(payment, base, "yes", proposal, envelope)
        assert held.task_id == proposal.task_id and held.state == TaskState.TASK_STATE_INPUT_REQUIRED
        assert held.result.data["approval_pending"] is True and await _refunds(payment, who) == []
        kill_9()

        # The approver decides while the agent is down; on approval the gateway runs the held call.
        pending = (await staff(payment, "approver", "GET", "/approvals?status=pending"))["approvals"]
        (mine,) = [a for a in pending if a.get("conversation_id") == envelope.conversation_id]
        decision = "approve" if approved else "reject"
        await staff(payment, "approver", "POST", f"/approvals/{mine['id']}/{decision}", {"note": "checked"})
        await restart()
        waiting = await _get(payment, base, proposal.task_id)
        assert waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED  # the record outlived the process

        done = await _send(payment, base, "approval " + ("executed" if approved else "rejected"), proposal, envelope)
        assert done.task_id == proposal.task_id and done.state == TaskState.TASK_STATE_COMPLETED
        finished = await _get(payment, base, proposal.task_id)
    assert done.result.data["refunded"] is approved
    assert ("approved and issued" if approved else "was not approved") in done.text
    assert finished.status.state == TaskState.TASK_STATE_COMPLETED
    assert [a.name for a in finished.artifacts] == ["result"]
    # The agent asked once (held); only the approver's execution refunded, once.
    calls = [c for c in payment.calls(envelope.conversation_id) if c.tool == REFUND]
    assert calls and calls[0].decision == "approval-required"
    assert len(await _refunds(payment, who)) == (1 if approved else 0)
