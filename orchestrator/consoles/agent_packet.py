"""The escalation queue and the hydrated packet, put together for one signed-in person.

The orchestrator contributes what it owns (identity claims, transcript, handoffs, the hand-off
notes with the profile the escalation specialist read through the gateway); the gateway's
staff API contributes the audit trail and the pending approvals, read with the person's own
token. A gateway that does not answer leaves a warning in the packet, never an empty screen.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from orchestrator.cases.case_summary import build_case_summary
from orchestrator.cases.holding import HUMAN_JOINED, HUMAN_LEFT
from orchestrator.cases.queue import escalated_at, waiting_seconds
from orchestrator.consoles.auth import StaffGateway, StaffSession
from orchestrator.conversations import ConversationState, TranscriptEntry, collapse_repeats
from orchestrator.supervisor import Supervisor
from shared.authcontext import peek_claims
from shared.errors import NotFound, SwitchboardError
from shared.escalation import (
    EscalationPacket,
    PendingApproval,
    TimelineEvent,
    TranscriptLine,
    VerifiedIdentity,
)

AUDIT_LIMIT = 500
_HUMAN_MARKS = {HUMAN_JOINED: "took the conversation over", HUMAN_LEFT: "handed the conversation back"}
_PASSED = ("transferred", "reassigned")
_CASE_TITLES = {
    "take-over": "took the conversation over",
    "answered": "first answered the customer",
    "handed-back": "handed the conversation back",
    "lapsed": "lease lapsed: back in the queue",
    "released": "released the case to the queue",
    "transferred": "transferred the case",
    "reassigned": "reassigned the case",
}


async def load_case(supervisor: Supervisor, conversation_id: str) -> ConversationState:
    """An escalated (or once escalated) conversation; other conversations are not the console's."""
    state = await supervisor.store.load(conversation_id)
    if state.status != "escalated" and state.escalation is None:
        raise NotFound(f"no escalated conversation {conversation_id!r}", hint="pick a case from the queue")
    return state


async def pending_approvals(
    gateway: StaffGateway, session: StaffSession, conversation_id: str | None = None
) -> list[PendingApproval]:
    response = await gateway.call(session, "GET", "/governance/approvals", params={"status": "pending"})
    found = [PendingApproval.model_validate(a) for a in response.json().get("approvals", [])]
    return [a for a in found if conversation_id is None or a.conversation_id == conversation_id]


async def audit_trail(gateway: StaffGateway, session: StaffSession, conversation_id: str) -> list[dict[str, Any]]:
    """The gateway's decisions in this conversation (each joined with its outcome), as this person."""
    response = await gateway.call(
        session, "GET", "/governance/audit/traces", params={"conversation": conversation_id, "limit": AUDIT_LIMIT}
    )
    return list(response.json().get("traces", []))


async def packet(
    supervisor: Supervisor,
    gateway: StaffGateway,
    session: StaffSession,
    conversation_id: str,
) -> EscalationPacket:
    now = time.time()
    state = await load_case(supervisor, conversation_id)
    transcript = await supervisor.store.transcript(conversation_id)
    warnings: list[str] = []
    approvals: list[PendingApproval] = []
    audit: list[dict[str, Any]] | None = None
    try:
        approvals = await pending_approvals(gateway, session, conversation_id)
    except SwitchboardError as exc:
        warnings.append(f"pending approvals could not be loaded: {exc.message}")
    try:
        # Every console role may read this one conversation's decisions (the gateway's audit API).
        audit = await audit_trail(gateway, session, conversation_id)
    except SwitchboardError as exc:
        warnings.append(
            f"the gateway's audit trail could not be loaded ({exc.message}); "
            "tool calls are shown as the specialists reported them"
        )
    notes = state.escalation
    next_step = notes.suggested_next_step if notes else "Read the conversation, then ask the customer what they need."
    if approvals:
        first = approvals[0]
        next_step = (
            f"Decide the pending approval first: {first.tool} requested by {first.agent} ({first.reason}). "
            "Check the exact arguments, approve or reject, then tell the customer."
        )
    return EscalationPacket(
        conversation_id=state.conversation_id,
        status=state.status,
        channel=state.channel,
        priority=notes.priority if notes else "normal",
        reason=notes.reason if notes else "the customer asked for a person",
        escalated_at=escalated_at(state),
        waiting_seconds=waiting_seconds(state, now),
        handoff_id=notes.handoff_id if notes else None,
        human=state.human,
        identity=identity_of(state, now),
        profile=notes.profile if notes else None,
        transcript=[line(e) for e in transcript],
        timeline=timeline(state, transcript, audit),
        pending_approvals=approvals,
        ai_summary=(notes.summary if notes else "") or state.summary or "No summary was recorded.",
        suggested_next_step=next_step,
        case_summary=build_case_summary(state, transcript, approvals, next_step, now),
        conversation_steps=collapse_repeats(state.summaries, anywhere=False),
        notices=state.notices,
        case_log=state.case_log,
        warnings=warnings,
    )


