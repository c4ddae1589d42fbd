"""Calling the governance gateway directly as one agent would (for adversarial checks)."""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope


async def call_as(
    gateway_mcp_url: str, token: str, tool: str, arguments: dict, envelope: ContextEnvelope
) -> CallToolResult:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(gateway_mcp_url, http_client=http)) as client:
        return await client.call_tool(tool, arguments, meta={ENVELOPE_META_KEY: envelope.model_dump_json()})


def text_of(result: CallToolResult) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)
