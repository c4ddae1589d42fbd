"""``gateway.read_batch``: the reads a step needs, in one agent -> gateway round trip.

A specialist step often needs several independent reads (the line, the plan, the history, the
tickets). Each is still its own governed call here: decided by policy, audited with its own
record and forwarded to its system, concurrently. Only reads may be batched: a call to a tool
that is not read-only is refused in its slot, because a write carries its own idempotency key
and deserves its own round trip and its own outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import mcp_types as types
from pydantic import ValidationError

from shared.tools import READ_BATCH_TOOL, ReadBatch

if TYPE_CHECKING:
    from gateway.catalog import Catalog

BATCH_TOOL = types.Tool(
    name=READ_BATCH_TOOL,
    description="Make several of your read-only tool calls in one request; each is governed and audited "
    "on its own, and the results come back in order. Writes cannot be batched.",
    input_schema=ReadBatch.model_json_schema(),
    annotations=types.ToolAnnotations(read_only_hint=True),
)
"""Listed to every agent that may call any tool (an MCP client looks a tool up before calling it)."""

OneCall = Callable[[str, dict[str, Any]], Awaitable[types.CallToolResult]]
Refuse = Callable[[str, str], Awaitable[types.CallToolResult]]


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


async def read_batch(
    arguments: dict[str, Any] | None, catalog: Catalog, call: OneCall, refuse: Refuse
) -> types.CallToolResult:
    """Run each read through ``call`` (the whole governed path) at once; results in request order."""
    try:
        batch = ReadBatch.model_validate(arguments or {})
    except ValidationError as exc:
        return _error(f"{READ_BATCH_TOOL}: {exc.errors()[0]['msg']} (send calls: [{{tool, arguments}}], 1 to 8)")

    async def one(tool: str, args: dict[str, Any]) -> types.CallToolResult:
        known = catalog.tools.get(tool)
        if known is not None and not known.facts.read_only:
            return await refuse(tool, f"{tool} is not a read: only reads can be batched; call it on its own")
        return await call(tool, args)

    results = await asyncio.gather(*(one(c.tool, c.arguments) for c in batch.calls))
    dumped = [r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in results]
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"{len(dumped)} results")],
        structured_content={"results": dumped},
    )
