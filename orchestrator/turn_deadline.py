"""The supervisor's side of the turn deadline, and what happens when a hop runs out of it.

The supervisor starts each turn's clock (``SWITCHBOARD_TURN_DEADLINE_SECONDS``; by default 20 s
with the offline brain and 90 s with a model, see ``shared.deadline``). A specialist is handed a
deadline a little earlier than the turn's, so its own truthful answer ("I've sent you a code, and
then ran out of time") travels back before the supervisor stops waiting for it.
"""

from __future__ import annotations

import time

from orchestrator.cases.holding import new_request
from orchestrator.conversations import ConversationState
from shared.deadline import MIN_WAIT_SECONDS, DeadlinePassed
from shared.escalation import HandoffNotes

HANDOFF_RESERVE_SECONDS = 2.0
"""How much earlier than the turn a specialist must answer: the time its answer takes to come back."""

NOT_STARTED = (
    "I'm sorry, I ran out of time on this message before I could start on it, so nothing has been "
    "changed. Please send it again, or say 'yes' and I'll bring in a human colleague."
)
HUMAN_ASKED = (
    "I've asked a colleague from our team to join this conversation; they will reply here as soon as "
    "they can. You don't need to do anything else."
)


def specialist_deadline(turn_deadline_at: float | None) -> float | None:
    """The deadline a specialist is handed for ``turn_deadline_at``."""
    return None if turn_deadline_at is None else turn_deadline_at - HANDOFF_RESERVE_SECONDS


def wait_for_specialist(specialist_deadline_at: float | None, default: float) -> float:
    """How long to wait for a specialist's answer; raises ``DeadlinePassed`` when it cannot start."""
    if specialist_deadline_at is None:
        return default
    left = specialist_deadline_at - time.time()
    if left < MIN_WAIT_SECONDS:
        raise DeadlinePassed("the turn's deadline passed before the hand-off")
    return left + HANDOFF_RESERVE_SECONDS


def escalate_unconfirmed(state: ConversationState, why: str) -> None:
    """Queue the conversation for a person although the escalation agent did not confirm in time.

    A request for a human is never lost: the case is opened from the conversation's own record, so
    it reaches the staff queue whatever the escalation agent does later (a late hand-off of its own
    carries the same request's idempotency key and changes nothing here).
    """
    new_request(state, time.time())
    summary = state.summary or "The customer asked for a person."
    state.escalation = HandoffNotes.from_result({}, f"{summary} ({why})")
