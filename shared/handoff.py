"""The A2A contract between the supervisor and a specialist.

A handoff starts an A2A task; the specialist keeps the skill's working state on its own side,
keyed by that task, so nothing a caller sends carries authority (which charge, which amount).
The supervisor keeps only the task id and continues a waiting task by sending the customer's next
words with that id.

On the wire (A2A ``SendMessage``, JSON-RPC or HTTP+JSON, streaming or not):
- request ``Message.metadata``: ``switchboard/envelope`` (ContextEnvelope JSON) and
  ``switchboard/handoff`` (HandoffRequest JSON), declared in the AgentCard as the required
  extensions ``ENVELOPE_EXTENSION`` and ``HANDOFF_EXTENSION``; the customer's words are the text part.
- reply: a Task. Its status message (and, once finished, its ``result`` artifact) has the text the
  customer reads and a data part with the SpecialistResult; the status message's metadata holds
  the same result as exact JSON under ``switchboard/result``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.envelope import CustomerRef

HANDOFF_META_KEY = "switchboard/handoff"
RESULT_META_KEY = "switchboard/result"

ENVELOPE_EXTENSION = "https://switchboard.dev/a2a/ext/envelope/v1"
"""AgentCard extension: the context envelope rides in message metadata ``switchboard/envelope``."""
HANDOFF_EXTENSION = "https://switchboard.dev/a2a/ext/handoff/v1"
"""AgentCard extension: the skill and reason ride in message metadata ``switchboard/handoff``."""

REQUIRES_VERIFIED_IDENTITY_TAG = "requires:verified-identity"
"""AgentCard skill tag: the supervisor verifies the customer before handing this skill off."""

VERIFIES_IDENTITY_TAG = "provides:verified-identity"
"""AgentCard skill tag: this skill verifies customers and returns a signed auth context."""

HUMAN_REQUEST_TAG = "routing:human-request"
"""AgentCard skill tag: where an explicit request for a human always goes."""

NEWCOMERS_TAG = "serves:newcomers"


def approval_decided(status: str) -> str:
    """The words that resume a task waiting for a held call: "approval executed", "approval rejected"...

    Words, not authority: a task that hears "executed" asks the gateway again for what was done.
    """
    return f"approval {status}"


"""AgentCard skill tag: this skill answers people who are not customers yet, so it reads no
customer's data and the supervisor hands it off without verifying anyone."""


class HandoffRequest(BaseModel):
    skill: str = Field(description="skill id from the specialist's AgentCard")
    reason: str = ""
    confidence: float | None = None
    priority: Literal["normal", "high", "urgent"] | None = Field(
        default=None, description="set when the specialist that asked for this hand-over said how urgent it is"
    )
    request_id: str = Field(
        default="",
        description="identifies this one request (the supervisor's turn and hand-off counter); part of every "
        "idempotency key, so a repeated delivery acts once and a new request acts anew",
    )


class ToolCallSummary(BaseModel):
    """What one governed tool call did, for the transcript and the human agent."""

    tool: str
    decision: str
    ok: bool
    detail: str = ""
    audit_id: str | None = None


class HandoffTarget(BaseModel):
    agent: str
    skill: str | None = None
    reason: str = Field(default="", description="why, in the specialist's words; the next agent receives it")
    priority: Literal["normal", "high", "urgent"] = "normal"


Status = Literal["input-required", "auth-required", "completed", "failed", "rejected"]
"""Where a specialist's turn left the goal (the A2A task state it reports)."""


class SpecialistResult(BaseModel):
    """A specialist's answer to one turn."""

    status: Status
    skill: str
    summary: str = Field(default="", description="one line on where the goal stands")
    auth_context: str | None = Field(default=None, description="set by the identity agent")
    customer: CustomerRef | None = Field(default=None, description="set by the identity agent")
    tool_calls: list[ToolCallSummary] = Field(default_factory=list)
    handoff_to: HandoffTarget | None = Field(
        default=None, description="the specialist asks the supervisor to pass the customer on"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="skill-specific facts, e.g. ticket id")
    messages: dict[str, str] = Field(
        default_factory=dict,
        description="the skill's own words for outcomes the supervisor announces later (an approval decided "
        "after the task ended): waiting, approved, rejected, expired, failed; see shared.skill_messages",
    )
