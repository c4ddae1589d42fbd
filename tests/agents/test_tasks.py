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
from shared.service_auth import audiences
from tests.agents.conftest import AUTHORITY, WAIT, StartSpecialist, answer_of, handoff_metadata
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
    second = await support.specialist.send("my data is really slow again", "troubleshoot-service", envelope=envelope)
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


class Wire:
    """A raw A2A 1.0 client of one specialist, both bindings: what any client sees on the wire."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def rpc(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        response = await self.http.post("/a2a/jsonrpc", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def rest(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        return await self.http.request(method, f"/a2a/rest{path}", json=body)


@contextlib.asynccontextmanager
async def _wire(
    base_url: str, agent: str, *, caller: str = "orchestrator", version: str = "1.0"
) -> AsyncIterator[Wire]:
    headers = {"A2A-Version": version, "Authorization": f"Bearer {AUTHORITY.mint(audiences.agent(agent), sub=caller)}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=WAIT) as http:
        yield Wire(http)


def _wire_message(text: str, skill: str) -> dict[str, Any]:
    return {
        "role": "ROLE_USER",
        "messageId": uuid.uuid4().hex,
        "parts": [{"text": text}],
        "metadata": handoff_metadata(skill),
    }


async def test_wire_codes_for_tasks_on_both_bindings(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    async with _wire(billing.base_url, "billing") as wire:
        done = await wire.rpc("SendMessage", {"message": _wire_message("my bill", "explain-bill")})
        task = done["result"]["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        task_id = task["id"]

        # GetTask of an unknown task: TaskNotFoundError (-32001; HTTP 404).
        missing = await wire.rpc("GetTask", {"id": "no-such-task"})
        assert missing["error"]["code"] == -32001, missing
        rest_missing = await wire.rest("GET", "/tasks/no-such-task")
        assert rest_missing.status_code == 404 and "TASK_NOT_FOUND" in rest_missing.text

        # CancelTask of a finished task: TaskNotCancelableError (-32002; HTTP 400).
        finished = await wire.rpc("CancelTask", {"id": task_id})
        assert finished["error"]["code"] == -32002, finished
        rest_finished = await wire.rest("POST", f"/tasks/{task_id}:cancel", {})
        assert rest_finished.status_code == 400 and "TASK_NOT_CANCELABLE" in rest_finished.text

        # A part of a media type the card does not accept: ContentTypeNotSupportedError (-32005).
        image = _wire_message("my bill", "explain-bill")
        image["parts"] = [{"text": "my bill"}, {"raw": "iVBORw0K", "mediaType": "image/png"}]
        unsupported = await wire.rpc("SendMessage", {"message": image})
        assert unsupported["error"]["code"] == -32005, unsupported
        rest_unsupported = await wire.rest("POST", "/message:send", {"message": image})
        assert rest_unsupported.status_code == 400 and "CONTENT_TYPE_NOT_SUPPORTED" in rest_unsupported.text

        # What the card says the agent does not offer: push notifications (-32003); an extended card is an
        # unsupported operation (-32004; -32007 is for a card that declares one the agent lacks).
        push = await wire.rpc(
            "CreateTaskPushNotificationConfig", {"taskId": task_id, "url": "https://example.com/hook", "id": "p-1"}
        )
        assert push["error"]["code"] == -32003, push
        extended = await wire.rpc("GetExtendedAgentCard", {})
        assert extended["error"]["code"] == -32004, extended

        # A method the protocol does not have: -32601.
        unknown = await wire.rpc("message/send", {"message": _wire_message("my bill", "explain-bill")})
        assert unknown["error"]["code"] == -32601, unknown

    # Tasks belong to the client that created them: another client is told there is no such task.
    async with _wire(billing.base_url, "billing", caller="external:partner") as stranger:
        hidden = await stranger.rpc("GetTask", {"id": task_id})
        assert hidden["error"]["code"] == -32001, hidden
        assert (await stranger.rest("GET", f"/tasks/{task_id}")).status_code == 404

    # A protocol version the agent does not speak: VersionNotSupportedError (-32009).
    async with _wire(billing.base_url, "billing", version="0.9") as old:
        refused = await old.rpc("GetTask", {"id": task_id})
        assert refused["error"]["code"] == -32009, refused


async def test_the_card_says_how_to_get_a_token_and_is_served_without_one(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    async with httpx.AsyncClient(base_url=billing.base_url, timeout=WAIT) as http:
        card = (await http.get("/.well-known/agent-card.json")).json()
        refused = await http.post("/a2a/rest/message:send", json={"message": _wire_message("hi", "explain-bill")})
    (name,) = card["securitySchemes"]
    flow = card["securitySchemes"][name]["oauth2SecurityScheme"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith(audiences.TOKEN_PATH)
    assert list(flow["scopes"]) == [audiences.agent("billing")]
    assert card["securityRequirements"] == [{"schemes": {name: {}}}]
    assert card["defaultInputModes"] == ["text/plain"]
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
