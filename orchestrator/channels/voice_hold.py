"""A caller waiting for a person: place in the queue, hold loop, the person's words, hang-ups.

While the conversation is escalated (queued, or taken over by a person) silence is the caller
waiting, never a reason to hang up. The line listens (``<Gather>``) for ``voice_hold_poll_seconds``
at a time, with music or silence, then looks again (``<Redirect>`` to ``/voice/twilio/hold``):
what a person wrote since the caller last heard is read out at the next look, and so are
"a colleague has joined" and "you're back with the assistant". Every few looks the caller
hears their place and an estimated wait.

What the phone reads from the queue and writes to a conversation is kept here, in
``queue_place``, ``caller_left`` and ``welcome_back``, so the queue's own rules stay the queue's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from orchestrator.conversations import ConversationConflict, ConversationState, TranscriptEntry
from orchestrator.supervisor import HUMAN_JOINED, HUMAN_LEFT, Supervisor

CALLER_LEFT = "caller-left"
"""``skill`` of the system transcript entry written when a caller hangs up."""

_ANNOUNCE = {
    HUMAN_JOINED: "A member of our team has joined the call. Go ahead, they're listening.",
    HUMAN_LEFT: "You're back with our virtual assistant. How else can I help?",
}


@dataclass(frozen=True)
class Place:
    position: int
    """1 = the next caller a person takes."""
    wait_minutes: int


@dataclass(frozen=True)
class News:
    """What the caller has not heard yet, and where the conversation stands."""

    lines: list[str]
    last_seq: int
    with_person: bool
    waiting: bool


async def queue_place(supervisor: Supervisor, conversation_id: str) -> Place | None:
    """Where the conversation is in the escalation queue (None: not waiting there).

    The same answer the web chat gives and the console's order (``CaseDesk.position``).
    """
    if supervisor.cases is None:
        return None
    where = await supervisor.cases.position(await supervisor.store.load(conversation_id))
    if where is None:
        return None
    return Place(position=where.position, wait_minutes=max(1, round(where.estimated_wait_seconds / 60)))


def place_words(place: Place | None) -> str:
    if place is None:
        return "A member of our team will be with you shortly."
    where = "You're next in the queue." if place.position == 1 else f"You're number {place.position} in the queue."
    minutes = "minute" if place.wait_minutes == 1 else "minutes"
    return f"{where} The estimated wait is about {place.wait_minutes} {minutes}. Please stay on the line."


async def news(supervisor: Supervisor, conversation_id: str, heard_seq: int) -> News:
    """A person's replies and joins / hand-backs after ``heard_seq``, in the order they were written."""
    state = await supervisor.store.load(conversation_id)
    lines: list[str] = []
    last = heard_seq
    for entry in await supervisor.store.transcript(conversation_id):
        if entry.seq <= heard_seq:
            continue
        if entry.role == "human":
            lines.append(entry.text)
        elif entry.role == "system" and entry.skill in _ANNOUNCE:
            lines.append(_ANNOUNCE[entry.skill])
        else:
            continue
        last = entry.seq
    return News(lines, last, with_person=state.human is not None, waiting=is_waiting(state))


def is_waiting(state: ConversationState) -> bool:
    """Queued for a person, or with one: the caller's silence is waiting, not absence."""
    return state.status == "escalated" or state.human is not None


async def caller_left(supervisor: Supervisor, conversation_id: str) -> bool:
    """The caller hung up: a queued case leaves the queue (closed), and the transcript says so.

    A case a person already took stays theirs to hand back; it only gets the note. Returns
    whether anything was written. The supervisor's lock is its own: a turn saved in between
    makes the write conflict, and it is tried once more on the fresh state.
    """
    for _ in range(2):
        state = await supervisor.store.load(conversation_id)
        if not is_waiting(state):
            return False
        queued = state.human is None
        text = (
            "The caller hung up while waiting for a member of our team."
            if queued
            else "The caller hung up. Hand the conversation back when you're done."
        )
        if queued:
            state.status = "closed"
            state.summaries.append("caller hung up while queued for a person")
        entry = TranscriptEntry(
            at=time.time(), role="system", text=text, channel="voice", agent="supervisor", skill=CALLER_LEFT
        )
        try:
            await supervisor.store.save_turn(state, [entry])
        except ConversationConflict:
            continue
        return True
    return False


async def welcome_back(supervisor: Supervisor, conversation_id: str) -> str:
    """A call back from the same number carries on its conversation; what to say first.

    Caller ID proves nothing, so a verified identity is set aside: the next step that needs it
    asks again (a one-time code to the contact on record), whether or not it had expired.
    """
    for _ in range(2):
        state = await supervisor.store.load(conversation_id)
        if state.auth_context is None:
            break
        state.auth_context = state.auth_method = None
        state.auth_expires_at = None
        state.summaries.append("called back from the same number: identity to be confirmed again")
        entry = TranscriptEntry(
            at=time.time(),
            role="system",
            text="The customer called back from the same number; their identity will be confirmed again.",
            channel="voice",
            agent="supervisor",
            skill="caller-returned",
        )
        try:
            await supervisor.store.save_turn(state, [entry])
        except ConversationConflict:
            continue
        break
    transcript = await supervisor.store.transcript(conversation_id)
    left_queue = any(e.skill == CALLER_LEFT and "waiting" in e.text for e in transcript[-3:])
    if left_queue:
        return (
            "Welcome back. You were waiting to speak to a member of our team. Say: a person, to join the "
            "queue again, or tell me how I can help."
        )
    return "Welcome back, I have our earlier conversation. How can I help?"
