"""The human-agent console refuses on the server: wrong roles, no session, no CSRF token, bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.consoles.agent_helpers import escalate, packet_of
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_compliance_and_signed_out_sessions_are_refused(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    await escalate(chat)
    base = f"/api/console/escalations/{chat.conversation_id}"
    compliance = await staff_client("compliance")
    for path in ("/api/console/escalations", base, f"{base}/transcript", "/api/console/approvals"):
        refused = await compliance.get(path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", (path, refused.text)
    for path in (f"{base}/take-over", f"{base}/replies", f"{base}/hand-back", "/api/console/approvals/APR-1/approve"):
        refused = await compliance.post(path, json={"text": "hi"})
        assert refused.status_code == 403, (path, refused.text)
    page = await compliance.get("/console/agent")
    assert page.status_code == 403 and "<script" not in page.text.lower()

    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as anonymous:
        for path in ("/api/console/escalations", base, "/api/console/approvals"):
            assert (await anonymous.get(path)).status_code == 401, path
        assert (await anonymous.post(f"{base}/take-over")).status_code == 401
        page = await anonymous.get("/console/agent")
        assert page.status_code == 303 and page.headers["location"].startswith("/console/sign-in")

    # An approver may read cases and decide approvals, but not talk to customers.
    approver = await staff_client("approver")
    assert (await approver.get(base)).status_code == 200
    assert (await approver.post(f"{base}/take-over")).status_code == 403
    assert (await chat.state())["status"] == "escalated"

    # A signed-out session is over on the server, whatever the browser still holds.
    agent = await staff_client("agent")
    assert (await agent.get("/api/console/escalations")).status_code == 200
    assert (await agent.sign_out()).status_code == 303
    assert (await agent.get("/api/console/escalations")).status_code == 401


async def test_posts_without_the_csrf_token_change_nothing(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    await escalate(chat)
    base = f"/api/console/escalations/{chat.conversation_id}"
    agent = await staff_client("agent")
    for csrf in ("", "not-the-token"):
        forged = await agent.post(f"{base}/take-over", csrf=csrf)
        assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"], forged.text
    assert (await packet_of(agent, chat.conversation_id)).human is None
    assert (await agent.post(f"{base}/take-over")).status_code == 200
    forged = await agent.post(f"{base}/replies", csrf="", json={"text": "forged"})
    assert forged.status_code == 403
    assert (await agent.post(f"{base}/hand-back", csrf="")).status_code == 403
    assert (await agent.post("/api/console/approvals/APR-1/reject", csrf="", json={})).status_code == 403
    state = await chat.state()
    assert all(entry["text"] != "forged" for entry in state["transcript"])
    assert (await packet_of(agent, chat.conversation_id)).human is not None  # still taken
    assert (await agent.post(f"{base}/hand-back")).status_code == 200


async def test_bad_input_gets_a_clear_error_and_loses_nothing(
    chat: Chat, running: RunningStack, staff_client: StaffFactory
) -> None:
    await escalate(chat)
    base = f"/api/console/escalations/{chat.conversation_id}"
    agent = await staff_client("agent")
    admin = await staff_client("admin")

    early = await agent.post(f"{base}/replies", json={"text": "too early"})
    assert early.status_code == 409 and "take the conversation over" in early.json()["error"]["message"]
    assert (await agent.post(f"{base}/hand-back")).status_code == 409
    assert (await agent.post(f"{base}/take-over")).status_code == 200
    assert (await admin.post(f"{base}/take-over")).status_code == 409  # someone else has it
    assert (await admin.post(f"{base}/hand-back")).status_code == 409
    assert (await admin.post(f"{base}/replies", json={"text": "not mine"})).status_code == 409

    assert (await agent.post(f"{base}/replies", json={"text": "   "})).status_code == 400
    assert (await agent.post(f"{base}/replies", json={"words": "hi"})).status_code == 400
    assert (await agent.post(f"{base}/replies", content=b"{not json")).status_code == 400
    too_long = await agent.post(f"{base}/replies", json={"text": "x" * 2001})
    assert too_long.status_code == 413
    assert (await agent.get(f"{base}/transcript", params={"after": "soon"})).status_code == 400
    assert (await agent.post("/api/console/approvals/..%2Fkill-switch/approve", json={})).status_code in (400, 404)
    assert (await agent.post("/api/console/approvals/APR-0000/approve", json={"note": 7})).status_code == 400
    missing = await agent.post("/api/console/approvals/APR-0000000000000000/approve", json={})
    assert missing.status_code == 404, missing.text  # the gateway's answer, passed through

    state = await chat.state()
    assert not any(e["text"] in ("too early", "not mine") or e["text"].startswith("xxx") for e in state["transcript"])
    ok = await agent.post(f"{base}/replies", json={"text": "Thanks for waiting."})
    assert ok.status_code == 201
    assert (await agent.post(f"{base}/hand-back")).status_code == 200
