"""A task waiting for the customer survives a kill -9 of its specialist and acts once after it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from a2a.client import ClientConfig, create_client
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

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


async def test_a_waiting_refund_resumes_from_its_checkpoint_after_kill_9(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.duplicates = [DUPLICATE]
    sock = free_socket()
    sock.listen()
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps(
            {
                "fd": sock.fileno(),
                "agent": "payment",
                "public_url": base,
                "gateway_url": gateway.url,
                "data_dir": str(tmp_path / "payment"),
                "token_keys": str(AUTHORITY.directory),
                # Tasks and checkpoints in one SQLite file, so both outlive the process.
                "database_url": f"sqlite:///{tmp_path / 'payment-state.db'}",
            }
        )
    )
    command = [sys.executable, "-m", "tests.agents.agent_child", str(config)]

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, cwd=REPO, pass_fds=[sock.fileno()])

    child = spawn()
    try:
        await _ready(base, child)
        proposal = await _send(base, "I was charged twice", None)
        assert proposal.state == TaskState.TASK_STATE_INPUT_REQUIRED
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=WAIT) == -signal.SIGKILL

        child = spawn()
        await _ready(base, child)
        done = await _send(base, "yes", proposal)
        assert done.task_id == proposal.task_id and done.state == TaskState.TASK_STATE_COMPLETED
        assert done.result.data["refunded"] is True
        assert len(gateway.refunds) == 1
        assert [c.tool for c in gateway.calls].count("payments.issue_refund") == 1
    finally:
        child.kill()
        child.wait(timeout=WAIT)
        sock.close()
