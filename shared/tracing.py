"""W3C trace context (traceparent) helpers; no tracing SDK on the hot path.

The supervisor starts one trace per customer turn; the context travels in the envelope and,
under the W3C keys below, in A2A message metadata and MCP request ``_meta``. With
OpenTelemetry on (``shared.telemetry``) these ids are the spans' ids.
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
"""Carrier keys (A2A message metadata, MCP ``_meta``, HTTP headers), as W3C names them."""

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class TraceContext(BaseModel):
    """W3C ``traceparent`` plus optional ``tracestate``."""

    traceparent: str
    tracestate: str = ""

    @property
    def trace_id(self) -> str:
        return self.traceparent.split("-")[1]

    @property
    def span_id(self) -> str:
        return self.traceparent.split("-")[2]

    @classmethod
    def new(cls) -> TraceContext:
        return cls(traceparent=f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01")

    def child(self) -> TraceContext:
        """Same trace, a new span id: what the next hop records as its parent."""
        return TraceContext(traceparent=f"00-{self.trace_id}-{os.urandom(8).hex()}-01", tracestate=self.tracestate)

    def carrier(self) -> dict[str, str]:
        """The context under its W3C keys, ready for metadata or headers."""
        if self.tracestate:
            return {TRACEPARENT: self.traceparent, TRACESTATE: self.tracestate}
        return {TRACEPARENT: self.traceparent}

    @classmethod
    def parse(cls, traceparent: str | None, tracestate: str = "") -> TraceContext | None:
        if traceparent and _TRACEPARENT.match(traceparent):
            return cls(traceparent=traceparent, tracestate=tracestate)
        return None
