"""Behaviour 8, the hostile caller: every hop refuses a caller without a valid token for it.

Each attack is made against the running stack over real HTTP, and each must be refused with
a 401 and a JSON error, must leave nothing done in any system, and must leave a deny record
in the gateway's audit log naming the refused caller (agents and systems report theirs).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from gateway import read_audit
from mcp_servers.identity.outbox import read_outbox
from shared.audit import AuditRecord
from shared.authcontext import AuthContextSigner
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope, CustomerKeys, CustomerRef
from shared.handoff import HANDOFF_META_KEY, HandoffRequest
from shared.service_auth import audiences
from shared.skills import load_skills
from tests.e2e.conftest import Chat, RunningStack
from tests.e2e.gateway_client import call_as, text_of
from token_service import KeyRing, TokenIssuer

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
KINDS = ("none", "other-audience", "expired", "unknown-key")


def _issuer(running: RunningStack, keys_dir: Path, *, at: float | None = None) -> TokenIssuer:
    ring = KeyRing.load_or_create(keys_dir, max_token_ttl=300)
    return TokenIssuer(ring, issuer=running.topology.tokens, ttl_seconds=300, clock=lambda: at or time.time())


async def bad_token(running: RunningStack, kind: str, audience: str, tmp_path: Path, sub: str) -> str | None:
    """A token that must not open ``audience``: absent, for another service, expired, or from a stranger's key."""
    if kind == "none":
        return None
    if kind == "other-audience":
        # Genuine and fresh, from the real token service, but for a different service.
        if audience.startswith(audiences.AGENT_PREFIX):
            other = "billing" if audience != audiences.agent("billing") else "payment"
            return await running.token(sub, audiences.agent(other))
        return await running.token(sub, audiences.AUDIT if audience == audiences.GATEWAY else audiences.ORCHESTRATOR)
    if kind == "expired":
        # Signed with the deployment's own key, an hour ago.
        return _issuer(running, running.data_dir, at=time.time() - 3600).mint(sub, audience)
    return _issuer(running, tmp_path / "stranger").mint(sub, audience)


def refusals(running: RunningStack, service: str, since: int) -> list[AuditRecord]:
    records = read_audit(running.data_dir / "audit.db", limit=5000)
    return [r for r in records if r.seq > since and r.decision == "deny" and service in (r.tool + r.reason)]


def last_seq(running: RunningStack) -> int:
    records = read_audit(running.data_dir / "audit.db", limit=1)
    return records[-1].seq if records else 0


def a2a_body(text: str, skill: str, conversation_id: str) -> dict:
    envelope = ContextEnvelope(conversation_id=conversation_id, channel="api")
    metadata = {
        ENVELOPE_META_KEY: envelope.model_dump_json(),
        HANDOFF_META_KEY: HandoffRequest(skill=skill, reason="attack").model_dump_json(),
    }
    message = {
        "role": "ROLE_USER",
        "messageId": uuid.uuid4().hex,
        "contextId": conversation_id,
        "parts": [{"text": text}],
        "metadata": metadata,
    }
    return {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}


def assert_refused(response: httpx.Response) -> dict:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == "unauthenticated" and body["message"], body
    assert response.headers["www-authenticate"].startswith("Bearer")
    return body


def _skill_of(agent: str) -> str:
    return load_skills(agent=agent)[0].name


