"""One tool call while the gateway decides it, and the verdict it reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_types import CallToolResult
from pydantic import ValidationError

from gateway.catalog import CatalogTool
from gateway.redact import redact
from shared.audit import AuditRecord, digest
from shared.envelope import ENVELOPE_META_KEY, AuthClaims, ContextEnvelope
from shared.errors import first_problem

APPROVAL_META_KEY = "switchboard/approval_id"
"""Request ``_meta``: an approval id an agent presents with a call (always checked, never trusted)."""

UNKNOWN_AGENT = "unknown"
MAX_NAME = 200
"""Longest tool name an audit record keeps: a caller cannot fill the log with one name."""


@dataclass(slots=True)
class Verdict:
    """The outcome of ``authorize``; ``result`` is set when the call must not be forwarded."""

    allowed: bool
    record: AuditRecord
    tool: CatalogTool | None = None
    upstream_meta: dict[str, Any] = field(default_factory=dict)
    result: CallToolResult | None = None
    deadline_at: float | None = None
    """The customer's turn deadline (Unix time); never set for a call a human approved later."""


@dataclass(slots=True)
class Call:
    """What is known about one call while it is being decided."""

    agent: str
    name: str
    arguments: dict[str, Any]
    envelope: ContextEnvelope | None = None
    claims: AuthClaims | None = None
    caller: str | None = None
    """The authenticated A2A caller the agent acts for (verified by the app from its token)."""

    def audit_fields(self) -> dict[str, Any]:
        env = self.envelope
        return {
            "agent": self.agent,
            "caller": self.caller,
            "tool": self.name[:MAX_NAME],
            "conversation_id": env.conversation_id if env else None,
            "trace_id": env.trace.trace_id if env else None,
            "customer_id": self.claims.sub if self.claims else None,
            "arguments": redact(self.arguments),
            "arguments_digest": digest(self.arguments),
        }


def parse_envelope(meta: dict[str, Any] | None) -> ContextEnvelope:
    """The envelope from request ``_meta``; raises ValueError with what to fix."""
    raw = (meta or {}).get(ENVELOPE_META_KEY)
    if raw is None:
        raise ValueError(f"the call carries no context envelope; send it as _meta[{ENVELOPE_META_KEY!r}]")
    if not isinstance(raw, str):
        raise ValueError(f"_meta[{ENVELOPE_META_KEY!r}] must be the context envelope as a JSON string")
    try:
        return ContextEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ValueError(f"the context envelope is malformed ({first_problem(exc, 'envelope')})") from None
