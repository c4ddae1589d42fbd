"""The ASGI wrapper: gateway-only access, health, host checks, body limits, tool metadata."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_testkit import AUTHORITY, GATEWAY_TOKEN, mcp_client

from mcp_servers import build_app
from shared.errors import ConfigurationError
from shared.settings import SYSTEMS

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

# (tool, subject arg (or (arg, kind)) or None, read-only) per system, from the action catalog.
CATALOG = {
    "identity": [
        ("resolve_customer", None, True),
        ("start_verification", None, False),
        ("verify_code", None, False),
        ("issue_signal_context", None, True),
        ("send_sign_in_link", "customer_id", False),
    ],
    "crm": [
        ("get_profile", "email", True),
        ("list_interactions", "email", True),
        ("log_interaction", "email", False),
        ("send_offer", "email", False),
        ("get_customer_view", "customer_id", True),
        ("send_service_message", "email", False),
    ],
    "billing": [
        ("get_account", "msisdn", True),
        ("list_invoices", "msisdn", True),
        ("list_plans", None, True),
        ("get_entitlements", "msisdn", True),
        ("change_plan", "msisdn", False),
        ("issue_invoice", "msisdn", False),
        ("get_contract", "msisdn", True),
    ],
    "payments": [
        ("list_charges", "account_number", True),
        ("find_duplicate_charges", "account_number", True),
        ("issue_refund", "account_number", False),
        ("list_refunds", "account_number", True),
        ("refund_facts", "account_number", True),
        ("record_payment", "account_number", False),
        ("get_payment_method", "account_number", True),
        ("set_autopay", "account_number", False),
    ],
    "support": [
        ("search_knowledge", None, True),
        ("list_tickets", "email", True),
        ("open_ticket", "email", False),
        # A handoff is about the conversation: the customer may not be verified yet.
        ("request_human", ("conversation_id", "conversation"), False),
        ("close_ticket", "email", False),
        ("list_orders", "email", True),
        ("cancel_order", "email", False),
        ("change_delivery", "email", False),
    ],
    "network": [
        ("get_line_status", "msisdn", True),
        ("run_line_test", "msisdn", True),
        ("check_sim_swap", "msisdn", True),
        ("sim_swap_check", "msisdn", True),
        ("sim_swap_retrieve_date", "msisdn", True),
        ("device_connectivity", "msisdn", True),
        ("device_roaming", "msisdn", True),
        ("create_qos_session", "msisdn", False),
        ("block_sim", "msisdn", False),
        ("order_replacement_sim", "msisdn", False),
    ],
    "consent": [
        ("get_consents", "customer_id", True),
        ("get_purposes", "customer_id", True),
        ("grant_consent", "customer_id", False),
        ("revoke_consent", "customer_id", False),
    ],
}
WRITES = {
    "issue_refund",
    "change_plan",
    "open_ticket",
    "request_human",
    "log_interaction",
    "send_offer",
    "grant_consent",
    "revoke_consent",
    "issue_invoice",
    "record_payment",
    "close_ticket",
    "create_qos_session",
    "send_service_message",
    "block_sim",
    "order_replacement_sim",
    "send_sign_in_link",
    "cancel_order",
    "change_delivery",
    "set_autopay",
}


@pytest.mark.parametrize("system", SYSTEMS)
async def test_tools_match_the_catalog(start, system):
    async with mcp_client(await start(system)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert sorted(tools) == sorted(name for name, _, _ in CATALOG[system])
    for name, subject, read_only in CATALOG[system]:
        tool = tools[name]
        assert tool.meta["switchboard/version"] == 1
        if subject is None:
            assert "switchboard/subject" not in tool.meta
        else:
            arg, kind = subject if isinstance(subject, tuple) else (subject, subject)
            assert tool.meta["switchboard/subject"] == {"arg": arg, "kind": kind}
            assert arg in tool.input_schema["properties"]
        assert tool.annotations.read_only_hint is read_only
        assert tool.output_schema is not None
        if name in WRITES:
            assert tool.annotations.idempotent_hint is True
            assert "idempotency_key" in tool.input_schema["required"]
        for prop in tool.input_schema["properties"].values():
            for option in prop.get("anyOf", [prop]):
                if option.get("type") == "string" and "enum" not in option:
                    assert option.get("maxLength"), (name, prop)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": GATEWAY_TOKEN}, {"Authorization": "Basic x"}],
)
async def test_requests_without_the_gateway_token_get_401(start, headers):
    base = await start("crm")
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{base}/mcp", json=INIT, headers={**HEADERS, **headers})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_mcp_client_with_a_wrong_token_cannot_connect(start):
    base = await start("payments")
    # The SDK reports a refused connection as an exception group around an MCPError.
    with pytest.raises(BaseExceptionGroup):
        async with mcp_client(base, token="not-the-gateway") as client:
            await client.list_tools()


async def test_health_is_open_and_mcp_accepts_the_gateway(start):
    base = await start("network")
    async with httpx2.AsyncClient() as http:
        health = await http.get(f"{base}/healthz")
        assert health.json() == {"status": "ok", "system": "network", "tools": len(CATALOG["network"])}
        response = await http.post(
            f"{base}/mcp", json=INIT, headers={**HEADERS, "Authorization": f"Bearer {GATEWAY_TOKEN}"}
        )
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"] == "network"


async def test_dns_rebinding_guard_and_allowed_hosts(start):
    base = await start("crm", allowed_hosts=["crm-service"])
    auth = {**HEADERS, "Authorization": f"Bearer {GATEWAY_TOKEN}"}
    async with httpx2.AsyncClient() as http:
        evil = await http.post(f"{base}/mcp", json=INIT, headers={**auth, "Host": "evil.example"})
        named = await http.post(f"{base}/mcp", json=INIT, headers={**auth, "Host": "crm-service:8731"})
        local = await http.post(f"{base}/mcp", json=INIT, headers={**auth, "Host": "localhost"})
    assert evil.status_code == 421
    assert named.status_code == 200
    assert local.status_code == 200


async def test_oversized_body_is_refused(start):
    base = await start("support")
    body = {**INIT, "params": {**INIT["params"], "padding": "x" * 300_000}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            f"{base}/mcp", json=body, headers={**HEADERS, "Authorization": f"Bearer {GATEWAY_TOKEN}"}
        )
    assert response.status_code == 413


async def test_oversized_argument_strings_get_a_clear_error(start):
    async with mcp_client(await start("crm")) as crm:
        result = await crm.call_tool("get_profile", {"email": "a" * 300 + "@example.com"})
    assert result.is_error
    assert "email" in result.content[0].text and "at most 254 characters" in result.content[0].text


async def test_unknown_tool_is_an_error_result(start):
    async with mcp_client(await start("billing")) as billing:
        result = await billing.call_tool("issue_refund", {})
    assert result.is_error and "Unknown tool" in result.content[0].text


def test_misconfiguration_fails_at_build(data_dir):
    with pytest.raises(ConfigurationError, match="unknown system"):
        build_app("ledger", data_dir=data_dir, auth=AUTHORITY.auth("mcp:ledger"))
    with pytest.raises(ConfigurationError, match="private key"):
        build_app("identity", data_dir=data_dir, auth=AUTHORITY.auth("mcp:identity"))


async def test_unseeded_data_dir_fails_at_start(tmp_path):
    app = build_app("crm", data_dir=tmp_path, auth=AUTHORITY.auth("mcp:crm"))
    with pytest.raises(ConfigurationError, match="no database at"):
        async with app.router.lifespan_context(app):
            pass


async def test_client_helper_is_the_documented_shape(start):
    base = await start("identity")
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {GATEWAY_TOKEN}"}) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
    ):
        assert len((await client.list_tools()).tools) == len(CATALOG["identity"])
