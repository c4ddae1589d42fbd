"""What every system's MCP server shares: tool metadata, argument types, call context, errors.

Backends raise ``shared.errors`` exceptions and know nothing about MCP; ``act`` turns the
actionable ones into tool errors (a plain sentence the calling agent can read and act on).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError

from shared.errors import InvalidRequest, NotFound, SwitchboardError
from shared.tools import CALL_META_KEY, SUBJECT_META_KEY, VERSION_META_KEY, CallContext

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
IDEMPOTENT_WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

# Bounds on every string argument: anything longer is a bug or an attack, never a customer.
Email = Annotated[str, Field(min_length=3, max_length=254, description="the customer's email address")]
Msisdn = Annotated[
    str, Field(min_length=8, max_length=20, description="mobile number in E.164 form, e.g. +447700900123")
]
AccountNumber = Annotated[
    str, Field(min_length=5, max_length=20, description="payments account number, e.g. ACC-1234567")
]
CustomerId = Annotated[str, Field(min_length=5, max_length=20, description="unified customer id, CUST-NNNNN")]
RecordId = Annotated[str, Field(min_length=1, max_length=40)]
ConversationId = Annotated[str, Field(min_length=1, max_length=128)]
IdempotencyKey = Annotated[
    str, Field(min_length=1, max_length=128, description="same key, same result: a repeat never acts twice")
]
Label = Annotated[str, Field(min_length=1, max_length=60)]
Sentence = Annotated[str, Field(min_length=1, max_length=500)]
Summary = Annotated[str, Field(min_length=1, max_length=2000)]


def tool_meta(subject_arg: str | None = None, kind: str | None = None, *, version: int = 1) -> dict[str, Any]:
    """Tool ``_meta``: the contract version and, for customer-scoped tools, the subject argument."""
    meta: dict[str, Any] = {VERSION_META_KEY: version}
    if subject_arg is not None:
        meta[SUBJECT_META_KEY] = {"arg": subject_arg, "kind": kind or subject_arg}
    return meta


def call_context(ctx: Context) -> CallContext | None:
    """The gateway's ``switchboard/call`` request metadata, or None when absent or malformed."""
    meta = ctx.request_context.meta or {}
    raw = meta.get(CALL_META_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return CallContext.model_validate(raw)
    except ValidationError:
        return None


def require_call_context(ctx: Context) -> CallContext:
    """Writes record who asked and under which audit record, so they need the gateway's context."""
    call = call_context(ctx)
    if call is None:
        raise ToolError(
            f"this action needs the governance gateway's call context (_meta {CALL_META_KEY!r}); "
            "call it through the gateway"
        )
    return call


def _sentence(exc: SwitchboardError) -> str:
    return f"{exc.message}; {exc.hint}" if exc.hint else exc.message


async def act[T](operation: Awaitable[T]) -> T:
    """Await a backend operation, turning actionable errors into a tool error the agent can read."""
    try:
        return await operation
    except (InvalidRequest, NotFound) as exc:
        raise ToolError(_sentence(exc)) from exc
