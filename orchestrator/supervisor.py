"""The supervisor: one customer turn, from any channel, to the right specialist and back.

It decides who owns the goal (routing), makes sure the customer is verified before a skill
that needs it (once per conversation, until the auth context expires), hands off over A2A
with the context envelope, keeps a follow-up with the active specialist, and records the
turn durably in one write.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from pydantic import BaseModel

from orchestrator import approval_words, clarification, wording
from orchestrator.cases.actions import record_actions, settle_approval
from orchestrator.cases.holding import HUMAN_JOINED, HUMAN_LEFT, new_request, release
from orchestrator.cases.open_cases import normalize_claim
from orchestrator.cases.recall import asks_what_a_person_said, what_they_said
from orchestrator.cases.urgency import mark_urgent
from orchestrator.conversations import (
    Clarification,
    ConversationState,
    ConversationStore,
    Goal,
    HandoffEvent,
    ParkedApproval,
    TranscriptEntry,
    add_tool_calls,
    add_usage,
)
from orchestrator.disclosure import DISCLOSURE_SKILL, Disclosure
from orchestrator.routing import Brain, RouteDecision
from orchestrator.specialists import SpecialistDirectory, SpecialistReply
from orchestrator.turn_deadline import HUMAN_ASKED, NOT_STARTED, escalate_unconfirmed, specialist_deadline
from shared import telemetry
from shared.authcontext import peek_claims
from shared.deadline import DEFAULT_TURN_SECONDS, DeadlinePassed
from shared.envelope import ContextEnvelope
from shared.errors import InvalidRequest, PayloadTooLarge, ServiceUnavailable
from shared.escalation import HandoffNotes, HumanControl, HumanNotice, QueuePosition
from shared.handoff import (
    HUMAN_REQUEST_TAG,
    REQUIRES_VERIFIED_IDENTITY_TAG,
    VERIFIES_IDENTITY_TAG,
    HandoffRequest,
    SpecialistResult,
    approval_decided,
)
from shared.keyed_locks import KeyedLocks
from shared.tracing import TraceContext
from shared.yes_no import read, short_answer

log = logging.getLogger("switchboard.supervisor")


def _answers_the_question(text: str) -> bool:
    """A yes or no with a few words after it ("yes, cancel it") answers the active specialist's
    question, however sure the router is that "cancel" belongs to another skill; a yes that goes on
    into a request of its own ("ok, now change my plan please") may still change the topic."""
    return short_answer(text) is not None


__all__ = ["HUMAN_JOINED", "HUMAN_LEFT", "CaseHooks", "Supervisor", "TurnOutcome"]


class CaseHooks(Protocol):
    """What the supervisor asks the human side (``orchestrator.cases.CaseDesk``) during a turn."""

    async def lapse_reason(self, human: HumanControl) -> str | None: ...

    async def position(self, current: ConversationState) -> QueuePosition | None: ...


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


class Supervisor:
    def __init__(
        self,
        store: ConversationStore,
        directory: SpecialistDirectory,
        brain: Brain,
        *,
        route_threshold: float = 0.45,
        switch_threshold: float = 0.7,
        max_message_chars: int = 2000,
        on_saved: Callable[[str], None] | None = None,
        disclosure: Disclosure | None = None,
        turn_seconds: float = DEFAULT_TURN_SECONDS,
    ) -> None:
        """``on_saved(conversation_id)`` runs after every transcript write (live streams re-read);
        ``disclosure`` words the opening notice (read from the settings when None)."""
        self._store = store
        self.disclosure = disclosure if disclosure is not None else Disclosure.from_settings()
        self._on_saved = on_saved
        self._directory = directory
        self._brain = brain
        self._threshold = route_threshold
        self._switch_threshold = switch_threshold
        self._max_chars = max_message_chars
        self.turn_seconds = turn_seconds
        """Each customer turn's deadline; it travels to every hop (``shared.deadline``)."""
        # Two turns of one conversation must not interleave; different conversations run freely.
        # A lock exists only while a turn holds or waits for it (bounded by the turns in flight).
        self._locks = KeyedLocks()
        self._verifier = directory.find_tagged(VERIFIES_IDENTITY_TAG)
        self._human = directory.find_tagged(HUMAN_REQUEST_TAG)
        self.cases: CaseHooks | None = None
        """Set by the app that serves the consoles: take-over leases and queue positions."""

    @property
    def store(self) -> ConversationStore:
        return self._store

    @property
    def max_message_chars(self) -> int:
        return self._max_chars

    @contextlib.asynccontextmanager
    async def editing(self, conversation_id: str) -> AsyncIterator[ConversationState]:
        """The conversation's state under its turn lock: no customer turn interleaves with the edit."""
        async with self._locks[conversation_id]:
            yield await self._store.load(conversation_id)

    async def save(self, state: ConversationState, entries: list[TranscriptEntry]) -> None:
        await self._save(state, entries)

    async def _save(self, state: ConversationState, entries: list[TranscriptEntry]) -> None:
        await self._store.save_turn(state, entries)
        if self._on_saved is not None:
            self._on_saved(state.conversation_id)

    async def start(self, channel: str = "chat", language: str = "en") -> tuple[ConversationState, str]:
        """A new conversation whose first transcript entry is the notice that an AI answers."""
        state, token = await self._store.create(channel)
        notice = TranscriptEntry(
            at=time.time(),
            role="system",
            text=self.disclosure.text(channel, language),
            channel=channel,
            agent="supervisor",
            skill=DISCLOSURE_SKILL,
        )
        await self._save(state, [notice])
        return state, token

    async def turn(self, conversation_id: str, text: str, *, channel: str = "chat") -> TurnOutcome:
        text = (text or "").strip()
        if not text:
            raise InvalidRequest("the message is empty", hint="send the customer's words in 'text'")
        if len(text) > self._max_chars:
            raise PayloadTooLarge(
                f"the message has {len(text)} characters; the limit is {self._max_chars}",
                hint="split it into shorter messages",
            )
        async with self._locks[conversation_id]:
            with telemetry.span("customer_turn") as span:  # inside the HTTP server span
                state = await self._store.load(conversation_id)
                # With tracing on, the turn's trace id is the span's: audit records and spans share it.
                trace = telemetry.trace_context(span) or TraceContext.new()
                turn = _Turn(state, trace, channel)
                turn.deadline_at = time.time() + self.turn_seconds
                turn.entries.append(
                    TranscriptEntry(
                        at=time.time(), role="customer", text=text, channel=channel, trace_id=trace.trace_id
                    )
                )
                state.turns += 1
                state.channel = channel
                await self._handle(turn, text)
                await self._cancel_abandoned(turn.abandoned)
                await self._save(state, turn.entries)
                if span is not None:
                    telemetry.set_attributes(
                        span,
                        {telemetry.CONVERSATION_ID: conversation_id, "switchboard.channel": channel}
                        | {"switchboard.turn": state.turns, "switchboard.turn.status": turn.status}
                        | {telemetry.AGENT_NAME: turn.agent, "switchboard.skill": turn.skill},
                    )
        return turn.outcome()

    async def _handle(self, turn: _Turn, text: str) -> None:
        state = turn.state
        # Options offered last turn are answered now or not at all: an old question never catches a "yes".
        clarifying, state.clarifying = state.clarifying, None
        if state.human is not None and self.cases is not None:
            lapsed = await self.cases.lapse_reason(state.human)
            if lapsed:
                turn.entries.append(release(state, "lapsed", "system", lapsed, time.time()))
        if state.human is not None:
            await self._to_human(turn, state.human)
            return
        if state.status == "escalated":
            waiting = "A colleague from our team has your case and will reply here shortly."
            turn.say(None, None, f"{waiting}{await self._where_in_queue(turn)}", "escalated")
            return
        if state.case_log and (who := asks_what_a_person_said(text)):
            said = what_they_said(state, await self._store.transcript(state.conversation_id), who)
            if said:
                turn.say(None, None, said, "completed")
                return
        with telemetry.span("route") as span:
            decision = await self._brain.route(text)
            if span is not None:
                telemetry.set_attributes(span, _route_attributes(decision))
        turn.route = decision
        if decision.usage:
            add_usage(state, "router", decision.usage)
        if state.parked is not None and self._still_waiting(state.parked, decision):
            waiting = approval_words.waiting_text(state.parked)
            turn.say(state.parked.agent, state.parked.skill, waiting, "waiting-approval")
            return
        if clarifying is not None and await self._answer_clarification(turn, text, decision, clarifying):
            return
        asked = state.active
        goal, reason = self._choose(turn, text, decision)
        if asked is not None and goal is not None and goal.agent != asked.agent and state.active is None:
            # The pending question is dropped, and the customer is told so: nothing hangs silently.
            what = asked.skill.replace("-", " ")
            turn.say(None, None, f"I've put your {what} request on hold; ask again whenever you're ready.", "completed")
        if goal is None:
            if reason:  # declined an offer
                turn.say(None, None, reason, "completed")
            else:
                self._answer_without_goal(turn, text, decision)
            return
        if (
            decision.then is not None
            and goal.text == text
            and (goal.agent, goal.skill)
            == (
                decision.agent,
                decision.skill,
            )
        ):
            text = self._queue_second(turn, goal, decision)
        await self._run(turn, goal, reason, text)
        await self._take_up_queued(turn)

    def _labels(self) -> dict[tuple[str, str], str]:
        return {(s.agent, s.skill): s.label for s in self._directory.skill_specs() if s.label}

    def _answer_without_goal(self, turn: _Turn, text: str, decision: RouteDecision) -> None:
        """No specialist takes this turn: small talk, something we do not do, a language we do not serve."""
        state = turn.state
        if decision.intent == "small-talk" and decision.confidence >= self._threshold:
            turn.say(None, None, wording.small_talk(text, self._labels()), "completed")
        elif decision.intent in ("out-of-scope", "other-language") and decision.confidence >= self._threshold:
            if self._human:
                state.offer = Goal(agent=self._human[0], skill=self._human[1])
            reply = (
                wording.out_of_scope(self._human is not None)
                if decision.intent == "out-of-scope"
                else wording.other_language(decision.language)
            )
            turn.say(None, None, reply, "completed")
        else:
            labels = self._labels()
            options = clarification.offered(decision, labels)
            if len(options) >= 2 and decision.intent == "skill":
                state.clarifying = Clarification(options=options, said=text)
            turn.say(None, None, wording.clarifying_question(decision, labels), "clarify")

    async def _answer_clarification(
        self, turn: _Turn, text: str, decision: RouteDecision, asked: Clarification
    ) -> bool:
        """The customer's answer to the options just offered; False when the message asks something else."""
        state = turn.state
        answer = clarification.understand(text, asked, decision, self._threshold)
        if answer.kind == "other":
            return False
        if answer.kind == "unsure" and asked.asked < 2:
            state.clarifying = asked.model_copy(update={"asked": asked.asked + 1})
            turn.say(None, None, clarification.ask_again(asked), "clarify")
        elif answer.option is None:  # turned down, or still unsure after asking twice
            if self._human:
                why = "none of the options offered fitted what the customer wanted"
                state.offer = Goal(agent=self._human[0], skill=self._human[1], reason=why)
            turn.say(None, None, clarification.declined(self._human is not None), "completed")
        else:
            option = answer.option
            goal = Goal(agent=option.agent, skill=option.skill, text=asked.said, confidence=option.score)
            await self._run(turn, goal, f"the customer chose '{option.label}' when asked", asked.said)
            await self._take_up_queued(turn)
        return True

    def _queue_second(self, turn: _Turn, goal: Goal, decision: RouteDecision) -> str:
        """Keep the message's second request for after the first; returns the first request's words."""
        assert decision.then is not None
        first, second = decision.parts if len(decision.parts) == 2 else (goal.text, goal.text)
        turn.state.queued = Goal(agent=decision.then.agent, skill=decision.then.skill, text=second)
        labels = self._labels()
        second_label = labels.get((decision.then.agent, decision.then.skill), "your other question")
        turn.say(None, None, wording.queued(labels.get((goal.agent, goal.skill)), second_label), "completed")
        goal.text = first
        return first

    async def _take_up_queued(self, turn: _Turn) -> None:
        """Once the current goal is done, start on the request that was queued behind it."""
        state = turn.state
        busy = state.active or state.pending or state.parked or state.offer or state.human
        if state.queued is None or busy or state.status != "open" or turn.status not in ("completed", "failed"):
            return
        queued, state.queued = state.queued, None
        label = self._labels().get((queued.agent, queued.skill), "your other question")
        turn.say(None, None, wording.taking_up(label), "completed")
        await self._run(turn, queued, "the customer's second request in the same message", queued.text)

    def _still_waiting(self, parked: ParkedApproval, decision: RouteDecision) -> bool:
        """A turn while parked is about the wait unless it confidently asks for something else."""
        if decision.agent is None or decision.confidence < self._threshold:
            return True
        return decision.agent == parked.agent and (decision.agent, decision.skill) != self._human

    async def resolve_approval(
        self,
        approval_id: str,
        conversation_id: str,
        status: str,
        result: dict[str, Any] | None,
        note: str | None = None,
    ) -> bool:
        """The gateway decided a held call: tell the customer and clear the park, exactly once.

        Returns False when nothing was parked on this approval (a repeated callback).
        """
        async with self._locks[conversation_id]:
            state = await self._store.load(conversation_id)
            parked = state.parked
            if parked is None or parked.approval_id != approval_id:
                return False
            state.parked = None
            text = approval_words.resolution_text(parked, status, result or {}, note or "")
            if parked.task_id:
                # The waiting task reads the outcome from the system of record and finishes; what it
                # found, in its own words, is what the customer is told when the action was carried out.
                answer = await self._resume_parked(state, parked, status)
                if answer is not None and status == "executed" and answer.result.status == "completed" and answer.text:
                    text = answer.text
            state.summaries.append(f"{parked.agent}: approval {approval_id} {status}")
            settle_approval(state, approval_id, status)
            if state.human is not None:
                # One voice at a time: the person who holds the case reads the outcome and tells the customer.
                notice = HumanNotice(at=time.time(), agent=parked.agent, text=text, kind="approval-outcome")
                state.notices.append(notice)
                await self._save(state, [])
                return True
            if status != "executed" and self._human:
                why = f"{parked.agent}: {parked.summary or 'an action'}; the approval was {status}"
                state.offer = Goal(agent=self._human[0], skill=self._human[1], reason=why)
            entry = TranscriptEntry(at=time.time(), role="agent", text=text, channel=state.channel, agent=parked.agent)
            entry.skill = parked.skill
            await self._save(state, [entry])
        return True

    async def _resume_parked(
        self, state: ConversationState, parked: ParkedApproval, status: str
    ) -> SpecialistReply | None:
        envelope = ContextEnvelope(
            conversation_id=state.conversation_id,
            channel=state.channel,
            customer=state.customer,
            auth_context=state.auth_context if state.verified() else None,
            trace=TraceContext.new(),
            handoff_reason=f"approval {parked.approval_id} decided",
            summary=state.summary,
            turn=state.turns,
        )
        request = HandoffRequest(skill=parked.skill, reason=f"approval {parked.approval_id} decided")
        assert parked.task_id is not None
        try:
            answer = await self._directory.send(
                parked.agent, approval_decided(status), envelope, request, task_id=parked.task_id, or_new_task=False
            )
        except ServiceUnavailable as exc:
            log.warning("approval %s: could not resume task %s: %s", parked.approval_id, parked.task_id, exc.message)
            return None
        add_tool_calls(state, parked.agent, answer.result, envelope.trace.trace_id)
        record_actions(state, parked.agent, parked.skill, answer.result)
        return answer

    async def _where_in_queue(self, turn: _Turn) -> str:
        """The customer's place in the queue and the estimated wait, as the console orders it."""
        if self.cases is None:
            return ""
        where = await self.cases.position(turn.state)
        if where is None:
            return ""
        turn.data["queue"] = where.model_dump(mode="json")
        minutes = max(1, round(where.estimated_wait_seconds / 60))
        return f" You're number {where.position} in the queue; the estimated wait is about {minutes} min."

    async def _to_human(self, turn: _Turn, human: HumanControl) -> None:
        """A customer turn while a human has the conversation: it is theirs, the AI stays quiet."""
        turn.status, turn.agent = "with-human", None
        turn.data["human"] = human.name
        if turn.channel != "voice":
            return  # the web chat shows the human's replies live, as they are written
        # A caller sees no event stream: read out what the human wrote since the caller last spoke.
        unheard: list[str] = []
        for entry in await self._store.transcript(turn.state.conversation_id):
            if entry.role == "customer":
                unheard.clear()
            elif entry.role == "human":
                unheard.append(entry.text)
        turn.replies.append(
            " ".join(unheard) or "Thanks, I've passed that to our colleague, who will answer you here shortly."
        )

    async def cancel_tasks(self, goals: list[Goal]) -> None:
        """Cancel these goals' specialist tasks (a person took the case over); one already gone is fine."""
        await self._cancel_abandoned(goals)

    async def _cancel_abandoned(self, goals: list[Goal]) -> None:
        """Cancel the specialists' tasks the customer left: none of them may be resumed by accident."""
        for goal in goals:
            if goal.task_id:
                await self._directory.cancel(goal.agent, goal.task_id)

    def _choose(self, turn: _Turn, text: str, decision: RouteDecision) -> tuple[Goal | None, str]:
        state = turn.state
        routed = (
            Goal(agent=decision.agent, skill=decision.skill, text=text, confidence=decision.confidence)
            if decision.agent and decision.skill
            else None
        )
        if (
            routed
            and self._human
            and (routed.agent, routed.skill) == self._human
            and decision.confidence >= self._threshold
        ):
            turn.leave_active()
            state.offer = None
            return routed, "the customer asked for a human"
        if state.offer is not None:
            offer, state.offer = state.offer, None
            reading = read(text)
            # "please email me my bill" opens like a yes but asks for something else: a long reply
            # the router confidently places elsewhere is that request, not an answer to the offer.
            elsewhere = routed is not None and decision.confidence >= self._threshold
            opening = reading.short() if elsewhere else reading.opening
            if opening is True:
                offer.text = text
                return offer, offer.reason or "the customer accepted the offered handoff"
            if opening is False:
                return None, "No problem. Is there anything else I can help you with?"
        if state.active is not None:
            switching = (
                not _answers_the_question(text)
                and routed is not None
                and routed.agent != state.active.agent
                and _agent_confidence(decision) >= self._switch_threshold
            )
            if routed is None or not switching:  # switching implies routed; said again for the checker
                return state.active, "follow-up to the active goal"
            log.info("topic change %s -> %s/%s", state.active.agent, routed.agent, routed.skill)
            state.summaries.append(f"{state.active.agent}: {state.active.skill} set aside, the customer asked for more")
            turn.leave_active()
            return routed, f"topic changed: {decision.reason}"
        if routed is None or decision.confidence < self._threshold:
            return None, ""
        return routed, decision.reason

    async def _run(self, turn: _Turn, goal: Goal, reason: str, text: str) -> None:
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

    async def _handoff(self, turn: _Turn, goal: Goal, reason: str, text: str) -> SpecialistResult | None:
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
                turn.say(goal.agent, goal.skill, HUMAN_ASKED + await self._where_in_queue(turn), "escalated")
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
            reply += await self._where_in_queue(turn)
        turn.say(goal.agent, goal.skill, reply, result.status, result.data)
        if escalated:
            turn.status = "escalated"
        return result

    def _apply(self, turn: _Turn, goal: Goal, result: SpecialistResult, task_id: str) -> None:
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


class _Turn:
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


def _agent_confidence(decision: RouteDecision) -> float:
    """How sure the brain is that the message belongs to the routed agent, whichever of its skills.

    A message can be clearly another agent's while split between two of its skills ("refund me
    8 pounds": refund or payment history); that still leaves a pending question of another agent.
    """
    best = next((a.score for a in decision.alternatives if a.skill == decision.skill), 0.0)
    if best <= 0:
        return decision.confidence
    same_agent = sum(a.score for a in decision.alternatives if a.agent == decision.agent)
    return min(1.0, decision.confidence * same_agent / best)


def _route_attributes(decision: RouteDecision) -> dict[str, Any]:
    usage = decision.usage or {}
    return {
        "switchboard.route.brain": decision.brain,
        "switchboard.route.agent": decision.agent,
        "switchboard.route.skill": decision.skill,
        "switchboard.route.confidence": decision.confidence,
        telemetry.INPUT_TOKENS: usage.get("prompt_tokens"),
        telemetry.OUTPUT_TOKENS: usage.get("completion_tokens"),
    }
