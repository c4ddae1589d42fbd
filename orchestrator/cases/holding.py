"""Who holds a case: the state changes of a take-over lease, each logged with the person's name.

Pure functions over ``ConversationState``; the caller holds the conversation's turn lock and
saves the state with the transcript entries returned here (the channels show them).
"""

from __future__ import annotations

import time

from orchestrator.conversations import ConversationState, TranscriptEntry
from shared.escalation import CaseAction, CaseEvent, HumanControl

HUMAN_JOINED = "human-joined"
HUMAN_LEFT = "human-left"
HUMAN_AWAY = "human-away"
"""``skill`` of the system transcript entries that mark a takeover, a hand-back and a lapsed or
released lease (channels show a notice)."""


def system_entry(state: ConversationState, text: str, skill: str, now: float) -> TranscriptEntry:
    return TranscriptEntry(at=now, role="system", text=text, channel=state.channel, agent="supervisor", skill=skill)


def log(state: ConversationState, action: CaseAction, actor: str, note: str = "", now: float | None = None) -> None:
    holder = state.human.name if state.human else None
    state.case_log.append(CaseEvent(at=now or time.time(), action=action, actor=actor, holder=holder, note=note))


def take(state: ConversationState, name: str, now: float) -> TranscriptEntry:
    state.human = HumanControl(name=name, since=now, last_active=now)
    state.active = state.offer = state.pending = None
    log(state, "take-over", name, now=now)
    state.summaries.append(f"human {name}: took the conversation over")
    text = "A member of our team has joined the conversation and will reply here."
    return system_entry(state, text, HUMAN_JOINED, now)


def release(state: ConversationState, action: CaseAction, actor: str, note: str, now: float) -> TranscriptEntry:
    """The holder is gone or was taken off the case: back to the queue, waiting time intact."""
    state.human = None
    state.status = "escalated"
    state.answered_at = None  # waiting again: the wait counts from the first request until someone answers
    log(state, action, actor, note, now=now)
    state.summaries.append(f"case back in the queue: {note}")
    text = (
        "Our colleague had to step away, so your case is back in the queue for the next available "
        "member of our team. You keep your place, and nothing you've told us is lost."
    )
    return system_entry(state, text, HUMAN_AWAY, now)


def pass_on(
    state: ConversationState, action: CaseAction, actor: str, to: str, note: str, now: float
) -> TranscriptEntry:
    """A transfer to a colleague, or a supervisor's reassignment: the new holder's lease starts now."""
    previous = state.human.name if state.human else "nobody"
    state.human = HumanControl(name=to, since=now, last_active=now)
    state.status = "escalated"
    log(state, action, actor, note or f"from {previous} to {to}", now=now)
    state.summaries.append(f"human {actor}: {action} the case from {previous} to {to}")
    text = "Another member of our team is taking over your case and will reply here."
    return system_entry(state, text, HUMAN_JOINED, now)


def hand_back(state: ConversationState, name: str, note: str, now: float) -> TranscriptEntry:
    state.human = None
    state.status = "open"
    log(state, "handed-back", name, note, now=now)
    state.summaries.append(f"human {name}: handed the conversation back" + (f" with the note: {note}" if note else ""))
    text = "You're back with our virtual assistant. Ask me anything, or ask for a person again at any time."
    return system_entry(state, text, HUMAN_LEFT, now)


def answered(state: ConversationState, name: str, text: str, now: float) -> None:
    """The holder wrote to the customer: the wait ends at the first answer, the lease is renewed."""
    if state.human is not None:
        state.human.last_active = now
    if state.answered_at is None:
        state.answered_at = now
        log(state, "answered", name, now=now)
    state.summaries.append(f"human {name} told the customer: {text[:200]}")


def new_request(state: ConversationState, now: float) -> None:
    """A new request for a person: a new case, whose wait starts now."""
    state.status = "escalated"
    state.escalated_at = now
    state.answered_at = None
    state.human = None
