"""What reaches the gateway before MCP does: agent tokens, body size, malformed JSON-RPC."""

from __future__ import annotations

import json

import httpx2

from gateway import read_audit
from tests.governance.conftest import AGENT_TOKENS, ANA, AUTHORITY, Env
from tests.service_tokens import ISSUER

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def tools_call(envelope: str | None = None) -> dict:
    params = {"name": "payments.list_charges", "arguments": {"account_number": ANA.account_number}}
    if envelope:
        params["_meta"] = {"switchboard/envelope": envelope}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}


async def test_unknown_agent_token_gets_401_and_an_audit_record(env: Env) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            env.url + "/mcp",
            json=tools_call(env.envelope()),
            headers={**MCP_HEADERS, "Authorization": "Bearer not-a-token"},
        )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")
    [record] = read_audit(env.audit_db)
    assert (record.agent, record.decision, record.tool) == ("unknown", "deny", "payments.list_charges")
    assert record.conversation_id == "conv-1"
    assert env.upstreams["payments"].calls == []


async def test_missing_token_gets_401_and_a_refusal_record(env: Env) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            env.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=MCP_HEADERS
        )
    assert response.status_code == 401
    [record] = read_audit(env.audit_db)  # not a tools/call, but a refused caller all the same
    assert (record.agent, record.decision) == ("unknown", "deny") and "no bearer token" in record.reason


async def test_oversized_body_gets_413(env: Env) -> None:
    body = tools_call(env.envelope())
    body["params"]["arguments"]["padding"] = "x" * (300 * 1024)
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            env.url + "/mcp",
            content=json.dumps(body),
            headers={**MCP_HEADERS, "Authorization": f"Bearer {AGENT_TOKENS['payment']}"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert env.upstreams["payments"].calls == []


async def test_oversized_chunked_body_gets_413(env: Env) -> None:
    async def chunks():
        for _ in range(40):
            yield b"x" * 8192

    async with httpx2.AsyncClient() as http:
        response = await http.post(
            env.url + "/mcp",
            content=chunks(),
            headers={**MCP_HEADERS, "Authorization": f"Bearer {AGENT_TOKENS['payment']}"},
        )
    assert response.status_code == 413


async def test_malformed_json_rpc_gets_the_sdk_error(env: Env) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            env.url + "/mcp",
            content=b"{this is not json",
            headers={**MCP_HEADERS, "Authorization": f"Bearer {AGENT_TOKENS['payment']}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


async def test_healthz_reports_upstreams_without_a_token(env: Env) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(env.url + "/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert {s: u["status"] for s, u in body["upstreams"].items()} == {
        "payments": "up",
        "support": "up",
        "billing": "up",
        "consent": "up",
        "crm": "up",
    }


async def test_the_refusal_intake_takes_reports_only_from_services_with_an_audit_token(env: Env) -> None:
    report = {"service": "agent:billing", "caller": "mallory (unverified)", "reason": "the token has expired"}
    async with httpx2.AsyncClient(base_url=env.url) as http:
        anonymous = await http.post("/audit/refusals", json=report)
        wrong_audience = await http.post(
            "/audit/refusals", json=report, headers={"Authorization": f"Bearer {AGENT_TOKENS['billing']}"}
        )
        audit_token = AUTHORITY.mint("audit", sub="billing")
        malformed = await http.post(
            "/audit/refusals", json={"caller": 5}, headers={"Authorization": f"Bearer {audit_token}"}
        )
        accepted = await http.post("/audit/refusals", json=report, headers={"Authorization": f"Bearer {audit_token}"})
    assert (anonymous.status_code, wrong_audience.status_code, malformed.status_code) == (401, 401, 400)
    assert accepted.status_code == 201
    [record] = read_audit(env.audit_db)
    assert (record.agent, record.tool, record.decision) == ("mallory (unverified)", "agent:billing", "deny")
    assert "reported by billing" in record.reason and "expired" in record.reason


async def test_protected_resource_metadata_is_served_without_a_token(env: Env) -> None:
    async with httpx2.AsyncClient(base_url=env.url) as http:
        refused = await http.post("/mcp", json=tools_call(), headers=MCP_HEADERS)
        challenge = refused.headers["www-authenticate"]
        url = challenge.split('resource_metadata="')[1].rstrip('"')
        metadata = await http.get(url)
    assert refused.status_code == 401 and 'error="invalid_token"' in challenge
    assert metadata.status_code == 200
    body = metadata.json()
    assert body["resource"] == env.url + "/mcp" and body["authorization_servers"] == [ISSUER]
