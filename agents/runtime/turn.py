"""One customer turn as a specialist sees it, and the small interface every specialist implements."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.gateway import GatewayClient, ToolOutcome
from shared.deadline import DeadlinePassed, remaining
from shared.envelope import ContextEnvelope, CustomerKeys
from shared.handoff import HandoffRequest, SpecialistResult, Status, ToolCallSummary
from shared.skill_steps import StepClaim
from shared.tools import IDEMPOTENCY_ARG

if TYPE_CHECKING:
    from shared.llm.model import ModelClient

_DECISIONS = {"ok": "allow", "denied": "deny", "approval": "approval-required", "unavailable": "allow"}


@dataclass(frozen=True)
class Reply:
    """What a specialist answers: the text the customer reads and the result for the supervisor."""

    text: str
    result: SpecialistResult


@dataclass
class Turn:
    """The customer's words, the envelope and handoff, and a recorded way to call tools."""

    text: str
    envelope: ContextEnvelope
    handoff: HandoffRequest
    gateway: GatewayClient
    agent: str = ""
    tool_calls: list[ToolCallSummary] = field(default_factory=list)
    summary_model: ModelClient | None = None
    """Writes hand-over summaries for people when a model is configured; None keeps them rule-based."""
    task_id: str = ""
    """The A2A task this turn belongs to: one request of the customer's, however many turns it takes."""
    messages: Mapping[str, str] = field(default_factory=dict)
    """The skill's own words by outcome (its SKILL.md ``## Messages``; see shared.skill_messages)."""
    scope: StepClaim | None = None
    """The skill step this turn's calls are made in; the gateway allows only that step's tools."""

    @property
    def skill(self) -> str:
        return self.handoff.skill

    @property
    def keys(self) -> CustomerKeys | None:
        return self.envelope.customer.keys if self.envelope.customer else None

    def idempotency_key(self, step: str) -> str:
        """One key per request and step: a repeated delivery acts once, a new request acts anew.

        The supervisor names each request (``handoff.request_id``: its turn and hand-off counter),
        so even a redelivery that opens a second task reuses the key; another caller's request is
        its A2A task.
        """
        if self.handoff.request_id:
            seed = f"{self.envelope.conversation_id}|{self.skill}|{step}|{self.handoff.request_id}"
        elif self.task_id:
            seed = f"task|{self.task_id}|{self.skill}|{step}"
        else:
            raise ValueError("a write needs the A2A task id or the request id to derive its idempotency key")
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    async def call(
        self, tool: str, args: Mapping[str, Any], *, step: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """Call a catalog tool; ``step`` marks a write and derives its idempotency key.

        ``key`` repeats an earlier write under that write's own key: a call held for a person, asked
        again once approved, gets what the approved call did instead of a second request.

        Raises ToolDenied, SystemUnavailable or ToolFailed; returns the structured output. Raises
        DeadlinePassed, before anything is sent, when the turn's deadline has passed.
        """
        left = remaining(self.envelope)
        if left is not None and left <= 0:
            raise DeadlinePassed(f"{tool} was not called: the turn's deadline passed")
        arguments = dict(args)
        if step is not None:
            arguments[IDEMPOTENCY_ARG] = key or self.idempotency_key(step)
        outcome = await self.gateway.call(tool, arguments, self.envelope, scope=self.scope)
        self._record(outcome)
        return self._data(outcome)

    @staticmethod
    def _data(outcome: ToolOutcome) -> dict[str, Any]:
        tool = outcome.tool
        if outcome.kind == "ok":
            return outcome.data
        if outcome.kind == "denied":
            raise ToolDenied(tool, outcome.message)
        if outcome.kind == "unavailable":
            raise SystemUnavailable(tool, outcome.message)
        if outcome.kind == "approval":
            return {"status": "pending_approval", "detail": outcome.message}
        raise ToolFailed(tool, outcome.message)

    async def read_many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """Several reads a step needs, in one round trip to the gateway; results in order.

        Each is governed and recorded on its own; raises like ``call`` for the first that failed.
        """
        left = remaining(self.envelope)
        if left is not None and left <= 0:
            raise DeadlinePassed("the reads were not made: the turn's deadline passed")
        outcomes = await self.gateway.call_many(calls, self.envelope, scope=self.scope)
        for outcome in outcomes:
            self._record(outcome)
        return [self._data(outcome) for outcome in outcomes]

    async def try_call(self, tool: str, args: Mapping[str, Any], *, step: str | None = None) -> dict[str, Any] | None:
        """Like ``call`` for side steps (logging): any failure is recorded and returns None."""
        try:
            return await self.call(tool, args, step=step)
        except (ToolDenied, SystemUnavailable, ToolFailed):
            return None

    def _record(self, outcome: ToolOutcome) -> None:
        detail = outcome.message[:200] if not outcome.ok else ""
        self.tool_calls.append(
            ToolCallSummary(
                tool=outcome.tool,
                decision=_DECISIONS.get(outcome.kind, "allow"),
                ok=outcome.ok,
                detail=detail,
                audit_id=outcome.audit_id,
            )
        )

    def result(self, status: Status, *, summary: str, **extra: Any) -> SpecialistResult:
        """A SpecialistResult for this turn with the tool calls made so far."""
        return SpecialistResult(
            status=status,
            skill=self.skill,
            summary=summary,
            tool_calls=list(self.tool_calls),
            **extra,
        )

    def reply(self, text: str, status: Status, *, summary: str, **extra: Any) -> Reply:
        return Reply(text, self.result(status, summary=summary, **extra))
