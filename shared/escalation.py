"""The hydrated escalation packet: what a human agent sees when they open an escalated case.

Three producers fill it, each from what it alone may read:
- the escalation specialist gathers the customer's profile at hand-off time, through governed
  MCP calls (``CustomerProfile``), and returns it with its AI summary and suggested next step
  (``HandoffNotes``, in ``SpecialistResult.data["handoff_notes"]``);
- the orchestrator adds the verified identity, the transcript and the handoffs it keeps;
- the governance gateway's staff API, called as the signed-in person, adds the audit trail
  and the pending approvals.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from shared.case_summary import CaseSummary
from shared.errors import SwitchboardError

Priority = Literal["urgent", "high", "normal"]
"""Urgent cases (stolen phone, fraud, vulnerability, repeated failure) come first in the human queue."""
HANDOFF_NOTES_KEY = "handoff_notes"
"""Key of ``HandoffNotes`` in the escalation specialist's ``SpecialistResult.data``."""


class Interaction(BaseModel):
    """An earlier contact with the customer on any channel (from the CRM)."""

    channel: str
    started_at: str
    topic: str
    summary: str
    outcome: str
    conversation_id: str | None = None


class CustomerProfile(BaseModel):
    """The customer across systems, as read through the gateway at hand-off time."""

    customer_id: str
    name: str = ""
    email: str | None = None
    msisdn: str | None = None
    account_number: str | None = None
    segment: str | None = None
    preferred_channel: str | None = None
    city: str | None = None
    address: str | None = Field(default=None, description="postal address on one line, from identity")
    customer_since: str | None = None
    plan_name: str | None = Field(default=None, description="from billing, the plan's system of record")
    plan_source: str | None = Field(default=None, description="the tool the plan was read with")
    crm_plan_name: str | None = Field(
        default=None, description="the CRM's own copy, only when it disagrees with billing (a stale copy)"
    )
    interactions: list[Interaction] = Field(default_factory=list, description="newest first")
    sources: list[str] = Field(default_factory=list, description="the tools the profile was read with")
    missing: list[str] = Field(default_factory=list, description="what could not be read, and why")
    gathered_at: float


def one_line_address(address: object) -> str | None:
    """A postal address as identity reports it (``line1``, ``line2``, ``town``, ``postcode``), on one line."""
    if not isinstance(address, dict) or not all(isinstance(address.get(k), str) for k in ("line1", "town", "postcode")):
        return None
    parts = (address.get("line1"), address.get("line2"), address.get("town"), address.get("postcode"))
    return ", ".join(str(p) for p in parts if p)


class HandoffNotes(BaseModel):
    """What the escalation specialist hands the human: its summary, advice and the profile."""

    summary: str
    suggested_next_step: str
    priority: Priority = "normal"
    reason: str = ""
    handoff_id: str | None = None
    queue_position: int | None = Field(
        default=None, description="the support system's own count at hand-off, not the queue customers are told"
    )
    profile: CustomerProfile | None = None
    urgent_because: list[str] = Field(default_factory=list, description="why the case is urgent, when it is")

    @classmethod
    def from_result(cls, data: dict[str, Any], fallback_summary: str) -> HandoffNotes:
        """The notes in an escalation result; a specialist without them still yields a usable case."""
        notes = data.get(HANDOFF_NOTES_KEY)
        if isinstance(notes, dict):
            with contextlib.suppress(ValidationError):
                return cls.model_validate(notes)
        position = data.get("queue_position")
        return cls(
            summary=fallback_summary or "The customer asked for a person.",
            suggested_next_step="Read the conversation, then ask the customer what they need from us.",
            priority=data["priority"] if data.get("priority") in ("urgent", "high") else "normal",
            handoff_id=data.get("handoff_id") if isinstance(data.get("handoff_id"), str) else None,
            queue_position=position if isinstance(position, int) else None,
        )


class VerifiedIdentity(BaseModel):
    """Who the customer proved to be, and how (from the signed auth context's claims)."""

    verified: bool
    customer_id: str | None = None
    name: str | None = None
    method: str | None = Field(default=None, description="e.g. otp-email, otp-sms")
    assurance: str | None = Field(default=None, description="assurance level, e.g. AAL1")
    issuer: str | None = None
    verified_at: float | None = None
    expires_at: float | None = None


