"""The MCP SDK's tracing middleware runs only while tracing is on."""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import telemetry
from shared.telemetry_mcp import WhileTracing, while_tracing


class _Recording:
    def __init__(self) -> None:
        self.seen = 0

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        self.seen += 1
        return await call_next(ctx)


async def _handler(ctx: Any) -> str:
    return "handled"


async def test_the_wrapped_middleware_runs_only_while_tracing_is_on() -> None:
    inner = _Recording()
    gate = WhileTracing(inner)
    telemetry.disable()
    assert await gate(None, _handler) == "handled" and inner.seen == 0
    assert telemetry.configure("switchboard-test", exporter=InMemorySpanExporter(), batch=False)
    try:
        assert await gate(None, _handler) == "handled" and inner.seen == 1
    finally:
        telemetry.disable()


def test_a_new_servers_sdk_middleware_is_gated_once() -> None:
    server: Server[Any] = Server("test")
    sdk_first = server.middleware[0]
    while_tracing(server.middleware)
    while_tracing(server.middleware)
    assert isinstance(server.middleware[0], WhileTracing) and server.middleware[0].inner is sdk_first
    assert not isinstance(server.middleware[0].inner, WhileTracing)
