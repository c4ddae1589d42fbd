"""A system that answers outside a tool's output schema fails that call clearly, and only that call.

The system here is a real MCP server on a loopback socket that lists the toy systems' own tools
(so policy grants them as usual) and answers one of them with structured content its listed
output schema does not allow, as a system would after a change its listing does not show yet.
The connection is healthy: the gateway neither reconnects nor makes the call again, calls in
flight on the same connection finish, and the audit log says what happened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from starlette.types import ASGIApp

from agents.runtime.gateway import classify
from gateway import read_audit, verify_audit
from tests.governance.conftest import ANA, WAIT, Env, Upstream, build_upstream, start_env

READ_TEXT = (
    "the billing system is unavailable for this call: it answered in a form it does not publish, so the "
    "answer was not passed on; nothing was changed — try again later or ask for a human"
)
WRITE_TEXT = (
    "the support system is unavailable for this call: it answered in a form it does not publish, so the "
    "answer was not passed on; the action may or may not have been carried out — check before retrying "
    "(retry with the same idempotency_key) or ask for a human"
)
IN_FLIGHT = 4


@dataclass
class Answers:
    """A system that lists the toy system's tools and answers each with the content given here."""

    system: str
    content: dict[str, dict[str, Any]]
    listings: int = 0
    calls: list[str] = field(default_factory=list)
    held: str | None = None
    """Calls to this tool wait for ``release`` once ``IN_FLIGHT`` of them have arrived (``arrived``)."""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def app(self) -> ASGIApp:
        tools = await build_upstream(Upstream(self.system)).list_tools()

        async def list_tools(
            ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
        ) -> types.ListToolsResult:
            self.listings += 1
            return types.ListToolsResult(tools=tools)

        async def call_tool(
            ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
        ) -> types.CallToolResult:
            self.calls.append(params.name)
            if params.name == self.held:
                if self.calls.count(params.name) == IN_FLIGHT:
                    self.arrived.set()
                with anyio.fail_after(WAIT):
                    await self.release.wait()
            structured = self.content[params.name]
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(structured))], structured_content=structured
            )

        schemas = {t.name: t.input_schema for t in tools}
        # The input schemas given apart: the SDK lists the tools itself for each call otherwise,
        # and ``listings`` counts the gateway's listings (each connection makes one).
        server: Server[Any] = Server(
            self.system, on_list_tools=list_tools, on_call_tool=call_tool, get_tool_input_schema=schemas.get
        )
        return server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)


async def _serve(env: Env, answers: Answers) -> None:
    await env.servers.start(await answers.app(), env.sockets[answers.system])


async def _health(env: Env) -> dict[str, Any]:
    async with httpx2.AsyncClient() as http:
        return (await http.get(env.url + "/healthz")).json()


def _text(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_a_read_outside_its_schema_fails_alone_without_a_reconnect(tmp_path: Path, identity_key: bytes) -> None:
    invoices = {"plans": []}
    answers = Answers(
        "billing",
        # list_plans lists {"plans": [str, ...]}: a bare string is not one.
        {"list_plans": {"plans": "basic-10"}, "list_invoices": invoices},
        held="list_invoices",
    )
    async with start_env(tmp_path, identity_key, down=("billing",)) as env:
        await _serve(env, answers)
        meta = {"switchboard/envelope": env.envelope()}
        async with env.agent("billing") as agent:
            reads = [
                asyncio.create_task(agent.call_tool("billing.list_invoices", {"msisdn": ANA.msisdn}, meta=meta))
                for _ in range(IN_FLIGHT)
            ]
            with anyio.fail_after(WAIT):
                await answers.arrived.wait()
            # Those reads are in flight on the gateway's one connection to billing when the bad answer comes.
            result = await agent.call_tool("billing.list_plans", {}, meta=meta)
            assert result.is_error and _text(result) == READ_TEXT
            assert result.meta is not None
            assert result.meta["switchboard/refusal"]["kind"] == "unavailable"
            assert classify("billing.list_plans", result).kind == "unavailable"
            assert (await _health(env))["upstreams"]["billing"]["status"] == "up"

            answers.release.set()
            with anyio.fail_after(WAIT):
                done = await asyncio.gather(*reads)
        assert all(not r.is_error and r.structured_content == invoices for r in done), [_text(r) for r in done]
        # Listed once, when first used; the bad answer was asked for once, and nothing was asked twice.
        assert answers.listings == 1
        assert sorted(answers.calls) == ["list_invoices"] * IN_FLIGHT + ["list_plans"]

    records = read_audit(env.audit_db)
    [plans] = [r for r in records if r.tool == "billing.list_plans" and r.kind == "outcome"]
    assert plans.decision == "allow" and plans.reason == f"outcome of {result.meta['switchboard/audit_id']}"
    assert plans.outcome is not None
    assert plans.outcome.startswith("error: billing answered outside the tool's output schema (")
    assert "list_plans" in plans.outcome
    outcomes = [r.outcome for r in records if r.tool == "billing.list_invoices" and r.kind == "outcome"]
    assert outcomes == ["ok"] * IN_FLIGHT
    assert verify_audit(env.audit_db).intact


async def test_a_write_answered_outside_its_schema_is_not_made_again(tmp_path: Path, identity_key: bytes) -> None:
    # request_human lists {"handoff_id": str, "email": str | null}: the answer lacks the id.
    answers = Answers("support", {"request_human": {"email": None}})
    async with start_env(tmp_path, identity_key, down=("support",)) as env:
        await _serve(env, answers)
        async with env.agent("escalation") as agent:
            result = await agent.call_tool(
                "support.request_human",
                {"conversation_id": "conv-1", "reason": "wants a person", "email": None},
                meta={"switchboard/envelope": env.envelope(None)},
            )
        assert result.is_error and _text(result) == WRITE_TEXT
        assert classify("support.request_human", result).kind == "unavailable"
        assert answers.calls == ["request_human"] and answers.listings == 1
    outcome = read_audit(env.audit_db)[-1]
    assert outcome.kind == "outcome" and outcome.decision == "allow"
    assert outcome.outcome is not None
    assert outcome.outcome.startswith("error: support answered outside the tool's output schema (")
