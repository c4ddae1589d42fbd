"""Any A2A client can use every specialist: the official JavaScript SDK over both bindings, streaming.

``tests/a2a_clients/a2a_specialist.mjs`` runs ``@a2a-js/sdk`` (locked in that folder's
package-lock.json) in node against a specialist on a real loopback socket. The script has nothing
but a bearer token and the extensions the card declares; it reads the card, picks the binding,
streams each turn (``SendStreamingMessage``), and reads and cancels tasks.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from shared.envelope import ContextEnvelope
from shared.handoff import ENVELOPE_EXTENSION, HANDOFF_EXTENSION
from shared.service_auth import audiences
from tests.agents.conftest import AUTHORITY, StartSpecialist, handoff_metadata, verified_envelope
from tests.agents.fake_gateway import DUPLICATE, FakeGateway

CLIENT_DIR = Path(__file__).parent.parent / "a2a_clients"  # installed by scripts/node-test-deps
WAIT = 30.0
BINDINGS = ["JSONRPC", "HTTP+JSON"]
ANONYMOUS = ContextEnvelope(conversation_id="conv-js")

# One conversation per specialist: every message but the last leaves the task input-required.
CONVERSATIONS: dict[str, tuple[str, ContextEnvelope, list[str]]] = {
    "identity": ("verify-identity", ANONYMOUS, ["it's ana@example.com", "123 456"]),
    "billing": ("change-plan", verified_envelope(), ["switch me to Family Share", "yes"]),
    "payment": ("refund-charge", verified_envelope(), ["I was charged twice", "yes"]),
    "support": ("troubleshoot-service", verified_envelope(), ["my mobile data is slow", "yes"]),
    "escalation": ("human-handoff", verified_envelope(), ["get me a person please"]),
}


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (CLIENT_DIR / "node_modules" / "@a2a-js" / "sdk").is_dir():
        message = f"needs node and `npm ci` in {CLIENT_DIR} (scripts/node-test-deps, which `make test` runs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


class JsClient:
    """One node process: a JSON command in on stdin, one JSON answer out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        async with asyncio.timeout(WAIT):
            line = await self._process.stdout.readline()
        if not line:
            assert self._process.stderr is not None
            raise AssertionError((await self._process.stderr.read()).decode())
        answer = dict(json.loads(line))
        assert "error" not in answer, answer
        return answer

    async def send(self, text: str, metadata: dict[str, Any], task: dict[str, Any] | None = None) -> dict[str, Any]:
        ids = {"taskId": task["taskId"], "contextId": task["contextId"]} if task else {}
        return await self.ask({"send": text, "metadata": metadata, **ids})


@asynccontextmanager
async def js_client(agent: str, base_url: str, binding: str) -> AsyncIterator[JsClient]:
    token = AUTHORITY.mint(audiences.agent(agent))
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(CLIENT_DIR / "a2a_specialist.mjs"),
        base_url,
        token,
        binding,
        ENVELOPE_EXTENSION,
        HANDOFF_EXTENSION,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=CLIENT_DIR,
    )
    try:
        yield JsClient(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        async with asyncio.timeout(WAIT):
            await process.wait()
    assert process.returncode == 0


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("agent", sorted(CONVERSATIONS))
async def test_the_javascript_sdk_streams_a_whole_task_with_every_specialist(
    start_specialist: StartSpecialist, gateway: FakeGateway, agent: str, binding: str
) -> None:
    gateway.duplicates = [DUPLICATE]
    skill, envelope, messages = CONVERSATIONS[agent]
    metadata = handoff_metadata(skill, envelope=envelope)
    specialist = await start_specialist(agent)
    async with js_client(agent, specialist.base_url, binding) as client:
        task: dict[str, Any] | None = None
        for i, text in enumerate(messages):
            task = await client.send(text, metadata, task)
            assert task["transport"] == binding
            last = i == len(messages) - 1
            assert task["state"] == ("TASK_STATE_COMPLETED" if last else "TASK_STATE_INPUT_REQUIRED"), task
            events = task["events"]
            if i == 0:
                assert events[0] == {"kind": "task", "state": "TASK_STATE_SUBMITTED"}, events
            states = [e["state"] for e in events if e["kind"] == "statusUpdate"]
            assert states[0] == "TASK_STATE_WORKING" and states[-1] == task["state"], events
            artifacts = [e["name"] for e in events if e["kind"] == "artifactUpdate"]
            assert artifacts == (["result"] if last else []), events
            assert task["text"]
        assert task is not None
        stored = await client.ask({"get": task["taskId"]})
    assert stored["state"] == "TASK_STATE_COMPLETED" and stored["artifacts"] == ["result"]
    said = [m["text"] for m in stored["history"] if m["role"] == "ROLE_USER"]
    assert said == messages


@pytest.mark.parametrize("binding", BINDINGS)
async def test_the_javascript_sdk_cancels_a_waiting_task_and_nothing_is_refunded(
    start_specialist: StartSpecialist, gateway: FakeGateway, binding: str
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    metadata = handoff_metadata("refund-charge")
    async with js_client("payment", payment.base_url, binding) as client:
        proposal = await client.send("I was charged twice", metadata)
        assert proposal["state"] == "TASK_STATE_INPUT_REQUIRED"
        cancelled = await client.ask({"cancel": proposal["taskId"]})
        assert cancelled["state"] == "TASK_STATE_CANCELED"
        stored = await client.ask({"get": proposal["taskId"]})
    assert stored["state"] == "TASK_STATE_CANCELED"
    assert gateway.refunds == {} and "payments.issue_refund" not in gateway.tools_called()