@pytest.mark.parametrize("kind", KINDS)
async def test_identity_agent_sends_no_code_for_a_caller_without_a_token(
    running: RunningStack, tmp_path: Path, kind: str
) -> None:
    customer = running.customers(90)[71]
    before = read_outbox(running.data_dir, customer_id=customer["customer_id"], limit=100)
    since = last_seq(running)
    conversation_id = f"attack-identity-{kind}"
    token = await bad_token(running, kind, audiences.agent("identity"), tmp_path, "orchestrator")
    headers = {"A2A-Version": "1.0", **({"Authorization": f"Bearer {token}"} if token else {})}
    body = a2a_body(f"my email is {customer['email']}", _skill_of("identity"), conversation_id)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(running.topology.agents["identity"] + "/a2a/jsonrpc", json=body, headers=headers)
    assert_refused(response)
    assert read_outbox(running.data_dir, customer_id=customer["customer_id"], limit=100) == before  # no code sent
    assert read_audit(running.data_dir / "audit.db", conversation_id=conversation_id) == []  # no tool call made
    [record] = refusals(running, "agent:identity", since)
    assert record.agent == ("unknown" if kind == "none" else "orchestrator (unverified)"), record
    assert "reported by identity" in record.reason


@pytest.mark.parametrize("kind", KINDS)
async def test_escalation_agent_opens_no_case_for_a_caller_without_a_token(
    running: RunningStack, tmp_path: Path, kind: str
) -> None:
    since = last_seq(running)
    conversation_id = f"attack-escalation-{kind}"
    token = await bad_token(running, kind, audiences.agent("escalation"), tmp_path, "orchestrator")
    headers = {"A2A-Version": "1.0", **({"Authorization": f"Bearer {token}"} if token else {})}
    body = a2a_body(
        "URGENT: open a high-priority case, the customer is furious", _skill_of("escalation"), conversation_id
    )
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(running.topology.agents["escalation"] + "/a2a/jsonrpc", json=body, headers=headers)
    assert_refused(response)
    assert read_audit(running.data_dir / "audit.db", conversation_id=conversation_id) == []  # no case, no call
    assert len(refusals(running, "agent:escalation", since)) == 1


@pytest.mark.parametrize("agent", ["billing", "payment", "support"])
async def test_every_specialist_refuses_a_token_for_another_agent(running: RunningStack, agent: str) -> None:
    since = last_seq(running)
    other = next(a for a in running.topology.agents if a != agent)
    token = await running.token("orchestrator", audiences.agent(other))
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            running.topology.agents[agent] + "/a2a/jsonrpc",
            json=a2a_body("refund everything", _skill_of(agent), f"attack-{agent}"),
            headers={"A2A-Version": "1.0", "Authorization": f"Bearer {token}"},
        )
        card = await http.get(running.topology.agents[agent] + "/.well-known/agent-card.json")
    assert "another service" in assert_refused(response)["message"]
    assert len(refusals(running, audiences.agent(agent), since)) == 1
    # The card stays public and says how to authenticate.
    declared = card.json()
    [requirement] = declared["securityRequirements"]
    [scheme] = requirement["schemes"]
    flow = declared["securitySchemes"][scheme]["oauth2SecurityScheme"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == running.topology.tokens + audiences.TOKEN_PATH


@pytest.mark.parametrize("kind", [*KINDS, "agent-for-another-agent"])
async def test_gateway_mcp_endpoint_refuses_and_points_at_its_metadata(
    running: RunningStack, tmp_path: Path, kind: str
) -> None:
    since = last_seq(running)
    if kind == "agent-for-another-agent":
        token: str | None = await running.token("billing", audiences.AUDIT)  # billing's, but not for the gateway
    else:
        token = await bad_token(running, kind, audiences.GATEWAY, tmp_path, "payment")
    conversation_id = f"attack-gateway-{kind}"
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "payments.list_charges",
            "arguments": {"account_number": "ACC-0000000"},
            "_meta": {ENVELOPE_META_KEY: ContextEnvelope(conversation_id=conversation_id).model_dump_json()},
        },
    }
    headers = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(running.topology.gateway_mcp_url(), json=call, headers=headers)
        assert_refused(response)
        challenge = response.headers["www-authenticate"]
        metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
        metadata = await http.get(metadata_url)
    assert metadata.status_code == 200
    assert metadata.json()["authorization_servers"] == [running.topology.tokens]
    assert metadata.json()["resource"] == running.topology.gateway_mcp_url()
    [record] = read_audit(running.data_dir / "audit.db", conversation_id=conversation_id)
    assert record.decision == "deny" and record.tool == "payments.list_charges"
    assert record.agent == (
        "unknown" if kind == "none" else f"{'billing' if 'agent' in kind else 'payment'} (unverified)"
    )
    assert not [
        r for r in read_audit(running.data_dir / "audit.db", limit=500) if r.seq > since and r.decision == "allow"
    ]


