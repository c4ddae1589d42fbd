"""The structured hand-off summary (``shared.case_summary.CaseSummary``) for one escalated case.

Built when the packet is read, from the conversation's own record: the customer's words at each
hand-off (what they wanted), the signed identity claims (who they proved to be, how), the actions
the specialists reported (with references), what is still open (approvals, a second request, a
goal left half-way, calls that were refused or failed), and the customer's tone. Rules, not a
model: it must be right with no model configured, and it never repeats a line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from orchestrator.conversations import ConversationState, Goal, TranscriptEntry
from shared.authcontext import peek_claims
from shared.case_summary import CaseSummary, IdentityCheck, Sentiment
from shared.escalation import PendingApproval

MAX_WORDS_CHARS = 160
_NOT_A_REQUEST = frozenset({"verify-identity"})
_OPEN_STATUSES = {
    "input-required": "not finished: it was waiting for the customer's answer",
    "auth-required": "not finished: it was waiting for the customer to verify",
    "failed": "could not be finished",
    "rejected": "was not allowed",
}
_CHANNELS = {"sms": "text message", "email": "e-mail", "voice": "phone call"}
_CUES: list[tuple[Sentiment, re.Pattern[str]]] = [
    (
        "distressed",
        re.compile(
            r"\b(stol[ea]n|scared|frightened|worried|panic\w*|desperate|emergency|can'?t cope|passed away|"
            r"help me|vulnerab\w*)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "angry",
        re.compile(
            r"\b(unacceptable|ridiculous|disgrace\w*|furious|angry|outrage\w*|useless|pathetic|worst|"
            r"rubbish|joke|lawyer|ombudsman)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "frustrated",
        re.compile(
            r"\b(again|still|third time|second time|fed up|annoy\w*|frustrat\w*|waste of time|"
            r"never (got|received)|already (told|asked|said)|how many times)\b",
            re.IGNORECASE,
        ),
    ),
]
_SEVERITY: dict[Sentiment, int] = {"calm": 0, "frustrated": 1, "angry": 2, "distressed": 3}


def _words(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_WORDS_CHARS else text[: MAX_WORDS_CHARS - 1] + "…"


def _said_before(transcript: Sequence[TranscriptEntry], at: float) -> str | None:
    """The customer's last message at or before a hand-off: what they asked for, in their words."""
    said = [e.text for e in transcript if e.role == "customer" and e.at <= at + 0.001]
    return said[-1] if said else None


def wanted(state: ConversationState, transcript: Sequence[TranscriptEntry]) -> list[str]:
    """Each request once, in the order the customer made it."""
    seen: set[str] = set()
    out: list[str] = []
    for handoff in state.handoffs:
        if handoff.skill in _NOT_A_REQUEST or handoff.skill in seen:
            continue
        seen.add(handoff.skill)
        said = handoff.said or _said_before(transcript, handoff.at)
        label = handoff.skill.replace("-", " ").capitalize()
        out.append(f"{label}: “{_words(said)}”" if said else label)
    return out


def identity(state: ConversationState, now: float) -> IdentityCheck:
    claims = peek_claims(state.auth_context) if state.auth_context else None
    if claims is None:
        return IdentityCheck(verified=False, how="not verified in this conversation")
    how = _method(claims.method)
    if not state.verified(now):
        how = f"{how} (expired)"
    return IdentityCheck(verified=state.verified(now), level=claims.assurance, how=how)


def _method(method: str) -> str:
    """``otp-sms-step-up`` as "one-time code sent by text message (step-up)"."""
    parts = method.split("-")
    if parts[0] != "otp" or len(parts) < 2:
        return method
    how = f"one-time code sent by {_CHANNELS.get(parts[1], parts[1])}"
    return how + (" (step-up)" if method.endswith("step-up") else "")


def _goal_line(goal: Goal, what: str) -> str:
    said = f" (“{_words(goal.text)}”)" if goal.text else ""
    return f"{goal.skill.replace('-', ' ').capitalize()}{said}: {what}"


def open_items(state: ConversationState, approvals: Sequence[PendingApproval]) -> list[str]:
    items: list[str] = [
        f"Approval {a.id} waiting: {a.tool} requested by {a.agent} ({_words(a.reason)})" for a in approvals
    ]
    if state.parked is not None and state.parked.approval_id not in {a.id for a in approvals}:
        items.append(f"Approval {state.parked.approval_id} waiting: {state.parked.summary or state.parked.skill}")
    if state.queued is not None:
        items.append(_goal_line(state.queued, "asked for in the same message, not started yet"))
    if state.pending is not None:
        items.append(_goal_line(state.pending, "waiting for the customer to verify"))
    latest: dict[str, str] = {}
    for handoff in state.handoffs:
        if handoff.to_agent != "escalation" and handoff.skill not in _NOT_A_REQUEST:
            latest[handoff.skill] = handoff.status
    for skill, status in latest.items():
        if status in _OPEN_STATUSES:
            items.append(f"{skill.replace('-', ' ').capitalize()}: {_OPEN_STATUSES[status]}")
    refused = {a.what for a in state.actions if a.outcome in ("refused", "failed")}
    items.extend(sorted(refused))
    return list(dict.fromkeys(items))  # each once


def sentiment(transcript: Sequence[TranscriptEntry]) -> tuple[Sentiment, list[str]]:
    """The strongest tone in the customer's messages, and the words that show it."""
    found: Sentiment = "calm"
    cues: list[str] = []
    for entry in transcript:
        if entry.role != "customer":
            continue
        text = entry.text
        shouting = sum(1 for w in text.split() if len(w) > 3 and w.isupper()) >= 2 or "!!" in text
        for tone, pattern in _CUES:
            hit = pattern.search(text)
            if hit:
                cues.append(hit.group(0).lower())
                if _SEVERITY[tone] > _SEVERITY[found]:
                    found = tone
        if shouting:
            cues.append("shouting")
            if _SEVERITY[found] < _SEVERITY["angry"]:
                found = "angry"
    return found, list(dict.fromkeys(cues))[:6]


def build_case_summary(
    state: ConversationState,
    transcript: Sequence[TranscriptEntry],
    approvals: Sequence[PendingApproval],
    next_step: str,
    now: float,
) -> CaseSummary:
    tone, cues = sentiment(transcript)
    notes = state.escalation
    return CaseSummary(
        customer_wanted=wanted(state, transcript),
        identity=identity(state, now),
        actions=list(state.actions),
        open_items=open_items(state, approvals),
        sentiment=tone,
        sentiment_cues=cues,
        urgent_because=list(notes.urgent_because) if notes else [],
        suggested_next_step=next_step,
    )
