"""Conventions shared by the MCP servers, the governance gateway and the agents.

Every tool in the action catalog declares in its MCP ``_meta`` which argument names the
customer (``switchboard/subject``) so the gateway can bind the call to the verified auth
context without knowing the tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_types import Tool
from pydantic import BaseModel, Field

SUBJECT_META_KEY = "switchboard/subject"
"""Tool ``_meta``: ``{"arg": <argument name>, "kind": <CustomerKeys field>}``; absent = not customer-scoped."""

VERSION_META_KEY = "switchboard/version"
"""Tool ``_meta``: the action's contract version (an integer, bumped on breaking change)."""

CALL_META_KEY = "switchboard/call"
"""Request ``_meta`` the gateway adds upstream: the CallContext below."""

PURPOSE_META_KEY = "switchboard/purpose"
"""Tool ``_meta``: the consent purpose a call needs (e.g. ``payments``, ``marketing``)."""

CALLER_META_KEY = "switchboard/caller"
"""Request ``_meta`` of a tool call: the bearer token the agent's A2A caller presented to the agent."""

DEFAULT_PURPOSE = "account-servicing"
"""The purpose of a tool that declares none: servicing the customer's own account."""

CONSENT_MANAGEMENT_PURPOSE = "consent-management"
"""Purpose of the consent tools themselves: reading or changing consent needs no prior consent."""

PURPOSES: tuple[str, ...] = ("account-servicing", "payments", "marketing", "call-recording", "ai-processing")
"""The consent purposes a customer can grant or revoke."""

INTERNAL_META_KEY = "switchboard/internal"
"""Tool ``_meta``: ``true`` for a system's own tool (e.g. a card processor's report) no agent may call.

The gateway never forwards a call to it, and start-up fails when a policy grants one to an agent."""

FACTS_META_KEY = "switchboard/facts"
"""Tool ``_meta``: ``{"tool": <read tool on the same system>, "args": [<argument names>]}``.

Before deciding a call to this tool the gateway calls that read tool with those arguments of the
call and gives policy the facts it answers (see ``RefundFacts``): policy decides on the system of
record, never on what the calling agent says."""

REFUSAL_META_KEY = "switchboard/refusal"
"""Result ``_meta`` of a call the gateway denied or held: ``{"kind": "denied" | "approval" |
"unavailable", ...}`` with the policy ids, approval id and audit id. A refusal is an MCP tool
error (``isError``) whose text says why; it carries no ``structuredContent``, which would have
to match the tool's output schema."""

IDEMPOTENCY_ARG = "idempotency_key"
"""Write tools take this argument; the reference backends honour it (same key, same result)."""


READ_BATCH_TOOL = "gateway.read_batch"
"""The gateway's own tool: several reads in one agent -> gateway round trip (``ReadBatch``)."""
MAX_BATCH = 8


class BatchedCall(BaseModel):
    tool: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict)


class ReadBatch(BaseModel):
    """The arguments of ``gateway.read_batch``: reads a step needs, each governed and audited on its own.

    Its structured result is ``{"results": [<CallToolResult of each call, in order>]}``; a call
    that is not a read is refused in its own slot (a write has its own round trip and key).
    """

    calls: list[BatchedCall] = Field(min_length=1, max_length=MAX_BATCH)


def retry_safe(tool: Tool, arguments: Mapping[str, Any]) -> bool:
    """May a call whose connection dropped be made again? A read may; a write only when the tool
    declares an idempotency key and the call carries one (the system then answers its first result)."""
    if tool.annotations is not None and tool.annotations.read_only_hint:
        return True
    declared = IDEMPOTENCY_ARG in (tool.input_schema.get("properties") or {})
    key = arguments.get(IDEMPOTENCY_ARG)
    return declared and isinstance(key, str) and bool(key)


class ToolSubject(BaseModel):
    arg: str
    kind: str  # customer_id | email | msisdn | account_number | conversation


class FactSource(BaseModel):
    tool: str
    args: list[str]


class RefundFacts(BaseModel):
    """What the payments system of record says about a refund before it is made."""

    charge_id: str
    duplicate: bool
    flagged_error: bool
    refunded_on_charge: float
    refundable_amount: float
    refunded_today: float
    """Everything refunded to this customer today (UTC), on every channel and by every agent."""


class CallContext(BaseModel):
    """What the gateway tells an MCP server about an authorized call."""

    agent: str
    conversation_id: str
    customer_id: str | None = None
    traceparent: str | None = None
    audit_id: str


def catalog_name(system: str, tool: str) -> str:
    """Name of an upstream tool in the gateway's catalog, e.g. ``payments.issue_refund``."""
    return f"{system}.{tool}"


def split_catalog_name(name: str) -> tuple[str, str]:
    system, _, tool = name.partition(".")
    return system, tool
