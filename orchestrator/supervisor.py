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

from orchestrator import approval_words, clarification, wording
from orchestrator.cases.actions import record_actions, settle_approval
from orchestrator.cases.holding import HUMAN_JOINED, HUMAN_LEFT, release
from orchestrator.cases.recall import asks_what_a_person_said, what_they_said
from orchestrator.choosing import answer_without_goal, choose
from orchestrator.conversations import (
    Clarification,
    ConversationState,
    ConversationStore,
    Goal,
    ParkedApproval,
    TranscriptEntry,
    add_tool_calls,
    add_usage,
)
from orchestrator.disclosure import DISCLOSURE_SKILL, Disclosure
from orchestrator.handoffs import Handoffs
from orchestrator.routing import Brain, RouteDecision
from orchestrator.specialists import SpecialistDirectory, SpecialistReply
from orchestrator.turn_record import Turn, TurnOutcome
from shared import telemetry
from shared.deadline import DEFAULT_TURN_SECONDS
from shared.envelope import ContextEnvelope
from shared.errors import InvalidRequest, PayloadTooLarge, ServiceUnavailable
from shared.escalation import HumanControl, HumanNotice, QueuePosition
from shared.handoff import (
    HUMAN_REQUEST_TAG,
    VERIFIES_IDENTITY_TAG,
    HandoffRequest,
    approval_decided,
)
from shared.keyed_locks import KeyedLocks
from shared.tracing import TraceContext

log = logging.getLogger("switchboard.supervisor")

__all__ = ["HUMAN_JOINED", "HUMAN_LEFT", "CaseHooks", "Supervisor", "TurnOutcome"]


class CaseHooks(Protocol):
    """What the supervisor asks the human side (``orchestrator.cases.CaseDesk``) during a turn."""

    async def lapse_reason(self, human: HumanControl) -> str | None: ...

    async def position(self, current: ConversationState) -> QueuePosition | None: ...


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
        self._handoffs = Handoffs(
            directory, verifier=self._verifier, human=self._human, queue_position=self._where_in_queue
        )
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
                turn = Turn(state, trace, channel)
                turn.deadline_at = time.time() + self.turn_seconds
                turn.entries.append(
                    TranscriptEntry(
                        at=time.time(), role="customer", text=text, channel=channel, trace_id=trace.trace_id
                    )
                )
                state.turns += 1
                state.channel = channel
                await self._handle(turn, text)
                await self._handoffs.cancel(turn.abandoned)
                await self._save(state, turn.entries)
                if span is not None:
                    telemetry.set_attributes(
                        span,
                        {telemetry.CONVERSATION_ID: conversation_id, "switchboard.channel": channel}
                        | {"switchboard.turn": state.turns, "switchboard.turn.status": turn.status}
                        | {telemetry.AGENT_NAME: turn.agent, "switchboard.skill": turn.skill},
                    )
        return turn.outcome()

    async def _handle(self, turn: Turn, text: str) -> None:
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
        goal, reason = choose(
            turn, text, decision, human=self._human, threshold=self._threshold, switch_threshold=self._switch_threshold
        )
        if asked is not None and goal is not None and goal.agent != asked.agent and state.active is None:
            # The pending question is dropped, and the customer is told so: nothing hangs silently.
            what = asked.skill.replace("-", " ")
            turn.say(None, None, f"I've put your {what} request on hold; ask again whenever you're ready.", "completed")
        if goal is None:
            if reason:  # declined an offer
                turn.say(None, None, reason, "completed")
            else:
                answer_without_goal(
                    turn, text, decision, labels=self._labels(), human=self._human, threshold=self._threshold
                )
            return
        first_of_two = decision.then is not None and goal.text == text
        if first_of_two and (goal.agent, goal.skill) == (decision.agent, decision.skill):
            text = self._queue_second(turn, goal, decision)
        await self._handoffs.run(turn, goal, reason, text)
        await self._take_up_queued(turn)

    def _labels(self) -> dict[tuple[str, str], str]:
        return {(s.agent, s.skill): s.label for s in self._directory.skill_specs() if s.label}

    async def _answer_clarification(self, turn: Turn, text: str, decision: RouteDecision, asked: Clarification) -> bool:
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
            await self._handoffs.run(turn, goal, f"the customer chose '{option.label}' when asked", asked.said)
            await self._take_up_queued(turn)
        return True

    def _queue_second(self, turn: Turn, goal: Goal, decision: RouteDecision) -> str:
        """Keep the message's second request for after the first; returns the first request's words."""
        assert decision.then is not None
        first, second = decision.parts if len(decision.parts) == 2 else (goal.text, goal.text)
        turn.state.queued = Goal(agent=decision.then.agent, skill=decision.then.skill, text=second)
        labels = self._labels()
        second_label = labels.get((decision.then.agent, decision.then.skill), "your other question")
        turn.say(None, None, wording.queued(labels.get((goal.agent, goal.skill)), second_label), "completed")
        goal.text = first
        return first

    async def _take_up_queued(self, turn: Turn) -> None:
        """Once the current goal is done, start on the request that was queued behind it."""
        state = turn.state
        busy = state.active or state.pending or state.parked or state.offer or state.human
        if state.queued is None or busy or state.status != "open" or turn.status not in ("completed", "failed"):
            return
        queued, state.queued = state.queued, None
        label = self._labels().get((queued.agent, queued.skill), "your other question")
        turn.say(None, None, wording.taking_up(label), "completed")
        await self._handoffs.run(turn, queued, "the customer's second request in the same message", queued.text)

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

    async def _where_in_queue(self, turn: Turn) -> str:
        """The customer's place in the queue and the estimated wait, as the console orders it."""
        if self.cases is None:
            return ""
        where = await self.cases.position(turn.state)
        if where is None:
            return ""
        turn.data["queue"] = where.model_dump(mode="json")
        minutes = max(1, round(where.estimated_wait_seconds / 60))
        return f" You're number {where.position} in the queue; the estimated wait is about {minutes} min."

    async def _to_human(self, turn: Turn, human: HumanControl) -> None:
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
        await self._handoffs.cancel(goals)


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
