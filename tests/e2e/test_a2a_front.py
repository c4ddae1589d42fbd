"""Switchboard as an A2A agent: an external agent with registered credentials holds a conversation."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from a2a.client import A2ACardResolver, AuthInterceptor, Client, ClientConfig, ClientFactory
from a2a.helpers import get_message_text
from a2a.types import Message, Part, Role, SendMessageRequest, Task, TaskState
from a2a.utils.errors import InvalidParamsError, InvalidRequestError

from gateway import read_audit
from shared.service_auth import AudienceCredentials, audiences, service_auth
from shared.service_auth.verifier import unverified_subject
from shared.settings import A2A_JSONRPC_PATH, A2A_REST_PATH
from tests.e2e.conftest import RunningStack
from tests.e2e.test_hostile_callers import last_seq, refusals
from tests.governance.e2e_helpers import refunds_for, small_refund_customers
from token_service import ClientRegistry

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def register(running: RunningStack, name: str) -> AudienceCredentials:
    """An operator registers an external agent; it gets its orchestrator tokens from the token service."""
    client_id, secret = ClientRegistry.open(running.data_dir).register(f"{name}-{uuid.uuid4().hex[:8]}")
    identity = service_auth(running.topology.tokens, client_id, secret)
    return AudienceCredentials(identity.tokens, audiences.ORCHESTRATOR)


@contextlib.asynccontextmanager
async def a2a_client(
    running: RunningStack, credentials: AudienceCredentials, binding: str = "JSONRPC"
) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, running.topology.orchestrator).get_agent_card()
        config = ClientConfig(streaming=False, httpx_client=http, supported_protocol_bindings=[binding])
        factory = ClientFactory(config)
        yield factory.create(card, interceptors=[AuthInterceptor(credentials)])


async def send(client: Client, text: str, *, context_id: str = "", task_id: str = "") -> Task:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        context_id=context_id,
        task_id=task_id,
    )
    events = [event async for event in client.send_message(SendMessageRequest(message=message))]
    assert len(events) == 1 and events[0].HasField("task"), events
    return events[0].task


def reply(task: Task) -> str:
    return get_message_text(task.status.message)


def a2a_conversations(running: RunningStack) -> int:
    with contextlib.closing(sqlite3.connect(running.data_dir / "conversations.db")) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM conversations WHERE json_extract(state, '$.channel') = 'a2a'"
        ).fetchone()
    return int(count)


@pytest_asyncio.fixture(loop_scope="session")
async def partner(running: RunningStack) -> AudienceCredentials:
    return register(running, "partner")


async def test_the_card_offers_the_customer_goals_behind_the_token_scheme(running: RunningStack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, running.topology.orchestrator).get_agent_card()
        specialists = [await A2ACardResolver(http, url).get_agent_card() for url in running.topology.agents.values()]
    expected = {(skill.id, skill.name) for c in specialists for skill in c.skills}
    assert {(skill.id, skill.name) for skill in card.skills} == expected
    assert all(skill.name != skill.id for skill in card.skills)  # customer words, not skill ids
    flow = card.security_schemes["switchboard"].oauth2_security_scheme.flows.client_credentials
    assert flow.token_url == running.topology.tokens.rstrip("/") + audiences.TOKEN_PATH
    assert list(flow.scopes) == [audiences.ORCHESTRATOR]
    base = running.topology.orchestrator.rstrip("/")
    assert {i.url for i in card.supported_interfaces} == {base + A2A_JSONRPC_PATH, base + A2A_REST_PATH}


async def test_an_external_agent_gets_a_refund_for_its_customer(
    running: RunningStack, partner: AudienceCredentials
) -> None:
    customer = small_refund_customers(running.data_dir)[11]
    async with a2a_client(running, partner) as client:
        asked = await send(client, "I think I was charged twice")
        assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, asked
        assert "email" in reply(asked).lower(), reply(asked)
        conversation_id = asked.context_id
        assert conversation_id.startswith("conv-")

        code_asked = await send(client, f"it's {customer['email']}", context_id=conversation_id, task_id=asked.id)
        assert code_asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, code_asked
        assert code_asked.context_id == conversation_id

        proposal = await send(
            client, running.latest_code(customer["customer_id"]), context_id=conversation_id, task_id=asked.id
        )
        assert proposal.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, proposal
        assert proposal.status.message.metadata["agent"] == "payment", proposal
        assert "refund" in reply(proposal).lower(), reply(proposal)

        done = await send(client, "yes", context_id=conversation_id, task_id=asked.id)
        assert done.status.state == TaskState.TASK_STATE_COMPLETED, done
        assert len(refunds_for(running.data_dir, customer["account_number"])) == 1

    records = read_audit(running.data_dir / "audit.db", conversation_id=conversation_id, limit=500)
    tools = {(r.tool, r.decision) for r in records}
    assert ("payments.issue_refund", "allow") in tools, tools
    assert any(tool.startswith("identity.") for tool, _ in tools), tools


async def test_a_conversation_goes_on_over_http_json_and_only_for_its_client(
    running: RunningStack, partner: AudienceCredentials
) -> None:
    async with a2a_client(running, partner, "HTTP+JSON") as client:
        started = await send(client, "I'd like to change my plan")
        assert started.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, started
        again = await send(client, "sorry, which details do you need?", context_id=started.context_id)
        assert again.context_id == started.context_id
    outsider = register(running, "outsider")
    since = last_seq(running)
    async with a2a_client(running, outsider) as client:
        with pytest.raises(InvalidParamsError, match="no conversation"):
            await send(client, "what did we just talk about?", context_id=started.context_id)
        with pytest.raises(InvalidParamsError, match="no conversation"):
            await send(client, "hello", context_id="conv-made-up")
    # Each refusal is audited, naming the verified client that was refused.
    outsider_id = unverified_subject(await outsider.get_credentials("switchboard", None) or "")
    records = refusals(running, "orchestrator", since)
    assert [r.agent for r in records] == [outsider_id, outsider_id], records
    assert all("reported by orchestrator" in r.reason and "no conversation" in r.reason for r in records)


async def test_a_switchboard_service_with_an_orchestrator_token_cannot_hold_a_conversation(
    running: RunningStack,
) -> None:
    # The gateway holds orchestrator tokens for its callbacks; that is no licence to talk as a customer.
    gateway = AudienceCredentials(running.stack.service_auth(audiences.GATEWAY).tokens, audiences.ORCHESTRATOR)
    before = a2a_conversations(running)
    since = last_seq(running)
    async with a2a_client(running, gateway) as client:
        with pytest.raises(InvalidRequestError, match="not an external agent"):
            await send(client, "refund me")
    assert a2a_conversations(running) == before
    [record] = refusals(running, "orchestrator", since)
    assert record.agent == audiences.GATEWAY and "not an external agent" in record.reason, record


@pytest.mark.parametrize("who", ["nobody", "another audience"])
async def test_without_a_token_for_the_orchestrator_nothing_reaches_the_supervisor(
    running: RunningStack, who: str
) -> None:
    headers = {}
    if who == "another audience":
        headers["Authorization"] = "Bearer " + await running.token(audiences.ORCHESTRATOR, audiences.agent("billing"))
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {"message": {"role": "ROLE_USER", "messageId": "m-1", "parts": [{"text": "refund me"}]}},
    }
    before = a2a_conversations(running)
    since = last_seq(running)
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        rpc = await http.post(A2A_JSONRPC_PATH, json=body, headers={**headers, "A2A-Version": "1.0"})
        rest = await http.post("/a2a/rest/message:send", json={"message": body["params"]["message"]}, headers=headers)
    for response in (rpc, rest):
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert a2a_conversations(running) == before
    records = refusals(running, "orchestrator", since)
    claimed = "unknown" if who == "nobody" else "orchestrator (unverified)"
    assert [r.agent for r in records] == [claimed, claimed], records
    assert {r.tool for r in records} == {"orchestrator" + A2A_JSONRPC_PATH, "orchestrator/a2a/rest/message:send"}


@pytest.mark.parametrize("who", ["nobody", "an external agent"])
async def test_the_internal_callbacks_refuse_and_audit_anyone_but_the_gateway(
    running: RunningStack, partner: AudienceCredentials, who: str
) -> None:
    token = await partner.get_credentials("switchboard", None) if who != "nobody" else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    since = last_seq(running)
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        approval = {"approval_id": "APR-0000000000000000", "conversation_id": "conv-x", "status": "executed"}
        approvals = await http.post("/api/internal/approvals", json=approval, headers=headers)
        cases = await http.get("/api/internal/open-cases", params={"customer_id": "CUST-00001"}, headers=headers)
    assert approvals.status_code == 401 and cases.status_code == 401, (approvals.text, cases.text)
    records = refusals(running, "orchestrator", since)
    named = "unknown" if token is None else unverified_subject(token)
    assert [r.agent for r in records] == [named, named], records
    assert {r.tool for r in records} == {"orchestrator/api/internal/approvals", "orchestrator/api/internal/open-cases"}
