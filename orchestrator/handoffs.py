"""Handing a goal to its specialist over A2A: identity first when the skill needs a verified customer,
the context envelope on every hop, and what the answer changes in the conversation (the verified
customer, actions taken, a held call to park on, the goal the next message continues, an offer).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from orchestrator.cases.actions import record_actions
from orchestrator.cases.holding import new_request
from orchestrator.cases.open_cases import normalize_claim
from orchestrator.cases.urgency import mark_urgent
from orchestrator.conversations import Goal, HandoffEvent, ParkedApproval, add_tool_calls, add_usage
from orchestrator.specialists import SpecialistDirectory
from orchestrator.turn_deadline import HUMAN_ASKED, NOT_STARTED, escalate_unconfirmed, specialist_deadline
from orchestrator.turn_record import Turn
from shared.authcontext import peek_claims
from shared.deadline import DeadlinePassed
from shared.envelope import ContextEnvelope
from shared.errors import ServiceUnavailable
from shared.escalation import HandoffNotes
from shared.handoff import REQUIRES_VERIFIED_IDENTITY_TAG, HandoffRequest, SpecialistResult

__all__ = ["Handoffs"]

log = logging.getLogger("switchboard.supervisor")


class Handoffs:
    """Runs goals with the specialists of ``directory``; ``queue_position`` words a customer's place in the queue."""

    def __init__(
        self,
        directory: SpecialistDirectory,
        *,
        verifier: tuple[str, str] | None,
        human: tuple[str, str] | None,
        queue_position: Callable[[Turn], Awaitable[str]],
    ) -> None:
        self._directory = directory
        self._verifier = verifier
        self._human = human
        self._queue_position = queue_position

    async def run(self, turn: Turn, goal: Goal, reason: str, text: str) -> None:
        state = turn.state
        needs_identity = self._directory.has_tag(goal.agent, goal.skill, REQUIRES_VERIFIED_IDENTITY_TAG)
        if needs_identity and not state.verified():
            if self._verifier is None:
                turn.say(None, None, "I can't verify who you are right now; please try again later.", "failed")
                return
            state.pending = goal.model_copy(update={"text": goal.text or text})
            turn.leave_active()
            goal = Goal(agent=self._verifier[0], skill=self._verifier[1], text=text)
            reason = f"verify the customer before {state.pending.skill}"
        result = await self._handoff(turn, goal, reason, text)
        if result is None:
            return
        if result.status == "auth-required" and self._verifier and state.pending is not None:
            # The specialist's task waits for a verified customer (state.pending has its id).
            goal = Goal(agent=self._verifier[0], skill=self._verifier[1], text=text)
            result = await self._handoff(turn, goal, f"verify the customer before {state.pending.skill}", text)
            if result is None:
                return
        if result.status == "completed" and (goal.agent, goal.skill) == self._verifier and state.pending:
            pending, state.pending = state.pending, None
            await self._handoff(turn, pending, f"customer verified; continuing {pending.skill}", pending.text)
        elif result.status == "failed" and (goal.agent, goal.skill) == self._verifier and state.pending:
            turn.abandoned.append(state.pending)
            state.pending = None

    async def _handoff(self, turn: Turn, goal: Goal, reason: str, text: str) -> SpecialistResult | None:
        state = turn.state
        continuing = state.active is goal
        envelope = ContextEnvelope(
            conversation_id=state.conversation_id,
            channel=turn.channel,
            customer=state.customer,
            auth_context=state.auth_context if state.verified() else None,
            trace=turn.trace.child(),
            handoff_reason=reason,
            summary=state.summary,
            turn=state.turns,
            deadline_at=specialist_deadline(turn.deadline_at),
        )
        turn.requests += 1
        request = HandoffRequest(
            skill=goal.skill,
            reason=reason,
            confidence=goal.confidence,
            priority=goal.priority,
            request_id=f"{state.turns}.{turn.requests}",
        )
        if not continuing:
            state.handoffs.append(
                HandoffEvent(
                    at=time.time(),
                    to_agent=goal.agent,
                    skill=goal.skill,
                    reason=reason,
                    trace_id=turn.trace.trace_id,
                    brain=turn.route.brain if turn.route else None,
                    said=(goal.text or text)[:300],
                )
            )
            turn.handoffs.append(goal.agent)
        try:
            answer = await self._directory.send(goal.agent, text, envelope, request, task_id=goal.task_id)
        except (ServiceUnavailable, DeadlinePassed) as exc:
            log.warning("turn %s: %s", state.conversation_id, exc)
            if (goal.agent, goal.skill) == self._human:
                # A request for a person is never lost, even when the escalation agent is late.
                escalate_unconfirmed(state, "the escalation service did not confirm in time")
                turn.say(goal.agent, goal.skill, HUMAN_ASKED + await self._queue_position(turn), "escalated")
                turn.status = "escalated"
                return None
            turn.set_active(goal)
            if isinstance(exc, DeadlinePassed):
                if self._human:
                    state.offer = Goal(agent=self._human[0], skill=self._human[1])
                turn.say(goal.agent, goal.skill, NOT_STARTED, "unavailable")
                return None
            if self._human and goal.agent != self._human[0]:
                state.offer = Goal(agent=self._human[0], skill=self._human[1])
            turn.say(
                goal.agent,
                goal.skill,
                f"I couldn't reach our {goal.agent} team just now. Nothing you've told us is lost: "
                "you can try again in a moment, or say 'yes' and I'll bring in a human colleague.",
                "unavailable",
            )
            return None
        result, reply = answer.result, answer.text
        # Each hand-off shows where its goal stands now, so the case can tell finished from left half-way.
        answered = state.handoffs[-1:] if not continuing else [h for h in state.handoffs if h.skill == goal.skill][-1:]
        for handoff in answered:
            handoff.status = result.status
        add_tool_calls(state, goal.agent, result, turn.trace.trace_id)
        self._apply(turn, goal, result, answer.task_id)
        escalated = result.status == "completed" and (goal.agent, goal.skill) == self._human
        if escalated:
            new_request(state, time.time())
            state.escalation = HandoffNotes.from_result(result.data, result.summary or state.summary)
            mark_urgent(state)  # before the queue position: urgent cases go first
            result.data["priority"] = state.escalation.priority
            reply += await self._queue_position(turn)
        turn.say(goal.agent, goal.skill, reply, result.status, result.data)
        if escalated:
            turn.status = "escalated"
        return result

    def _apply(self, turn: Turn, goal: Goal, result: SpecialistResult, task_id: str) -> None:
        state = turn.state
        if result.auth_context and result.customer:
            claims = peek_claims(result.auth_context)
            state.auth_context = result.auth_context
            state.customer = result.customer
            state.auth_expires_at = claims.exp if claims else None
            state.auth_method = claims.method if claims else None
        if result.summary:
            state.summaries.append(f"{goal.agent}: {result.summary}")
        record_actions(state, goal.agent, goal.skill, result)
        data = result.data or {}
        if isinstance(data.get("llm_usage"), dict):
            add_usage(state, goal.agent, data["llm_usage"])
        if data.get("approval_pending") and data.get("approval_id"):
            state.parked = ParkedApproval(
                approval_id=str(data["approval_id"]),
                agent=goal.agent,
                skill=goal.skill,
                task_id=task_id if result.status == "input-required" and task_id else None,
                summary=result.summary,
                amount=str(data["amount"]) if data.get("amount") is not None else None,
                currency=data.get("currency"),
                messages=result.messages,
            )
        if isinstance(data.get("claimed"), str) and state.customer is None:
            state.claimed = normalize_claim(data["claimed"])
        if state.active is not None and task_id and state.active.task_id == task_id:
            state.active = None  # this task has answered; it is not a wait being left behind
        waiting = Goal(agent=goal.agent, skill=goal.skill, task_id=task_id or None, text=goal.text)
        if state.parked is not None and state.parked.task_id == task_id:
            turn.set_active(None)  # the task waits for the approver, not for the customer
        elif result.status == "input-required":
            turn.set_active(waiting.model_copy(update={"asking": result.data.get("asking")}))
        elif result.status == "auth-required":
            turn.set_active(None)
            state.pending = waiting
        else:
            turn.set_active(None)
        if result.handoff_to is not None:
            skill = result.handoff_to.skill or self._first_skill(result.handoff_to.agent)
            if skill:
                target = result.handoff_to
                state.offer = Goal(agent=target.agent, skill=skill, reason=target.reason, priority=target.priority)

    def _first_skill(self, agent: str) -> str | None:
        if self._human and self._human[0] == agent:
            return self._human[1]
        for spec in self._directory.skill_specs():
            if spec.agent == agent:
                return spec.skill
        return None

    async def cancel(self, goals: list[Goal]) -> None:
        """Cancel the specialists' tasks the customer left: none of them may be resumed by accident."""
        for goal in goals:
            if goal.task_id:
                await self._directory.cancel(goal.agent, goal.task_id)
