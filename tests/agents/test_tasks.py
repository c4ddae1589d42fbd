"""Standard A2A tasks over both bindings: lifecycle, history, cancel, streaming, error codes, card rules.

With test_contract (auth-required), test_governance (rejected, failed) and test_js_client (another
SDK), this is our TCK: every task state, GetTask, CancelTask, SendStreamingMessage, the wire code
for each refusal an agent can give, and the card rules (bindings, streaming, required
extensions, security scheme, caching).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
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
from shared.envelope import ContextEnvelope
from shared.handoff import ENVELOPE_EXTENSION
from tests.agents.conftest import WAIT, answer_of, handoff_metadata
from tests.agents.real_gateway import AgentOnStack, agents_on_stack, connect, orchestrator_token
from tests.governance.e2e_helpers import small_refund_customers

BINDINGS = ["JSONRPC", "HTTP+JSON"]
pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def agents(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, AgentOnStack]]:
    folder = Path(tmp_path_factory.mktemp("tasks"))
    async with agents_on_stack(folder, "payment", "billing", "support", "escalation") as running:
        yield running


_taken: list[int] = []


def _refund_customer(payment: AgentOnStack) -> dict[str, Any]:
    # One customer per test: the tests share a stack, and a refund is for good.
    _taken.append(len(_taken))
    return small_refund_customers(payment.data_dir)[_taken[-1]]


def _threads(agent: AgentOnStack) -> set[str]:
    with contextlib.closing(sqlite3.connect(agent.data_dir / "agents" / agent.specialist.name / SQLITE_FILE)) as db:
        return {row[0] for row in db.execute("SELECT DISTINCT thread_id FROM checkpoints")}


async def _refunds(payment: AgentOnStack, who: dict[str, Any]) -> list[dict[str, Any]]:
    args = {"account_number": who["account_number"]}
    return list((await payment.read("payments.list_refunds", args, payment.envelope(who)))["refunds"])


def _message(text: str, skill: str, envelope: ContextEnvelope, *, task_id: str = "", context_id: str = "") -> Message:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )
    message.metadata.update(handoff_metadata(skill, envelope=envelope))
    return message


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_refund_is_one_task_from_input_required_to_completed_with_its_history(
    agents: dict[str, AgentOnStack], binding: str
) -> None:
    envelope = agents["payment"].envelope(_refund_customer(agents["payment"]))
    async with connect(agents["payment"], binding=binding) as payment:
        proposal = await payment.send("I was charged twice", "refund-charge", envelope=envelope)
        assert proposal.state == TaskState.TASK_STATE_INPUT_REQUIRED
        done = await payment.send("yes", "refund-charge", task=proposal, envelope=envelope)
        assert done.state == TaskState.TASK_STATE_COMPLETED and done.task_id == proposal.task_id
        reference = done.result.data["refund_id"]
        async with asyncio.timeout(WAIT):
            task = await payment.client.get_task(GetTaskRequest(id=done.task_id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    said = [(m.role, m.parts[0].text) for m in task.history]
    assert (Role.ROLE_USER, "I was charged twice") in said and (Role.ROLE_USER, "yes") in said
    assert any(role == Role.ROLE_AGENT and "Would you like me to refund" in text for role, text in said)
    (artifact,) = task.artifacts
    assert artifact.name == "result" and f"refund reference is {reference}" in artifact.parts[0].text
    assert artifact.parts[1].data.struct_value["status"] == "completed"
    assert answer_of(task).result.data["refund_id"] == reference


@pytest.mark.parametrize("binding", BINDINGS)
async def test_cancelling_a_waiting_task_deletes_its_graph_and_nothing_resumes_it(
    agents: dict[str, AgentOnStack], binding: str
) -> None:
    who = _refund_customer(agents["payment"])
    envelope = agents["payment"].envelope(who)
    async with connect(agents["payment"], binding=binding) as payment:
        proposal = await payment.send("I was charged twice", "refund-charge", envelope=envelope)
        assert proposal.task_id in _threads(agents["payment"])
        async with asyncio.timeout(WAIT):
            cancelled = await payment.client.cancel_task(CancelTaskRequest(id=proposal.task_id))
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        assert proposal.task_id not in _threads(agents["payment"])
        with pytest.raises(UnsupportedOperationError, match="terminal state"):
            await payment.send("yes", "refund-charge", task=proposal, envelope=envelope)
    assert await _refunds(agents["payment"], who) == []


async def test_a_part_of_an_unsupported_media_type_is_refused(agents: dict[str, AgentOnStack]) -> None:
    billing = agents["billing"]
    message = _message("my bill", "explain-bill", billing.envelope(billing.customers(3)[0]))
    message.parts.append(Part(raw=b"\x89PNG", media_type="image/png"))
    with pytest.raises(ContentTypeNotSupportedError):
        async with asyncio.timeout(WAIT):
            _ = [e async for e in billing.specialist.client.send_message(SendMessageRequest(message=message))]


async def test_wire_codes_for_a_missing_extension_on_both_bindings(agents: dict[str, AgentOnStack]) -> None:
    billing = agents["billing"].specialist
    body = {
        "role": "ROLE_USER",
        "messageId": "m-1",
        "parts": [{"text": "my bill"}],
        "metadata": {"switchboard/handoff": '{"skill": "explain-bill"}'},
    }
    # A raw client with nothing but a token: the same wire codes any A2A client would get.
    token = await orchestrator_token(agents["billing"])
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
    agents: dict[str, AgentOnStack],
) -> None:
    billing = agents["billing"].specialist
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


async def test_a_second_ticket_in_one_conversation_is_a_new_request(agents: dict[str, AgentOnStack]) -> None:
    support = agents["support"]
    envelope = support.envelope(support.customers(5, has_open_ticket=False)[0])
    first = await support.specialist.send("my data is really slow today", "troubleshoot-service", envelope=envelope)
    await support.specialist.send("yes", "troubleshoot-service", task=first, envelope=envelope)
    second = await support.specialist.send("my data is really slow again", "troubleshoot-service", envelope=envelope)
    await support.specialist.send("yes", "troubleshoot-service", task=second, envelope=envelope)
    assert first.context_id and first.task_id != second.task_id
    opened = [c for c in support.calls(envelope.conversation_id) if c.tool == "support.open_ticket"]
    keys = [c.args["idempotency_key"] for c in opened]
    assert len(keys) == 2 and keys[0] != keys[1]


async def test_a_second_hand_off_in_one_conversation_is_a_new_request(agents: dict[str, AgentOnStack]) -> None:
    escalation = agents["escalation"]
    envelope = escalation.envelope(escalation.customers(5)[1])
    await escalation.specialist.send("a person please", "human-handoff", envelope=envelope)
    await escalation.specialist.send("a person again please", "human-handoff", envelope=envelope)
    requests = [c for c in escalation.calls(envelope.conversation_id) if c.tool == "support.request_human"]
    keys = [c.args["idempotency_key"] for c in requests]
    assert len(keys) == 2 and keys[0] != keys[1]


async def test_a_finished_task_leaves_no_graph_state(agents: dict[str, AgentOnStack]) -> None:
    payment = agents["payment"]
    envelope = payment.envelope(_refund_customer(payment))
    proposal = await payment.specialist.send("charged twice", "refund-charge", envelope=envelope)
    done = await payment.specialist.send("yes", "refund-charge", task=proposal, envelope=envelope)
    assert done.state == TaskState.TASK_STATE_COMPLETED
    # The executor deletes the thread just after it reports completion, so the caller may read first.
    async with asyncio.timeout(WAIT):
        while True:
            if proposal.task_id not in _threads(payment):
                break
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "SendMessage", "params": {}}',  # a lone surrogate id
        b'{"jsonrpc": "2.0", "id": ' + b"9" * 4301 + b', "method": "SendMessage", "params": {}}',
        b"[" * 100 + b"]" * 100,
    ],
)
async def test_a_hostile_body_gets_a_parse_error_not_a_server_error(
    agents: dict[str, AgentOnStack], body: bytes
) -> None:
    billing = agents["billing"].specialist
    headers = {
        "A2A-Version": "1.0",
        "Authorization": f"Bearer {await orchestrator_token(agents['billing'])}",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=billing.base_url, headers=headers, timeout=WAIT) as http:
        for path in ("/a2a/jsonrpc", "/a2a/rest/message:send"):
            answer = await http.post(path, content=body)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["error"]["code"] == -32700