@pytest.mark.parametrize("kind", [*KINDS, "an-agent-token"])
async def test_mcp_systems_refuse_everyone_but_the_gateway(running: RunningStack, tmp_path: Path, kind: str) -> None:
    since = last_seq(running)
    audience = audiences.system("payments")
    if kind == "an-agent-token":
        token: str | None = await running.token("payment", audiences.GATEWAY)  # valid, but an agent's
    else:
        token = await bad_token(running, kind, audience, tmp_path, audiences.GATEWAY)
    headers = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_charges", "arguments": {"account_number": "ACC-0000000"}},
    }
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(running.topology.system_mcp_url("payments"), json=call, headers=headers)
    assert_refused(response)
    [record] = refusals(running, audience, since)
    assert "reported by mcp:payments" in record.reason


async def test_an_auth_context_works_only_in_its_own_conversation(running: RunningStack) -> None:
    customer = running.customers(90)[73]
    secrets = running.stack.secrets
    assert secrets is not None
    keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    signer = AuthContextSigner(secrets.identity_private_pem.encode())
    context_a = signer.issue(keys, method="otp-sms", assurance="AAL2", conversation_id="attack-conv-A")
    token = await running.token("billing", audiences.GATEWAY)
    args = {"msisdn": customer["msisdn"]}

    def envelope(conversation_id: str) -> ContextEnvelope:
        return ContextEnvelope(conversation_id=conversation_id, customer=CustomerRef(keys=keys), auth_context=context_a)

    own = await call_as(
        running.topology.gateway_mcp_url(), token, "billing.list_invoices", args, envelope("attack-conv-A")
    )
    assert not own.is_error, text_of(own)
    for elsewhere in ("attack-conv-B", f"made-up-{uuid.uuid4().hex}"):
        moved = await call_as(
            running.topology.gateway_mcp_url(), token, "billing.list_invoices", args, envelope(elsewhere)
        )
        assert text_of(moved).startswith("DENIED") and "another conversation" in text_of(moved), text_of(moved)
        [record] = read_audit(running.data_dir / "audit.db", conversation_id=elsewhere)
        assert record.decision == "deny" and record.agent == "billing"


async def test_a_call_naming_another_conversation_than_its_envelope_is_denied(running: RunningStack) -> None:
    token = await running.token("identity", audiences.GATEWAY)
    customer = running.customers(90)[74]
    envelope = ContextEnvelope(conversation_id="attack-conv-C")
    args = {"customer_id": customer["customer_id"], "channel": "sms", "conversation_id": "attack-conv-D"}
    result = await call_as(running.topology.gateway_mcp_url(), token, "identity.start_verification", args, envelope)
    assert text_of(result).startswith("DENIED") and "another conversation" in text_of(result)
    [record] = read_audit(running.data_dir / "audit.db", conversation_id="attack-conv-C")
    assert record.decision == "deny" and record.policy_ids == ["conversation-binding"]


async def test_allowed_calls_name_the_authenticated_a2a_caller(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(90)[75]
    await chat.verify(customer, "what is on my latest bill?")
    records = read_audit(running.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=200)
    allowed = [r for r in records if r.decision == "allow"]
    assert allowed, records
    assert {(r.agent, r.caller) for r in allowed} >= {("identity", "orchestrator")}
    assert all(r.caller == "orchestrator" for r in allowed), [(r.agent, r.tool, r.caller) for r in allowed]
