"""The gateway's MCP endpoint: the tool listing and every ``tools/call``, each through the ``Gateway``.

The agent is the one ``AgentAuthMiddleware`` authenticated; a call for an A2A caller carries that
caller's token, verified here. A call that cannot be decided or recorded fails closed: nothing
goes upstream and the agent is told a system is unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import BaseRoute

from gateway.agent_auth import AGENT_SCOPE_KEY, MAX_BODY_BYTES
from gateway.batch import read_batch
from gateway.callers import a2a_caller
from gateway.gateway import Gateway
from gateway.tool_results import DENIED_PREFIX
from shared.errors import ConfigurationError, Unauthenticated
from shared.service_auth import TokenVerifier
from shared.settings import MCP_PATH
from shared.telemetry_mcp import while_tracing
from shared.tools import READ_BATCH_TOOL, REFUSAL_META_KEY, ReadBatch

logger = logging.getLogger(__name__)
READ_BATCH_SCHEMA = ReadBatch.model_json_schema()


def build_mcp_server(
    gateway: Callable[[], Gateway], started: Callable[[], bool], verifier: TokenVerifier
) -> Server[Any]:
    """The MCP server; ``gateway`` returns the running gateway once ``started`` says it is there."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return gateway().catalog.listing(_agent_of(ctx))

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        agent = _agent_of(ctx)
        meta = dict(params.meta or {})
        try:
            caller = await a2a_caller(verifier, agent, meta)
        except Unauthenticated as exc:
            await gateway().record_refused(agent, params.name, f"refused before decision: {exc.message}")
            return _refusal(exc.message)
        if params.name == READ_BATCH_TOOL:

            async def refuse(tool: str, reason: str) -> types.CallToolResult:
                await gateway().record_refused(agent, tool, reason)
                return _refusal(reason)

            async def one(tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
                return await governed(agent, tool, arguments, meta, caller)

            return await read_batch(params.arguments, gateway().catalog, one, refuse)
        return await governed(agent, params.name, params.arguments, meta, caller)

    async def governed(
        agent: str, name: str, arguments: dict[str, Any] | None, meta: dict[str, Any], caller: str | None
    ) -> types.CallToolResult:
        try:
            return await gateway().call_tool(agent, name, arguments, meta, caller=caller)
        except Exception:
            # Fail closed: whatever broke (audit store, policy facts), nothing unrecorded goes upstream.
            logger.exception("the gateway could not decide %s for %s", name, agent)
            return types.CallToolResult(
                content=[
                    types.TextContent(
                        type="text",
                        # Not a refusal: nothing judged the call. Said as unavailable, so the agent
                        # tells the customer a system is not answering, not that it may not help.
                        text="unavailable: the governance gateway could not decide or record this call, "
                        "so it was not made; try again shortly or hand the customer to a human",
                    )
                ],
                is_error=True,
                _meta={REFUSAL_META_KEY: {"kind": "unavailable", "status": 503, "reason": "not decided or recorded"}},
            )

    def input_schema(name: str) -> Any:
        if name == READ_BATCH_TOOL:
            return READ_BATCH_SCHEMA
        return gateway().catalog.input_schema(name) if started() else None

    server: Server[Any] = Server(
        "switchboard-gateway",
        version="0.1.0",
        instructions="Every enterprise action, governed: tools are <system>.<tool>; send the context "
        "envelope in _meta['switchboard/envelope'] with every call.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        get_tool_input_schema=input_schema,
    )
    while_tracing(server.middleware)
    return server


def mcp_routes(server: Server[Any], allowed_hosts: list[str] | None) -> list[BaseRoute]:
    """The streamable HTTP routes of ``server`` at ``MCP_PATH`` (stateless, JSON answers)."""
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=_transport_security(allowed_hosts),
    )
    return list(app.routes)


def _agent_of(ctx: ServerRequestContext[Any, Any]) -> str:
    request = ctx.request
    agent = request.scope.get(AGENT_SCOPE_KEY) if isinstance(request, Request) else None
    if not isinstance(agent, str) or not agent:
        # The middleware authenticates every request to this app; reaching here without an
        # agent means the app was mounted without it.
        raise ConfigurationError("the gateway's MCP endpoint was reached without agent authentication")
    return agent


def _refusal(why: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=f"{DENIED_PREFIX} {why}")], is_error=True)


def _transport_security(allowed_hosts: list[str] | None) -> TransportSecuritySettings | None:
    if allowed_hosts is None:
        return None  # the SDK's loopback-only defaults
    origins = [f"{scheme}://{host}" for host in allowed_hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=origins
    )