class TranscriptLine(BaseModel):
    seq: int
    at: float
    role: Literal["customer", "agent", "human", "system"]
    text: str
    channel: str
    agent: str | None = None
    skill: str | None = None


TimelineKind = Literal["handoff", "tool-call", "governance", "human", "escalation"]


class TimelineEvent(BaseModel):
    """One thing that happened in the case: a handoff, a governed tool call, a human action."""

    at: float
    kind: TimelineKind
    actor: str
    title: str
    detail: str = ""
    decision: str | None = None
    policy_ids: list[str] = Field(default_factory=list)
    approver: str | None = None
    outcome: str | None = None
    trace_id: str | None = None
    audit_seq: int | None = None


class PendingApproval(BaseModel):
    """A held tool call waiting for a person: exactly what would run and why it was held."""

    id: str
    status: str
    agent: str
    tool: str
    conversation_id: str
    customer_id: str | None = None
    arguments: dict[str, Any]
    policy_ids: list[str]
    reason: str
    created_at: float
    expires_at: float
    view_digest: str = ""
    """The digest of what the person is shown; sent back with the decision and chained with it."""


class HumanControl(BaseModel):
    """A human agent holds the conversation on a lease; the AI stays out until it ends.

    The lease lasts while the person is signed in and active on the case (``last_active``);
    it lapses on sign-out, session expiry or idleness, and the case goes back to the queue.
    """

    name: str
    since: float
    last_active: float | None = Field(default=None, description="the holder's latest action on the case")

    def active_at(self) -> float:
        return self.last_active if self.last_active is not None else self.since


CaseAction = Literal["take-over", "lapsed", "released", "transferred", "reassigned", "handed-back", "answered"]


class CaseEvent(BaseModel):
    """One change of who holds a case, with the person who made it (the case's own audit)."""

    at: float
    action: CaseAction
    actor: str = Field(description="the staff member who acted, or 'system' for a lapsed lease")
    holder: str | None = Field(default=None, description="who holds the case afterwards")
    note: str = ""


class HumanNotice(BaseModel):
    """An AI message held back while a human owns the case: the human reads it and tells the customer."""

    at: float
    agent: str
    text: str
    kind: Literal["draft", "approval-outcome"] = "draft"


QueueState = Literal["waiting", "returned", "taken", "idle"]


class QueuePosition(BaseModel):
    """Where one waiting conversation stands, from the same ordering the console shows."""

    conversation_id: str
    position: int = Field(description="1 is next; counted over cases still waiting for a person")
    waiting: int = Field(description="cases waiting for a person in total")
    estimated_wait_seconds: float
    priority: Priority


class QueueItem(BaseModel):
    conversation_id: str
    customer_name: str | None = None
    verified: bool
    priority: Priority
    reason: str
    channel: str
    escalated_at: float
    waiting_seconds: float
    taken_by: str | None = None
    summary: str = ""
    state: QueueState = "waiting"
    position: int | None = Field(default=None, description="place among cases still waiting (1 is next)")
    approval_pending: bool = False
    note: str = Field(default="", description="why a case came back to the queue, or why it looks idle")


class EscalationQueue(BaseModel):
    """Escalated conversations: those still waiting first (high priority, then the longest waiting,
    the order customers are told their position from), then those a person holds."""

    items: list[QueueItem]
    as_of: float


class EscalationPacket(BaseModel):
    conversation_id: str
    status: str
    channel: str
    priority: Priority
    reason: str
    escalated_at: float | None
    waiting_seconds: float
    handoff_id: str | None = None
    human: HumanControl | None = None
    identity: VerifiedIdentity
    profile: CustomerProfile | None = None
    transcript: list[TranscriptLine]
    timeline: list[TimelineEvent]
    pending_approvals: list[PendingApproval]
    ai_summary: str
    suggested_next_step: str
    case_summary: CaseSummary | None = Field(
        default=None, description="what the customer wanted, identity, actions with references, open items, tone"
    )
    conversation_steps: list[str] = Field(
        default_factory=list, description="every step of the conversation, oldest first (not only the latest)"
    )
    notices: list[HumanNotice] = Field(
        default_factory=list, description="AI messages held back while a person owns the case"
    )
    case_log: list[CaseEvent] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list, description="parts that could not be loaded (e.g. the gateway did not answer)"
    )


class CaseConflict(SwitchboardError):
    """The case is not in a state for this (taken by someone else, not escalated, not taken)."""

    code = "case_conflict"
    http_status = 409
