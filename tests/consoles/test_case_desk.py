"""Lease rules on a real conversation store and real staff sessions, with a clock the test moves.

Session expiry and idleness take hours at the default settings; here the clock jumps instead,
and nothing else is replaced: the sessions are the console's own, the store is SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.cases import CaseDesk, QueueSettings
from orchestrator.consoles.auth import ConsoleSettings, StaffSessions
from orchestrator.conversations import (
    ConversationState,
    Goal,
    ParkedApproval,
    SqliteConversationStore,
    TranscriptEntry,
)
from shared.escalation import CaseConflict
from shared.secrets import StaffCredential

IDLE = 600.0
TTL = 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Conversations:
    """The supervisor's part the desk uses: the store, one lock per conversation, and the tasks it cancels."""

    def __init__(self, store: SqliteConversationStore) -> None:
        self.store = store
        self.max_message_chars = 2000
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.cancelled: list[tuple[str, str | None]] = []

    @contextlib.asynccontextmanager
    async def editing(self, conversation_id: str) -> AsyncIterator[ConversationState]:
        async with self._locks[conversation_id]:
            yield await self.store.load(conversation_id)

    async def save(self, state: ConversationState, entries: list[TranscriptEntry]) -> None:
        await self.store.save_turn(state, entries)

    async def cancel_tasks(self, goals: list[Goal]) -> None:
        self.cancelled += [(goal.agent, goal.task_id) for goal in goals]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[CaseDesk, StaffSessions, Conversations, Clock]]:
    clock = Clock()
    accounts = {n: StaffCredential(token=f"{n}-token-0123456789abcdef", role="agent") for n in ("ben", "cleo")}
    sessions = StaffSessions(accounts, ConsoleSettings(session_ttl_seconds=TTL), clock=clock)
    store = await SqliteConversationStore.open(tmp_path / "conversations.db")
    conversations = Conversations(store)
    desk = CaseDesk(conversations, sessions, QueueSettings(idle_seconds=IDLE), clock=clock)
    try:
        yield desk, sessions, conversations, clock
    finally:
        await store.close()


async def _escalated(conversations: Conversations, clock: Clock) -> str:
    state, _ = await conversations.store.create("chat")
    async with conversations.editing(state.conversation_id) as loaded:
        loaded.status, loaded.escalated_at = "escalated", clock.now
        await conversations.save(loaded, [])
    return state.conversation_id


async def test_a_lease_lapses_when_the_session_expires(world: tuple) -> None:
    desk, sessions, conversations, clock = world
    case = await _escalated(conversations, clock)
    assert await sessions.sign_in("ben", "ben-token-0123456789abcdef") is not None
    assert await sessions.sign_in("cleo", "cleo-token-0123456789abcdef") is not None
    await desk.take_over(case, "ben")
    clock.now += TTL - 1
    await desk.reply(case, "ben", "still here")  # activity keeps the lease while the session lives
    with pytest.raises(CaseConflict, match="ben took this case"):
        await desk.take_over(case, "cleo")

    assert await desk.position_of(case) is None  # held, not waiting
    clock.now += 2  # ben's session is over; cleo signed in at the same time, so hers is too
    where = await desk.position_of(case)  # counted as waiting again before anyone swept the queue
    assert where is not None and (where.position, where.waiting) == (1, 1)
    assert await sessions.sign_in("cleo", "cleo-token-0123456789abcdef") is not None
    queue = await desk.queue()
    assert [(i.state, i.position, i.taken_by) for i in queue.items] == [("returned", 1, None)]
    assert "ben signed out or their session ended" in queue.items[0].note
    assert queue.items[0].waiting_seconds == TTL + 1  # the full wait: nobody is answering now
    taken = await desk.take_over(case, "cleo")
    assert taken.human is not None and taken.human.name == "cleo"


async def test_a_lease_lapses_when_its_holder_is_idle_and_activity_renews_it(world: tuple) -> None:
    desk, sessions, conversations, clock = world
    case = await _escalated(conversations, clock)
    await sessions.sign_in("ben", "ben-token-0123456789abcdef")
    await sessions.sign_in("cleo", "cleo-token-0123456789abcdef")
    await desk.take_over(case, "ben")
    clock.now += IDLE - 10
    await desk.renew(case, "ben")  # the console's activity signal
    clock.now += IDLE - 10
    assert (await desk.queue()).items[0].state == "idle"  # visible as idle before it lapses
    with pytest.raises(CaseConflict):
        await desk.take_over(case, "cleo")
    clock.now += 20
    taken = await desk.take_over(case, "cleo")  # the lapsed lease is released on the spot
    assert taken.human is not None and taken.human.name == "cleo"
    assert [e.action for e in taken.case_log] == ["take-over", "lapsed", "take-over"]
    assert "idle" in taken.case_log[1].note


async def test_a_take_over_cancels_the_tasks_waiting_for_the_customer_but_not_an_approval(world: tuple) -> None:
    desk, sessions, conversations, clock = world
    case = await _escalated(conversations, clock)
    async with conversations.editing(case) as state:
        state.active = Goal(agent="billing", skill="change-plan", task_id="task-plan")
        state.pending = Goal(agent="payment", skill="refund-charge", task_id="task-refund")
        state.parked = ParkedApproval(approval_id="APR-1", agent="payment", skill="refund-charge", task_id="task-held")
        await conversations.save(state, [])
    assert await sessions.sign_in("ben", "ben-token-0123456789abcdef") is not None

    await desk.take_over(case, "ben")
    assert conversations.cancelled == [("billing", "task-plan"), ("payment", "task-refund")]
    saved = await conversations.store.load(case)
    assert saved.active is None and saved.pending is None
    assert saved.parked is not None and saved.parked.task_id == "task-held"  # the approver's decision still resumes it

    await desk.take_over(case, "ben")  # renewing the lease cancels nothing more
    assert len(conversations.cancelled) == 2
