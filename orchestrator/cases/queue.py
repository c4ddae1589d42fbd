"""The escalation queue: one ordering for the console and for what customers are told.

Cases still waiting for a person come first: urgent ones (stolen phone, fraud, vulnerability,
repeated failure; ``orchestrator.cases.urgency``), then high priority, then normal, and within
each the longest waiting; a customer's position is their place in exactly that list, so it moves as cases
are picked up and never disagrees with the console. Waiting time runs from the customer's
request until a person first answers; a case whose holder left keeps its full waiting time.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.cases.urgency import rank
from orchestrator.conversations import ConversationState, ConversationStore
from shared.escalation import EscalationQueue, Priority, QueueItem, QueuePosition, QueueState

QUEUE_LIMIT = 500


@dataclass(frozen=True)
class QueueSettings:
    seconds_per_case: float = 180.0
    """Expected handling time of one case ahead of a customer, for the estimated wait."""
    idle_seconds: float = 600.0
    """A holder with no action on their case for this long has left it (the lease lapses)."""


def escalated_at(state: ConversationState) -> float | None:
    if state.escalated_at is not None:
        return state.escalated_at
    # Escalated before hand-off times were kept: the last handoff to the escalation specialist.
    times = [h.at for h in state.handoffs if h.to_agent == "escalation"]
    return times[-1] if times else None


def waiting_seconds(state: ConversationState, now: float) -> float:
    """How long the customer has waited for a person: from their request until a person answered."""
    since = escalated_at(state)
    if since is None:
        return 0.0
    until = state.answered_at if state.answered_at is not None else now
    return max(0.0, round(until - since, 1))


def priority_of(state: ConversationState) -> Priority:
    return state.escalation.priority if state.escalation else "normal"


def _order(state: ConversationState) -> tuple[int, float]:
    return rank(priority_of(state)), escalated_at(state) or state.updated_at


def waiting_in_order(states: list[ConversationState]) -> list[ConversationState]:
    """Escalated cases nobody holds, in the order they will be picked up."""
    return sorted((s for s in states if s.status == "escalated" and s.human is None), key=_order)


def _state_of(state: ConversationState, now: float, idle_seconds: float) -> tuple[QueueState, str]:
    human = state.human
    if human is None:
        last = state.case_log[-1] if state.case_log else None
        if last is not None and last.action in ("lapsed", "released"):
            return "returned", last.note
        return "waiting", ""
    idle = now - human.active_at()
    if idle > idle_seconds / 2:
        return "idle", f"{human.name} has not acted on this case for {int(idle // 60)} min"
    return "taken", ""


def build_queue(states: list[ConversationState], settings: QueueSettings, now: float) -> EscalationQueue:
    waiting = waiting_in_order(states)
    position = {s.conversation_id: i for i, s in enumerate(waiting, start=1)}
    held = sorted((s for s in states if s.status == "escalated" and s.human is not None), key=_order)
    items = []
    for state in [*waiting, *held]:
        notes = state.escalation
        queue_state, note = _state_of(state, now, settings.idle_seconds)
        items.append(
            QueueItem(
                conversation_id=state.conversation_id,
                customer_name=state.customer.display_name if state.customer else None,
                verified=state.verified(now),
                priority=priority_of(state),
                reason=notes.reason if notes else "the customer asked for a person",
                summary=notes.summary if notes else state.summary,
                channel=state.channel,
                escalated_at=escalated_at(state) or state.updated_at,
                waiting_seconds=waiting_seconds(state, now),
                taken_by=state.human.name if state.human else None,
                state=queue_state,
                position=position.get(state.conversation_id),
                approval_pending=state.parked is not None,
                note=note,
            )
        )
    return EscalationQueue(items=items, as_of=now)


def position_in(states: list[ConversationState], conversation_id: str, settings: QueueSettings) -> QueuePosition | None:
    waiting = waiting_in_order(states)
    for index, state in enumerate(waiting):
        if state.conversation_id == conversation_id:
            return QueuePosition(
                conversation_id=conversation_id,
                position=index + 1,
                waiting=len(waiting),
                estimated_wait_seconds=round((index + 1) * settings.seconds_per_case, 1),
                priority=priority_of(state),
            )
    return None


async def escalated(store: ConversationStore) -> list[ConversationState]:
    return await store.with_status("escalated", limit=QUEUE_LIMIT)
