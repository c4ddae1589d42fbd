"""What a handoff asks the specialist to send back over A2A: the answer, not the task's history.

The supervisor reads a task's id and its status message; every earlier message of the task (each
with its envelope) coming back on every turn was only work for both ends.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.specialists import SpecialistDirectory
from shared.envelope import ContextEnvelope
from shared.handoff import HandoffRequest
from tests.governance.conftest import AUTHORITY, Servers, tcp_socket, url_of
from tests.orchestrator.test_specialist_words_a2a import _retention_app, _skill


class RecordBodies:
    """The JSON-RPC response bodies the specialist sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.bodies.append(b"".join(chunks))
            await send(message)

        await self.app(scope, receive, recording)


async def test_a_handoff_gets_the_answer_without_the_tasks_history(tmp_path: Path) -> None:
    skill = _skill(tmp_path)
    sock = tcp_socket()
    recorded = RecordBodies(_retention_app(skill, url_of(sock), tmp_path))
    servers = Servers()
    await servers.start(recorded, sock)  # type: ignore[arg-type]  # an ASGI app around the Starlette one
    directory = await SpecialistDirectory.discover([url_of(sock)], tokens=AUTHORITY.auth("orchestrator").tokens)
    try:
        recorded.bodies.clear()  # the card
        reply = await directory.send(
            "retention",
            "I want to cancel my contract",
            ContextEnvelope(conversation_id="c-wire-1"),
            HandoffRequest(skill=skill.name, reason="cancel", request_id="1.1"),
        )
        assert reply.text.startswith("A 30% discount needs a quick approval") and reply.task_id
        [body] = recorded.bodies
        task = json.loads(body)["result"]["task"]
        assert task["id"] == reply.task_id and task["status"]["message"]["parts"]
        assert "history" not in task, "the customer's message and its envelope came back with the answer"
    finally:
        await directory.close()
        await servers.stop_all()
        sock.close()