def identity_of(state: ConversationState, now: float) -> VerifiedIdentity:
    claims = peek_claims(state.auth_context) if state.auth_context else None
    if claims is None:
        return VerifiedIdentity(verified=False)
    return VerifiedIdentity(
        verified=state.verified(now),
        customer_id=claims.sub,
        name=state.customer.display_name if state.customer else None,
        method=claims.method,
        assurance=claims.assurance,
        issuer=claims.iss,
        verified_at=float(claims.iat),
        expires_at=float(claims.exp),
    )


def line(entry: TranscriptEntry) -> TranscriptLine:
    return TranscriptLine.model_validate(
        entry.model_dump(include={"seq", "at", "role", "text", "channel", "agent", "skill"})
    )


def timeline(
    state: ConversationState, transcript: list[TranscriptEntry], audit: list[dict[str, Any]] | None
) -> list[TimelineEvent]:
    """Handoffs, the escalation, human actions and the governed calls, oldest first.

    The calls come from the gateway's audit when it could be read (decisions, policies,
    approvers, outcomes); otherwise from what the specialists reported (``audit`` is None).
    """
    events = [
        TimelineEvent(
            at=h.at,
            kind="handoff",
            actor="supervisor",
            title=f"handed to {h.to_agent} · {h.skill}",
            detail=h.reason + (f" (routed by {h.brain})" if h.brain else ""),
            outcome=h.status or None,
            trace_id=h.trace_id,
        )
        for h in state.handoffs
    ]
    since = escalated_at(state)
    if since is not None:
        notes = state.escalation
        events.append(
            TimelineEvent(
                at=since,
                kind="escalation",
                actor="escalation",
                title="queued for a person" + (f" ({notes.priority} priority)" if notes else ""),
                detail=notes.reason if notes else "",
                outcome=notes.handoff_id if notes else None,
            )
        )
    if state.case_log:
        events.extend(
            TimelineEvent(
                at=e.at,
                kind="human",
                actor=e.actor,
                title=_CASE_TITLES[e.action] + (f" to {e.holder}" if e.action in _PASSED else ""),
                detail=e.note,
            )
            for e in state.case_log
        )
    else:  # cases from before the case log was kept: the transcript's marks, without names
        for entry in transcript:
            if entry.role == "system" and entry.skill in _HUMAN_MARKS:
                events.append(
                    TimelineEvent(at=entry.at, kind="human", actor="human agent", title=_HUMAN_MARKS[entry.skill])
                )
    if audit is not None:
        events.extend(_audit_event(record) for record in audit)
    else:
        events.extend(
            TimelineEvent(
                at=call.at,
                kind="tool-call",
                actor=call.agent,
                title=call.tool,
                detail=call.detail,
                decision=call.decision,
                outcome="ok" if call.ok else "error",
                trace_id=call.trace_id,
            )
            for call in state.tool_calls
        )
    events.sort(key=lambda e: (e.at, e.audit_seq or 0))
    return events


def _audit_event(record: dict[str, Any]) -> TimelineEvent:
    agent = str(record.get("agent", ""))
    tool = str(record.get("tool", ""))
    outcome = record.get("outcome")
    title = f"{tool} → {outcome}" if outcome else tool
    return TimelineEvent(
        at=_epoch(record.get("time")),
        kind="governance" if agent.startswith("staff:") else "tool-call",
        actor=agent,
        title=title,
        detail=str(record.get("reason") or ""),
        decision=record.get("decision"),
        policy_ids=[str(p) for p in record.get("policy_ids") or []],
        approver=record.get("approver"),
        outcome=outcome,
        trace_id=record.get("trace_id"),
        audit_seq=record.get("seq"),
    )


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return 0.0
