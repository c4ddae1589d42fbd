"""Helpers for the MCP server tests: real servers on loopback, clients, call shortcuts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette

from shared.service_auth import audiences
from shared.settings import SYSTEMS
from tests.service_tokens import TokenAuthority

AUTHORITY = TokenAuthority.temporary()
GATEWAY_TOKEN = AUTHORITY.mint([audiences.system(s) for s in SYSTEMS], sub=audiences.GATEWAY)
"""What the gateway presents: a token issued to it (one for every system, for brevity)."""
CUSTOMERS = 40


def call_meta(agent: str = "payment", audit_id: str = "audit-1", conversation_id: str = "conv-1") -> dict:
    """The request ``_meta`` the governance gateway adds to every upstream call."""
    return {"switchboard/call": {"agent": agent, "conversation_id": conversation_id, "audit_id": audit_id}}


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Run ``app`` with uvicorn on a pre-bound loopback socket; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the server stopped during start-up")
                await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


@contextlib.asynccontextmanager
async def mcp_client(base_url: str, token: str = GATEWAY_TOKEN) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as client,
    ):
        yield client


async def ok(client: Client, tool: str, args: dict[str, Any], meta: dict | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; returns its structured output."""
    result = await client.call_tool(tool, args, meta=meta)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def fails(client: Client, tool: str, args: dict[str, Any], meta: dict | None = None) -> str:
    """Call a tool that must fail with a tool error; returns the error text."""
    result = await client.call_tool(tool, args, meta=meta)
    assert result.is_error, result.structured_content
    return " ".join(getattr(c, "text", "") for c in result.content)
