"""One customer turn in progress (what it said, handed off and left behind) and what a channel gets back."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from orchestrator.conversations import ConversationState, Goal, TranscriptEntry
from orchestrator.routing import RouteDecision
from shared.tracing import TraceContext

__all__ = ["Turn", "TurnOutcome"]


class TurnOutcome(BaseModel):
    """What a channel gets back for one customer turn."""

    conversation_id: str
    reply: str
    agent: str | None = None
    skill: str | None = None
    status: str
    verified: bool
    customer_name: str | None = None
    trace_id: str
    route: RouteDecision | None = None
    handoffs: list[str] = []
    data: dict[str, Any] = {}


class Turn:
    """What one turn has produced so far (replies, handoffs, status)."""

    def __init__(self, state: ConversationState, trace: TraceContext, channel: str) -> None:
        self.state = state
        self.trace = trace
        self.channel = channel
        self.entries: list[TranscriptEntry] = []
        self.replies: list[str] = []
        self.handoffs: list[str] = []
        self.agent: str | None = None
        self.skill: str | None = None
        self.status = "completed"
        self.route: RouteDecision | None = None
        self.data: dict[str, Any] = {}
        self.deadline_at: float | None = None
        """When this turn must be answered (Unix time); set by ``Supervisor.turn``."""
        self.abandoned: list[Goal] = []
        """Goals whose specialist task the customer left this turn: cancelled before the turn is saved."""
        self.requests = 0
        """Hand-offs sent so far this turn: with the turn number, the id of each request."""

    def set_active(self, goal: Goal | None) -> None:
        """The goal the customer's next message continues; a different waiting task is abandoned."""
        old = self.state.active
        if old is not None and old.task_id and (goal is None or goal.task_id != old.task_id):
            self.abandoned.append(old)
        self.state.active = goal

    def leave_active(self) -> None:
        self.set_active(None)

    def say(
        self, agent: str | None, skill: str | None, text: str, status: str, data: dict[str, Any] | None = None
    ) -> None:
        self.agent, self.skill, self.status = agent, skill, status
        self.data.update(data or {})
        if text:
            self.replies.append(text)
            self.entries.append(
                TranscriptEntry(
                    at=time.time(),
                    role="agent" if agent else "system",
                    text=text,
                    channel=self.channel,
                    agent=agent or "supervisor",
                    skill=skill,
                    trace_id=self.trace.trace_id,
                )
            )

    def outcome(self) -> TurnOutcome:
        state = self.state
        return TurnOutcome(
            conversation_id=state.conversation_id,
            reply="\n\n".join(self.replies),
            agent=self.agent,
            skill=self.skill,
            status=self.status,
            verified=state.verified(),
            customer_name=state.customer.display_name if state.customer else None,
            trace_id=self.trace.trace_id,
            route=self.route,
            handoffs=self.handoffs,
            data=self.data,
        )
