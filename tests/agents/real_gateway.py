"""One specialist behind the real governance gateway and the reference systems, on loopback.

Any agent's tests use it, built-in or scaffolded: the stack runs only that specialist (plus the
token service, the systems, the gateway and the orchestrator it always starts) on a fresh data
directory. Customers come from the reference data, envelopes carry an auth context signed by the
identity system's key, and what the specialist did is read back from the gateway's audit log
(every call, allowed or not, with its arguments), so a test asserts on what really happened.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from a2a.client import AuthInterceptor, ClientConfig, create_client

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from orchestrator.launcher import Stack
from shared.authcontext import AuthContextSigner
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from shared.secrets import Secrets
from shared.service_auth import AudienceCredentials, audiences
from shared.settings import Settings
from tests.agents.conftest import Specialist
from tests.e2e.gateway_client import call_as, text_of

KEYS = ("customer_id", "email", "msisdn", "account_number")


@dataclass(frozen=True)
class Call:
    """One tool call as the gateway recorded it."""

    tool: str
    decision: str
    args: dict[str, Any]


@dataclass
class AgentOnStack:
    stack: Stack
    specialist: Specialist

    @property
    def data_dir(self) -> Path:
        return self.stack.data_dir

    def customers(self, n: int = 5, **flags: Any) -> list[dict[str, Any]]:
        return sample_customers(self.data_dir, n, **flags)

    def envelope(self, customer: dict[str, Any], conversation_id: str = "") -> ContextEnvelope:
        """A conversation about ``customer`` verified by the identity system (as after a one-time code)."""
        secrets = Secrets.load_or_create(self.data_dir)
        keys = CustomerKeys(**{k: customer[k] for k in KEYS})
        conversation = conversation_id or f"conv-{uuid.uuid4().hex[:8]}"
        auth = AuthContextSigner(secrets.identity_private_pem.encode()).issue(
            keys, method="otp-sms", assurance="AAL2", conversation_id=conversation
        )
        return ContextEnvelope(
            conversation_id=conversation,
            customer=CustomerRef(keys=keys, display_name=customer.get("display_name") or ""),
            auth_context=auth,
        )

    def latest_code(self, customer_id: str) -> str:
        """The one-time code the identity system last "sent" the customer (its reference outbox)."""
        messages = read_outbox(self.data_dir, customer_id=customer_id, limit=1)
        assert messages, f"no one-time code was sent to {customer_id}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert match, messages[-1]
        return match.group(1)

    def calls(self, conversation_id: str) -> list[Call]:
        """Every tool call in the conversation, in order, from the gateway's audit log."""
        with contextlib.closing(sqlite3.connect(self.data_dir / "audit.db")) as db:
            rows = db.execute(
                "SELECT a.body, r.arguments FROM audit a LEFT JOIN audit_raw r ON r.record_id = a.id"
                " WHERE a.conversation_id = ? ORDER BY a.seq",
                (conversation_id,),
            ).fetchall()
        calls = []
        for body, raw in rows:
            record = json.loads(body)
            # One decision record per call (an outcome record follows an allowed one).
            if record.get("tool") and record.get("kind") == "decision":
                args = json.loads(raw) if raw else record.get("arguments") or {}
                calls.append(Call(record["tool"], record.get("decision", ""), args))
        return calls

    async def read(self, tool: str, args: dict[str, Any], envelope: ContextEnvelope) -> dict[str, Any]:
        """What the system of record says, read through the gateway as this specialist would."""
        token = await self.stack.service_auth(self.specialist.name).tokens.token(audiences.GATEWAY)
        assert self.stack.topology is not None
        result = await call_as(self.stack.topology.gateway_mcp_url(), token, tool, args, envelope)
        assert not result.is_error, text_of(result)
        assert isinstance(result.structured_content, dict)
        return result.structured_content


@asynccontextmanager
async def connect(
    agent: AgentOnStack, *, binding: str = "JSONRPC", streaming: bool = False
) -> AsyncIterator[Specialist]:
    """Another A2A client to the same specialist, over ``binding``, streaming or not."""
    tokens = agent.stack.service_auth(audiences.ORCHESTRATOR).tokens
    credentials = AudienceCredentials(tokens, audiences.agent(agent.specialist.name))
    config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding], use_client_preference=True)
    base = agent.specialist.base_url
    async with await create_client(base, client_config=config, interceptors=[AuthInterceptor(credentials)]) as client:
        yield Specialist(agent.specialist.name, base, client)


async def orchestrator_token(agent: AgentOnStack) -> str:
    """A bearer token for calling the specialist as the orchestrator does (for raw HTTP checks)."""
    tokens = agent.stack.service_auth(audiences.ORCHESTRATOR).tokens
    return await tokens.token(audiences.agent(agent.specialist.name))


@asynccontextmanager
async def agents_on_stack(data_dir: Path, *agents: str) -> AsyncIterator[dict[str, AgentOnStack]]:
    """Start ``agents`` behind the real gateway on a fresh ``data_dir``; an A2A client talks to each."""
    stack = Stack(Settings(data_dir=data_dir, host="127.0.0.1"), ephemeral_ports=True, agents=agents)
    topology = await stack.start()
    try:
        async with contextlib.AsyncExitStack() as clients:
            running = {}
            for agent in agents:
                # Called as the orchestrator calls it: a token for this agent from the stack's token service.
                tokens = stack.service_auth(audiences.ORCHESTRATOR).tokens
                credentials = AudienceCredentials(tokens, audiences.agent(agent))
                config = ClientConfig(streaming=False, supported_protocol_bindings=["JSONRPC"])
                client = await clients.enter_async_context(
                    await create_client(
                        topology.agents[agent], client_config=config, interceptors=[AuthInterceptor(credentials)]
                    )
                )
                running[agent] = AgentOnStack(stack, Specialist(agent, topology.agents[agent], client))
            yield running
    finally:
        await stack.stop()


@asynccontextmanager
async def agent_on_stack(data_dir: Path, agent: str) -> AsyncIterator[AgentOnStack]:
    """One specialist behind the real gateway on a fresh ``data_dir``."""
    async with agents_on_stack(data_dir, agent) as running:
        yield running[agent]


async def _staff_call(
    agent: AgentOnStack, role: str, method: str, path: str, body: dict[str, Any] | None
) -> httpx.Response:
    _, token = Secrets.load_or_create(agent.data_dir).staff_token(role)  # type: ignore[arg-type]
    assert agent.stack.topology is not None
    async with httpx.AsyncClient(base_url=agent.stack.topology.gateway, timeout=30) as http:
        return await http.request(method, "/governance" + path, json=body, headers={"Authorization": f"Bearer {token}"})


async def staff(agent: AgentOnStack, role: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A call to the gateway's governance API as a member of staff with ``role`` (approver, compliance, admin)."""
    response = await _staff_call(agent, role, method, path, body)
    assert response.status_code == 200, response.text
    return response.json()


async def weaken(
    agent: AgentOnStack, method: str, path: str, body: dict[str, Any] | None = None, *, asker: str = "compliance"
) -> Any:
    """Weaken a control (lift a hold, a switch off) as it must be done: one person asks, a second approves."""
    terms = {**(body or {}), "minutes": 5, "reason": "the test is over"}
    asked = await _staff_call(agent, asker, method, path, terms)
    assert asked.status_code == 202, asked.text
    second = "admin" if asker != "admin" else "compliance"
    return await staff(agent, second, "POST", f"/changes/{asked.json()['change']['id']}/approve", {})
