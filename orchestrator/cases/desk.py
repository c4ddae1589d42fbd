"""The human side of escalated cases: take-over leases, transfers, hand-backs and the queue.

A take-over ends the specialists' tasks that wait for the customer (``CancelTask``): from then
on a person answers, and no task is left to be resumed by accident. A task waiting for an
approval stays: the approver's decision still reaches it, and the person sees the outcome.

A take-over is a lease. It holds while the person is signed in (``Presence``) and has acted on
the case within ``QueueSettings.idle_seconds``; replies and the console's activity signal renew
it. A lapsed lease is released the next time anyone looks (the queue, a take-over attempt, the
customer's next message), so a case is never stranded with someone who left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from orchestrator.cases import holding
from orchestrator.cases.queue import QueueSettings, build_queue, escalated, position_in
from orchestrator.conversations import ConversationState, ConversationStore, Goal, TranscriptEntry
from shared.errors import Forbidden, InvalidRequest, PayloadTooLarge
from shared.escalation import CaseAction, CaseConflict, EscalationQueue, HumanControl, QueuePosition

log = logging.getLogger("switchboard.cases")

TAKEOVER_ROLES = frozenset({"agent", "supervisor", "admin"})
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
MAX_NOTE_CHARS = 500
RENEW_EVERY_SECONDS = 5.0
"""Activity signals closer together than this renew nothing (no write per keystroke)."""


class Presence(Protocol):
    """Who is signed in to the consoles (the staff session store)."""

    async def signed_in(self, name: str) -> bool: ...

    def role_of(self, name: str) -> str | None: ...


class Conversations(Protocol):
    """The conversations the desk edits: the supervisor, whose turn lock keeps customer turns out."""

    @property
    def store(self) -> ConversationStore: ...

    @property
    def max_message_chars(self) -> int: ...

    def editing(self, conversation_id: str) -> AbstractAsyncContextManager[ConversationState]: ...

    async def save(self, state: ConversationState, entries: list[TranscriptEntry]) -> None: ...

    async def cancel_tasks(self, goals: list[Goal]) -> None:
        """Cancel these goals' specialist tasks (``CancelTask``); one already gone is fine."""
        ...


def _clock_text(at: float) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(at))


