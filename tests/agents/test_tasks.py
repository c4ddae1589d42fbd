"""Standard A2A tasks over both bindings: lifecycle, history, cancel, streaming, error codes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    TaskState,
)
from a2a.utils.errors import ContentTypeNotSupportedError, UnsupportedOperationError

from agents.runtime.checkpoints import SQLITE_FILE
from shared.handoff import ENVELOPE_EXTENSION
from shared.service_auth import audiences
from tests.agents.conftest import AUTHORITY, WAIT, StartSpecialist, answer_of, handoff_metadata
from tests.agents.fake_gateway import DUPLICATE, FakeGateway

BINDINGS = ["JSONRPC", "HTTP+JSON"]


def _message(text: str, skill: str, *, task_id: str = "", context_id: str = "") -> Message:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )
    message.metadata.update(handoff_metadata(skill))
    return message


def _threads(data_dir: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(data_dir / SQLITE_FILE)) as db:
        return {row[0] for row in db.execute("SELECT DISTINCT thread_id FROM checkpoints")}


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_refund_is_one_task_from_input_required_to_completed_with_its_history(
    start_specialist: StartSpecialist, gateway: FakeGateway, binding: str
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment", binding=binding)
    proposal = await payment.send("I was charged twice", "refund-charge")
    assert proposal.state == TaskState.TASK_STATE_INPUT_REQUIRED
    done = await payment.send("yes", "refund-charge", task=proposal)
    assert done.state == TaskState.TASK_STATE_COMPLETED and done.task_id == proposal.task_id

    async with asyncio.timeout(WAIT):
        task = await payment.client.get_task(GetTaskRequest(id=done.task_id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    said = [(m.role, m.parts[0].text) for m in task.history]
    assert (Role.ROLE_USER, "I was charged twice") in said and (Role.ROLE_USER, "yes") in said
    assert any(role == Role.ROLE_AGENT and "Would you like me to refund" in text for role, text in said)
    (artifact,) = task.artifacts
    assert artifact.name == "result" and "refund reference is RF-1" in artifact.parts[0].text
    assert artifact.parts[1].data.struct_value["status"] == "completed"
    assert answer_of(task).result.data["refund_id"] == "RF-1"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_cancelling_a_waiting_task_deletes_its_graph_and_nothing_resumes_it(
    start_specialist: StartSpecialist, gateway: FakeGateway, binding: str, tmp_path: Path
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment", binding=binding)
    proposal = await payment.send("I was charged twice", "refund-charge")
    assert proposal.task_id in _threads(tmp_path / "payment")
    async with asyncio.timeout(WAIT):
        cancelled = await payment.client.cancel_task(CancelTaskRequest(id=proposal.task_id))
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert proposal.task_id not in _threads(tmp_path / "payment")
    with pytest.raises(UnsupportedOperationError, match="terminal state"):
        await payment.send("yes", "refund-charge", task=proposal)
    assert gateway.refunds == {}


@pytest.mark.parametrize("binding", BINDINGS)
async def test_streaming_reports_each_state_and_the_result_artifact(
    start_specialist: StartSpecialist, gateway: FakeGateway, binding: str
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment", binding=binding, streaming=True)
    async with asyncio.timeout(WAIT):
        first = [
            e
            async for e in payment.client.send_message(SendMessageRequest(message=_message("double", "refund-charge")))
        ]
    kinds = [e.WhichOneof("payload") for e in first]
    assert kinds[0] == "task" and first[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
    states = [e.status_update.status.state for e in first if e.HasField("status_update")]
    assert states == [TaskState.TASK_STATE_WORKING, TaskState.TASK_STATE_INPUT_REQUIRED]
    task_id, context_id = first[0].task.id, first[0].task.context_id

    again = _message("yes", "refund-charge", task_id=task_id, context_id=context_id)
    async with asyncio.timeout(WAIT):
        second = [e async for e in payment.client.send_message(SendMessageRequest(message=again))]
    artifacts = [e.artifact_update.artifact for e in second if e.HasField("artifact_update")]
    assert [a.name for a in artifacts] == ["result"] and "RF-1" in artifacts[0].parts[0].text
    states = [e.status_update.status.state for e in second if e.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    assert len(gateway.refunds) == 1


async def test_a_part_of_an_unsupported_media_type_is_refused(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    message = _message("my bill", "explain-bill")
    message.parts.append(Part(raw=b"\x89PNG", media_type="image/png"))
    with pytest.raises(ContentTypeNotSupportedError):
        async with asyncio.timeout(WAIT):
            _ = [e async for e in billing.client.send_message(SendMessageRequest(message=message))]


async def test_wire_codes_for_a_missing_extension_on_both_bindings(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    body = {
        "role": "ROLE_USER",
        "messageId": "m-1",
        "parts": [{"text": "my bill"}],
        "metadata": {"switchboard/handoff": '{"skill": "explain-bill"}'},
    }
    # A raw client with nothing but a token: the same wire codes any A2A client would get.
    token = AUTHORITY.mint(audiences.agent("billing"))
    headers = {"A2A-Version": "1.0", "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=billing.base_url, headers=headers, timeout=WAIT) as http:
        rpc = await http.post(
            "/a2a/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": body}}
        )
        rest = await http.post("/a2a/rest/message:send", json={"message": body})
    error = rpc.json()["error"]
    assert error["code"] == -32008 and ENVELOPE_EXTENSION in error["message"]
    assert rest.status_code == 400 and ENVELOPE_EXTENSION in rest.text


async def test_the_card_declares_streaming_and_required_extensions_and_is_cacheable(
    start_specialist: StartSpecialist,
) -> None:
    billing = await start_specialist("billing")
    async with httpx.AsyncClient(base_url=billing.base_url, timeout=WAIT) as http:
        first = await http.get("/.well-known/agent-card.json")
        again = await http.get("/.well-known/agent-card.json", headers={"If-None-Match": first.headers["etag"]})
    card = first.json()
    assert card["capabilities"]["streaming"] is True
    assert {e["uri"]: e.get("required") for e in card["capabilities"]["extensions"]} == {
        ENVELOPE_EXTENSION: True,
        "https://switchboard.dev/a2a/ext/handoff/v1": True,
    }
    assert {i["protocolBinding"] for i in card["supportedInterfaces"]} == set(BINDINGS)
    assert "max-age" in first.headers["cache-control"]
    assert again.status_code == 304


async def test_a_second_ticket_in_one_conversation_is_a_new_request(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    first = await support.send("my data is really slow today", "troubleshoot-service")
    second = await support.send("my data is really slow again", "troubleshoot-service")
    assert first.context_id and first.task_id != second.task_id
    keys = [c.args["idempotency_key"] for c in gateway.calls if c.tool == "support.open_ticket"]
    assert len(keys) == 2 and keys[0] != keys[1]


async def test_a_second_hand_off_in_one_conversation_is_a_new_request(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    escalation = await start_specialist("escalation")
    await escalation.send("a person please", "human-handoff")
    await escalation.send("a person again please", "human-handoff")
    keys = [c.args["idempotency_key"] for c in gateway.calls if c.tool == "support.request_human"]
    assert len(keys) == 2 and keys[0] != keys[1]


async def test_a_finished_task_leaves_no_graph_state(
    start_specialist: StartSpecialist, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    done = await payment.send("yes", "refund-charge", task=await payment.send("charged twice", "refund-charge"))
    assert done.state == TaskState.TASK_STATE_COMPLETED
    assert _threads(tmp_path / "payment") == set()


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "SendMessage", "params": {}}',  # a lone surrogate id
        b'{"jsonrpc": "2.0", "id": ' + b"9" * 4301 + b', "method": "SendMessage", "params": {}}',
        b"[" * 100 + b"]" * 100,
    ],
)
async def test_a_hostile_body_gets_a_parse_error_not_a_server_error(
    start_specialist: StartSpecialist, body: bytes
) -> None:
    billing = await start_specialist("billing")
    headers = {
        "A2A-Version": "1.0",
        "Authorization": f"Bearer {AUTHORITY.mint(audiences.agent('billing'))}",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=billing.base_url, headers=headers, timeout=WAIT) as http:
        for path in ("/a2a/jsonrpc", "/a2a/rest/message:send"):
            answer = await http.post(path, content=body)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["error"]["code"] == -32700
