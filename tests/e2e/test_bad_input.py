"""Bad input gets a clear answer and loses nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_an_unknown_identifier_gets_the_same_reply_as_a_known_one(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(7)[6]
    await chat.say("what's on my latest bill?")
    unknown = await chat.say("my email is nobody-at-all@nowhere.example")
    other = await chat.__class__(chat.http, running).start()
    await other.say("what's on my latest bill?")
    known = await other.say(f"my email is {customer['email']}")
    assert unknown["reply"] == known["reply"] and unknown["status"] == known["status"] == "input-required"
    assert customer["email"] not in known["reply"] and customer["msisdn"][-3:] not in known["reply"]
    assert not unknown["verified"]


async def test_wrong_codes_pause_that_way_and_offer_another(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(6)[5]
    await chat.say("explain my bill please")
    await chat.say(customer["email"])
    real = running.latest_code(customer["customer_id"])
    wrong = "000000" if real != "000000" else "111111"
    first = await chat.say(wrong)
    assert first["status"] == "input-required" and "2" in first["reply"], first
    await chat.say(wrong)
    used_up = await chat.say(wrong)
    assert not used_up["verified"]
    resent = await chat.say("new code please")  # a resend does not reset the count
    assert "If those details match" in resent["reply"], resent
    await chat.say(wrong)
    paused = await chat.say(wrong)
    assert "another contact detail" in paused["reply"] and "colleague" in paused["reply"], paused
    # The real code of the first message no longer helps, but the mobile number is another way in.
    assert not (await chat.say(real))["verified"]
    await chat.say(customer["msisdn"])
    verified = await chat.say(running.latest_code(customer["customer_id"]))
    assert verified["verified"], verified


async def test_oversized_and_malformed_messages_are_refused_without_losing_the_conversation(chat: Chat) -> None:
    too_long = await chat.say("a" * 5000, expect=413)
    assert too_long["error"]["code"] == "payload_too_large"
    bad = await chat.http.post(
        f"/api/conversations/{chat.conversation_id}/messages",
        content=b"{not json",
        headers={"Authorization": f"Bearer {chat.token}", "content-type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
    empty = await chat.say("   ", expect=400)
    assert empty["error"]["code"] == "invalid_request"
    wrong_token = await chat.http.post(
        f"/api/conversations/{chat.conversation_id}/messages",
        json={"text": "hello"},
        headers={"Authorization": "Bearer not-the-token"},
    )
    assert wrong_token.status_code == 401
    # The conversation is intact and answers normally afterwards.
    ok = await chat.say("I want to talk to a human please")
    assert ok["agent"] == "escalation"
    state = await chat.state()
    assert [e["role"] for e in state["transcript"]][:3] == ["system", "customer", "agent"]  # the AI notice first


async def test_malformed_a2a_request_gets_a_protocol_error(running: RunningStack) -> None:
    url = running.topology.agents["payment"] + "/a2a/jsonrpc"
    token = await running.token("orchestrator", "agent:payment")
    headers = {"A2A-Version": "1.0", "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=10) as http:
        garbage = await http.post(url, content=b"{]", headers={**headers, "content-type": "application/json"})
        assert garbage.status_code in (200, 400)
        assert garbage.json()["error"]["code"] == -32700  # JSON-RPC parse error
        no_metadata = await http.post(
            url,
            headers=headers,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {"message": {"role": "ROLE_USER", "messageId": "m1", "parts": [{"text": "refund"}]}},
            },
        )
        body = no_metadata.json()
        assert "error" in body, body
        assert "switchboard/envelope" in body["error"]["message"] or "envelope" in body["error"]["message"].lower()


async def test_malformed_mcp_request_to_the_gateway_is_refused(running: RunningStack) -> None:
    secrets = running.stack.secrets
    assert secrets is not None
    async with httpx.AsyncClient(timeout=10) as http:
        unauthenticated = await http.post(
            running.topology.gateway_mcp_url(), json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        )
        assert unauthenticated.status_code == 401
        garbage = await http.post(
            running.topology.gateway_mcp_url(),
            content=b"this is not json-rpc",
            headers={
                "Authorization": f"Bearer {await running.token('billing', 'gateway')}",
                "content-type": "application/json",
                "accept": "application/json, text/event-stream",
            },
        )
        assert garbage.status_code == 400 or "error" in garbage.json()
        oversized = await http.post(
            running.topology.gateway_mcp_url(),
            content=b"x" * (300 * 1024),
            headers={
                "Authorization": f"Bearer {await running.token('billing', 'gateway')}",
                "content-type": "application/json",
            },
        )
        assert oversized.status_code == 413


async def test_mcp_servers_refuse_anyone_but_the_gateway(running: RunningStack) -> None:
    secrets = running.stack.secrets
    assert secrets is not None
    url = running.topology.system_mcp_url("payments")
    async with httpx.AsyncClient(timeout=10) as http:
        # An agent's valid token for the gateway is no token for a system.
        for headers in ({}, {"Authorization": f"Bearer {await running.token('payment', 'gateway')}"}):
            response = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers)
            assert response.status_code == 401, headers