class CaseDesk:
    def __init__(
        self,
        supervisor: Conversations,
        presence: Presence,
        settings: QueueSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._supervisor = supervisor
        self._presence = presence
        self.settings = settings or QueueSettings()
        self._clock = clock

    async def lapse_reason(self, human: HumanControl, now: float | None = None) -> str | None:
        """Why ``human``'s lease has lapsed, or None while it holds."""
        now = now if now is not None else self._clock()
        if not await self._presence.signed_in(human.name):
            return f"{human.name} signed out or their session ended"
        idle = now - human.active_at()
        if idle > self.settings.idle_seconds:
            return f"{human.name} was idle on the case for {int(idle // 60)} min"
        return None

    async def sweep(self) -> None:
        """Release every lapsed lease; each case goes back to the queue with a note."""
        for state in await escalated(self._supervisor.store):
            if state.human is not None and await self.lapse_reason(state.human):
                await self._release_if_lapsed(state.conversation_id)

    async def _release_if_lapsed(self, conversation_id: str) -> None:
        async with self._supervisor.editing(conversation_id) as state:
            if state.human is None or state.status != "escalated":
                return
            reason = await self.lapse_reason(state.human)
            if reason is None:
                return
            log.info("case %s: lease lapsed (%s)", conversation_id, reason)
            entry = holding.release(state, "lapsed", "system", reason, self._clock())
            await self._supervisor.save(state, [entry])

    async def queue(self) -> EscalationQueue:
        await self.sweep()
        return build_queue(await escalated(self._supervisor.store), self.settings, self._clock())

    async def position(self, current: ConversationState) -> QueuePosition | None:
        """Position and estimated wait of ``current`` (its in-memory state wins over the stored one).

        Cases whose lease has lapsed count as waiting even before a sweep has released them, so
        the answer never depends on whether someone looked at the console. Writes nothing.
        """
        states = []
        for state in await escalated(self._supervisor.store):
            if state.conversation_id == current.conversation_id:
                continue
            if state.human is not None and await self.lapse_reason(state.human):
                state.human = None
            states.append(state)
        if current.human is not None and await self.lapse_reason(current.human):
            current = current.model_copy(update={"human": None})
        if current.status == "escalated":
            states.append(current)
        return position_in(states, current.conversation_id, self.settings)

    async def position_of(self, conversation_id: str) -> QueuePosition | None:
        """Position and estimated wait of conversation ``conversation_id``; None unless it waits for a person."""
        return await self.position(await self._supervisor.store.load(conversation_id))

    async def take_over(self, conversation_id: str, name: str) -> ConversationState:
        """Take a waiting case; taking one's own case again only renews the lease."""
        async with self._supervisor.editing(conversation_id) as state:
            now = self._clock()
            entries: list[TranscriptEntry] = []
            if state.human is not None and state.human.name != name:
                reason = await self.lapse_reason(state.human, now)
                if reason is None:
                    raise self._held_by(state.human, "take it over")
                entries.append(holding.release(state, "lapsed", "system", reason, now))
            if state.human is not None:
                state.human.last_active = now
                await self._supervisor.save(state, [])
                return state
            if state.status != "escalated":
                raise CaseConflict(
                    f"the conversation is {state.status}, not waiting for a person",
                    hint="take cases from the escalation queue",
                )
            waiting = _waiting_tasks(state)
            entries.append(holding.take(state, name, now))
            await self._supervisor.save(state, entries)
        # Outside the conversation's lock: the state no longer names these tasks.
        await self._supervisor.cancel_tasks(waiting)
        return state

    async def renew(self, conversation_id: str, name: str) -> ConversationState:
        """The holder is active on the case (typing, reading): the lease goes on."""
        async with self._supervisor.editing(conversation_id) as state:
            self._require_holder(state, name, "keep it")
            assert state.human is not None
            now = self._clock()
            if now - state.human.active_at() >= RENEW_EVERY_SECONDS:
                state.human.last_active = now
                await self._supervisor.save(state, [])
        return state

    async def reply(self, conversation_id: str, name: str, text: str) -> TranscriptEntry:
        """The holder's words to the customer, in the same conversation (the channels deliver them)."""
        text = (text or "").strip()
        if not text:
            raise InvalidRequest("the reply is empty", hint="write the words the customer should read")
        limit = self._supervisor.max_message_chars
        if len(text) > limit:
            raise PayloadTooLarge(f"the reply has {len(text)} characters; the limit is {limit}")
        async with self._supervisor.editing(conversation_id) as state:
            self._require_holder(state, name, "reply")
            now = self._clock()
            holding.answered(state, name, text, now)
            entry = TranscriptEntry(at=now, role="human", text=text, channel=state.channel, agent=name)
            await self._supervisor.save(state, [entry])
        return entry

    async def hand_back(self, conversation_id: str, name: str, note: str = "") -> ConversationState:
        """Back to the AI with an optional note, which the AI reads with the human's replies."""
        note = _note(note)
        async with self._supervisor.editing(conversation_id) as state:
            self._require_holder(state, name, "hand it back")
            entry = holding.hand_back(state, name, note, self._clock())
            await self._supervisor.save(state, [entry])
        return state

    async def release(self, conversation_id: str, actor: str, note: str = "") -> ConversationState:
        """A supervisor takes the case off its holder: back to the queue with its waiting time."""
        self._require_supervisor(actor, "release a case")
        note = _note(note)
        async with self._supervisor.editing(conversation_id) as state:
            if state.human is None:
                raise CaseConflict("nobody holds this case", hint="it is already waiting in the queue")
            holder = state.human.name
            entry = holding.release(
                state, "released", actor, note or f"released from {holder} by {actor}", self._clock()
            )
            await self._supervisor.save(state, [entry])
        return state

    async def transfer(self, conversation_id: str, actor: str, to: str, note: str = "") -> ConversationState:
        """The holder passes their case to a named, signed-in colleague."""
        return await self._pass_on(conversation_id, actor, to, note, reassign=False)

    async def reassign(self, conversation_id: str, actor: str, to: str, note: str = "") -> ConversationState:
        """A supervisor gives any escalated case, held or waiting, to a named, signed-in colleague."""
        self._require_supervisor(actor, "reassign a case")
        return await self._pass_on(conversation_id, actor, to, note, reassign=True)

    async def _pass_on(
        self, conversation_id: str, actor: str, to: str, note: str, *, reassign: bool
    ) -> ConversationState:
        note = _note(note)
        if self._presence.role_of(to) not in TAKEOVER_ROLES:
            raise InvalidRequest(f"{to!r} is not a colleague who can take cases", hint="name a human agent's account")
        if not await self._presence.signed_in(to):
            raise CaseConflict(f"{to} is not signed in", hint="pass the case to a colleague who is at the console")
        async with self._supervisor.editing(conversation_id) as state:
            if state.status != "escalated":
                raise CaseConflict(f"the conversation is {state.status}, not an escalated case")
            if not reassign:
                self._require_holder(state, actor, "transfer it")
            if state.human is not None and state.human.name == to:
                raise CaseConflict(f"{to} already holds this case")
            action: CaseAction = "reassigned" if reassign else "transferred"
            entry = holding.pass_on(state, action, actor, to, note, self._clock())
            await self._supervisor.save(state, [entry])
        return state

    async def signed_out(self, name: str) -> None:
        """Someone signed out: every case they held goes back to the queue now."""
        for state in await escalated(self._supervisor.store):
            if state.human is not None and state.human.name == name:
                await self._release_if_lapsed(state.conversation_id)

    def _require_holder(self, state: ConversationState, name: str, what: str) -> None:
        if state.human is None:
            raise CaseConflict(
                f"nobody holds this case: take the conversation over before you {what}",
                hint="press 'Take over' on the case in the queue",
            )
        if state.human.name != name:
            raise self._held_by(state.human, what)

    def _require_supervisor(self, actor: str, what: str) -> None:
        if self._presence.role_of(actor) not in SUPERVISOR_ROLES:
            raise Forbidden(f"{actor} may not {what}", hint="ask a supervisor")

    @staticmethod
    def _held_by(human: HumanControl, what: str) -> CaseConflict:
        return CaseConflict(
            f"{human.name} took this case at {_clock_text(human.since)}, so you cannot {what}",
            hint=f"pick another case from the queue, or ask {human.name} or a supervisor to pass it to you",
        )


def _waiting_tasks(state: ConversationState) -> list[Goal]:
    """The specialists' tasks waiting for the customer (the taking over drops these goals).

    A parked approval's task is not among them, and a queued goal has no task yet.
    """
    return [goal for goal in (state.active, state.pending) if goal is not None and goal.task_id]


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidRequest(f"the note has {len(note)} characters; the limit is {MAX_NOTE_CHARS}")
    return note
