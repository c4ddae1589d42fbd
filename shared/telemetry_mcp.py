"""The MCP SDK's server spans, paid for only while tracing is on.

Every MCP server the SDK builds starts with its OpenTelemetry middleware: a SERVER span per
message, with the caller's trace context read from ``_meta``. While tracing is off that span
is a no-op, but building it (attributes, context extraction, a context manager) still cost
about 5% of the CPU of the process that serves the gateway and the systems. ``while_tracing``
wraps that middleware so it runs only while ``shared.telemetry`` records: the spans are the
same when tracing is on, and a message costs one flag test when it is off.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

from shared import telemetry


class WhileTracing:
    """Runs ``inner`` while tracing is on; otherwise passes the message straight on."""

    def __init__(self, inner: ServerMiddleware[Any]) -> None:
        self.inner = inner

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if telemetry.enabled():
            return await self.inner(ctx, call_next)
        return await call_next(ctx)


def while_tracing(middleware: list[ServerMiddleware[Any]]) -> None:
    """Gate the SDK's built-in tracing middleware of a freshly built server on ``telemetry.enabled``.

    ``middleware`` is the server's own list (``Server.middleware``, ``MCPServer.middleware``); a
    new server's first entry is the SDK's OpenTelemetry middleware (the SDK documents dropping it
    from the list as the way to opt out). Calling it twice wraps it once.
    """
    if middleware and not isinstance(middleware[0], WhileTracing):
        middleware[0] = WhileTracing(middleware[0])
