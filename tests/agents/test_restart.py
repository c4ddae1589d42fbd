"""A waiting task survives a kill -9 of its specialist and acts once after it.

Two waits: the customer's "yes" (state in one SQLite file named by the database URL), and a
human approval of a held refund in the embedded default (no database URL: the task records and the
graph checkpoints are the data directory's files). After the restart the caller continues the task
by its id, the graph resumes from its checkpoint and the outcome is reported through the task.
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

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, Task, TaskState

from tests.agents.conftest import AUTHORITY, WAIT, Answer, answer_of, free_socket, handoff_metadata
from tests.agents.fake_gateway import DUPLICATE, FakeGateway
from tests.service_tokens import as_orchestrator

REPO = Path(__file__).resolve().parents[2]


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


async def _send(base: str, text: str, task: Answer | None) -> Answer:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task.task_id if task else "",
        context_id=task.context_id if task else f"conv-{uuid.uuid4().hex}",
    )
    message.metadata.update(handoff_metadata("refund-charge"))
    async with await create_client(
        base, client_config=ClientConfig(streaming=False), interceptors=as_orchestrator(AUTHORITY, "payment")
    ) as client:
        async with asyncio.timeout(WAIT):
            (event,) = [e async for e in client.send_message(SendMessageRequest(message=message))]
    return answer_of(event.task)


async def _get(base: str, task_id: str) -> Task:
    async with await create_client(
        base, client_config=ClientConfig(streaming=False), interceptors=as_orchestrator(AUTHORITY, "payment")
    ) as client:
        async with asyncio.timeout(WAIT):
            return await client.get_task(GetTaskRequest(id=task_id))


@asynccontextmanager
async def _payment_process(
    gateway: FakeGateway, tmp_path: Path, database_url: str | None
) -> AsyncIterator[tuple[str, Callable[[], None], Callable[[], Awaitable[None]]]]:
    """A payment agent in its own process; yields its URL, ``kill_9`` and ``restart``."""
    sock = free_socket()
    sock.listen()
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    config = tmp_path / "agent.json"
    settings = {
        "fd": sock.fileno(),
        "agent": "payment",
        "public_url": base,
        "gateway_url": gateway.url,
        "data_dir": str(tmp_path / "payment"),
        "token_keys": str(AUTHORITY.directory),
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


async def test_a_waiting_refund_resumes_from_its_checkpoint_after_kill_9(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.duplicates = [DUPLICATE]
    # Tasks and checkpoints in one SQLite file, so both outlive the process.
    async with _payment_process(gateway, tmp_path, f"sqlite:///{tmp_path / 'payment-state.db'}") as (
        base,
        kill_9,
        restart,
    ):
        proposal = await _send(base, "I was charged twice", None)
        assert proposal.state == TaskState.TASK_STATE_INPUT_REQUIRED
        kill_9()
        await restart()
        done = await _send(base, "yes", proposal)
    assert done.task_id == proposal.task_id and done.state == TaskState.TASK_STATE_COMPLETED
    assert done.result.data["refunded"] is True
    assert len(gateway.refunds) == 1
    assert [c.tool for c in gateway.calls].count("payments.issue_refund") == 1


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "rejected"])
async def test_a_refund_waiting_for_a_human_approval_survives_kill_9_and_reports_the_outcome(
    gateway: FakeGateway, tmp_path: Path, approved: bool
) -> None:
    gateway.duplicates = [DUPLICATE]
    gateway.hold = {"payments.issue_refund"}
    async with _payment_process(gateway, tmp_path, None) as (base, kill_9, restart):
        proposal = await _send(base, "I was charged twice", None)
        held = await _send(base, "yes", proposal)
        assert held.task_id == proposal.task_id and held.state == TaskState.TASK_STATE_INPUT_REQUIRED
        assert held.result.data["approval_pending"] is True and gateway.refunds == {}
        kill_9()

        # The approver decides while the agent is down; on approval the gateway runs the held call.
        if approved:
            gateway.approve_held_refund()
        await restart()
        waiting = await _get(base, proposal.task_id)
        assert waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED  # the record outlived the process

        done = await _send(base, "approval " + ("executed" if approved else "rejected"), proposal)
        assert done.task_id == proposal.task_id and done.state == TaskState.TASK_STATE_COMPLETED
        finished = await _get(base, proposal.task_id)
    assert done.result.data["refunded"] is approved
    assert ("approved and issued" if approved else "was not approved") in done.text
    assert finished.status.state == TaskState.TASK_STATE_COMPLETED
    assert [a.name for a in finished.artifacts] == ["result"]
    # The agent asked once (held); only the approver's execution refunded, once.
    assert [c.tool for c in gateway.calls].count("payments.issue_refund") == 1
    assert len(gateway.refunds) == (1 if approved else 0)
