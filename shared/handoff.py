"""The A2A contract between the supervisor and a specialist.

Specialists are stateless between turns: the supervisor sends the skill's working state with
each turn and stores what comes back in its durable conversation record. A specialist replica
can therefore die or be replaced mid-conversation without losing anything.

On the wire (A2A ``SendMessage``):
- request ``Message.metadata``: ``switchboard/envelope`` (ContextEnvelope JSON) and
  ``switchboard/handoff`` (HandoffRequest JSON); the customer's words are the text part.
- reply: a ``Message`` whose text part is what the customer reads and whose metadata holds
  ``switchboard/result`` (SpecialistResult JSON).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.envelope import CustomerRef

HANDOFF_META_KEY = "switchboard/handoff"
RESULT_META_KEY = "switchboard/result"

REQUIRES_VERIFIED_IDENTITY_TAG = "requires:verified-identity"
"""AgentCard skill tag: the supervisor verifies the customer before handing this skill off."""

VERIFIES_IDENTITY_TAG = "provides:verified-identity"
"""AgentCard skill tag: this skill verifies customers and returns a signed auth context."""

HUMAN_REQUEST_TAG = "routing:human-request"
"""AgentCard skill tag: where an explicit request for a human always goes."""


class HandoffRequest(BaseModel):
    skill: str = Field(description="skill id from the specialist's AgentCard")
    reason: str = ""
    skill_state: dict[str, Any] = Field(default_factory=dict)
    confidence: float | None = None
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
    reason: str = ""


class SpecialistResult(BaseModel):
    """A specialist's answer to one turn."""

    status: Literal["input-required", "completed", "failed"]
    skill: str
    skill_state: dict[str, Any] = Field(default_factory=dict)
    summary: str = Field(default="", description="one line on where the goal stands")
    auth_context: str | None = Field(default=None, description="set by the identity agent")
    customer: CustomerRef | None = Field(default=None, description="set by the identity agent")
    tool_calls: list[ToolCallSummary] = Field(default_factory=list)
    handoff_to: HandoffTarget | None = Field(
        default=None, description="the specialist asks the supervisor to pass the customer on"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="skill-specific facts, e.g. ticket id")
