"""The governance gateway as an ASGI app: an MCP server in front of every enterprise system.

Start-up (lifespan) opens the audit log, loads and validates the policies and connects to
every upstream; an upstream that is down does not stop start-up. ``GET /healthz`` reports
each upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orchestrator.governance.agent_auth import AGENT_SCOPE_KEY, MAX_BODY_BYTES, AgentAuthMiddleware
from orchestrator.governance.audit_store import AuditStore
from orchestrator.governance.catalog import Catalog
from orchestrator.governance.gateway import Gateway
from orchestrator.governance.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from orchestrator.governance.upstream import UpstreamLink
from shared.authcontext import AuthContextVerifier
from shared.errors import ConfigurationError
from shared.settings import MCP_PATH


def _agent_of(ctx: ServerRequestContext[Any, Any]) -> str:
    request = ctx.request
    agent = request.scope.get(AGENT_SCOPE_KEY) if isinstance(request, Request) else None
    if not agent:
        # The middleware authenticates every request to this app; reaching here without an
        # agent means the app was mounted without it.
        raise ConfigurationError("the gateway's MCP endpoint was reached without agent authentication")
    return agent


def _transport_security(allowed_hosts: list[str] | None) -> TransportSecuritySettings | None:
    if allowed_hosts is None:
        return None  # the SDK's loopback-only defaults
    origins = [f"{scheme}://{host}" for host in allowed_hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=origins
    )


def build_gateway_app(
    *,
    upstreams: dict[str, str],
    gateway_token: str,
    agent_tokens: dict[str, str],
    identity_public_pem: str,
    audit_db: Path,
    policy_dir: Path = DEFAULT_POLICY_DIR,
    mcp_timeout_seconds: float = 10.0,
    allowed_hosts: list[str] | None = None,
) -> Starlette:
    """The gateway app; the MCP endpoint is ``/mcp``.

    ``upstreams`` maps system name to upstream MCP URL. ``allowed_hosts`` are Host header
    values to accept (``"gateway:8710"``, ``"10.0.0.5:*"``); None keeps the SDK's loopback-only default.
    """
    if not agent_tokens:
        raise ConfigurationError("the gateway needs at least one agent token", hint="check the secrets file")
    verifier = AuthContextVerifier(identity_public_pem.encode())
    state: dict[str, Gateway] = {}

    def gateway() -> Gateway:
        return state["gateway"]

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return gateway().catalog.listing(_agent_of(ctx))

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await gateway().call_tool(_agent_of(ctx), params.name, params.arguments, dict(params.meta or {}))

    def input_schema(name: str) -> Any:
        return gateway().catalog.input_schema(name) if "gateway" in state else None

    server: Server[Any] = Server(
        "switchboard-gateway",
        version="0.1.0",
        instructions="Every enterprise action, governed: tools are <system>.<tool>; send the context "
        "envelope in _meta['switchboard/envelope'] with every call.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        get_tool_input_schema=input_schema,
    )
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=_transport_security(allowed_hosts),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        policy = CedarPolicyEngine.load(policy_dir)
        policy.check_context_shape()
        catalog = Catalog(agent_tokens, policy)
        links = {
            system: UpstreamLink(
                system, url, token=gateway_token, timeout_seconds=mcp_timeout_seconds, on_tools=catalog.set_system
            )
            for system, url in upstreams.items()
        }
        store = await AuditStore.open(audit_db)
        try:
            async with asyncio.TaskGroup() as tasks:
                for link in links.values():
                    tasks.create_task(link.run(), name=f"upstream:{link.system}")
                # Down upstreams only log here; calls to them retry the connection.
                await asyncio.gather(*(link.connect() for link in links.values()), return_exceptions=True)
                state["gateway"] = Gateway(catalog=catalog, policy=policy, verifier=verifier, store=store, links=links)
                try:
                    async with server.session_manager.run():
                        yield
                finally:
                    for link in links.values():
                        link.close()
        finally:
            state.pop("gateway", None)
            await store.close()

    async def healthz(request: Request) -> JSONResponse:
        if "gateway" not in state:
            return JSONResponse({"status": "starting"}, status_code=503)
        links = state["gateway"].links
        report = {system: link.health() for system, link in links.items()}
        status = "ok" if all(link.up for link in links.values()) else "degraded"
        return JSONResponse({"status": status, "upstreams": report})

    async def audit_unauthenticated(name: str, arguments: Any, meta: Any) -> None:
        if "gateway" in state:
            await state["gateway"].record_unauthenticated(name, arguments, meta)

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *mcp_app.routes],
        middleware=[
            Middleware(AgentAuthMiddleware, agent_tokens=agent_tokens, on_unauthenticated_call=audit_unauthenticated)
        ],
        lifespan=lifespan,
    )
