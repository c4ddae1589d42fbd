"""The conversation store's contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator.conversations import ConversationConflict, ConversationStore, Goal, TranscriptEntry
from shared.envelope import CustomerKeys, CustomerRef
from shared.errors import NotFound, Unauthenticated
from tests.storage.conftest import Replicas


def entry(text: str, role: str = "customer") -> TranscriptEntry:
    return TranscriptEntry(at=time.time(), role=role, text=text, channel="chat")  # type: ignore[arg-type]


async def test_a_turn_round_trips(store: ConversationStore) -> None:
    state, token = await store.create("voice")
    await store.authorize(state.conversation_id, token)
    loaded = await store.load(state.conversation_id)
    loaded.turns = 1
    loaded.customer = CustomerRef(keys=CustomerKeys(customer_id="CUST-1", email="ada@example.com"), display_name="Ada")
    loaded.active = Goal(agent="billing", skill="explain-bill", task_id="task-7", asking="identifier")
    await store.save_turn(loaded, [entry("why is my bill high?"), entry("Your bill rose because ...", "agent")])

    again = await store.load(state.conversation_id)
    assert again.model_dump() == loaded.model_dump()
    assert again.channel == "voice" and again.active is not None and again.active.task_id == "task-7"
    assert [(e.seq, e.role) for e in await store.transcript(state.conversation_id)] == [
        (1, "customer"),
        (2, "agent"),
    ]
    assert [c.conversation_id for c in await store.conversations_for_customer(again.customer.customer_id)] == [
        state.conversation_id
    ]


async def test_wrong_token_and_unknown_conversation_look_the_same(store: ConversationStore) -> None:
    state, _ = await store.create("chat")
    with pytest.raises(Unauthenticated) as wrong:
        await store.authorize(state.conversation_id, "not-the-token")
    with pytest.raises(Unauthenticated) as unknown:
        await store.authorize("conv-nope", "whatever")
    assert wrong.value.message == unknown.value.message
    with pytest.raises(NotFound):
        await store.load("conv-nope")


async def test_a_token_once_accepted_opens_only_its_own_conversation(store: ConversationStore) -> None:
    state, token = await store.create("chat")
    other, other_token = await store.create("chat")
    for _ in range(3):  # every turn of a conversation presents its token again
        await store.authorize(state.conversation_id, token)
    for conversation_id, presented in (
        (state.conversation_id, "not-the-token"),
        (state.conversation_id, other_token),
        (other.conversation_id, token),
        (state.conversation_id, ""),
    ):
        with pytest.raises(Unauthenticated):
            await store.authorize(conversation_id, presented)
    await store.authorize(other.conversation_id, other_token)


async def test_a_turn_on_another_replica_continues_the_conversation(replicas: Replicas) -> None:
    first, second = await replicas.open(), await replicas.open()
    state, token = await first.create("chat")
    turn = await first.load(state.conversation_id)
    turn.turns += 1
    await first.save_turn(turn, [entry("hello"), entry("hi", "agent")])

    await second.authorize(state.conversation_id, token)
    turn = await second.load(state.conversation_id)
    assert turn.turns == 1
    turn.turns += 1
    await second.save_turn(turn, [entry("and again"), entry("sure", "agent")])

    assert [e.seq for e in await first.transcript(state.conversation_id)] == [1, 2, 3, 4]
    assert (await first.load(state.conversation_id)).turns == 2


async def test_two_replicas_saving_one_conversation_do_not_lose_updates(replicas: Replicas) -> None:
    first, second = await replicas.open(), await replicas.open()
    state, _ = await first.create("chat")
    mine, theirs = await first.load(state.conversation_id), await second.load(state.conversation_id)
    mine.summaries.append("first replica")
    theirs.summaries.append("second replica")
    await first.save_turn(mine, [entry("one")])

    with pytest.raises(ConversationConflict) as refused:
        await second.save_turn(theirs, [entry("two")])
    assert refused.value.http_status == 409

    # The first turn is intact and the refused one wrote nothing; reloading lets it go on.
    stored = await second.load(state.conversation_id)
    assert stored.summaries == ["first replica"]
    assert [e.text for e in await second.transcript(state.conversation_id)] == ["one"]
    stored.summaries.append("second replica")
    await second.save_turn(stored, [entry("two")])
    assert [e.text for e in await first.transcript(state.conversation_id)] == ["one", "two"]


async def test_concurrent_turns_keep_every_counter_increment(replicas: Replicas) -> None:
    """Many writers, each retrying on conflict as a client would: no increment and no entry is lost."""
    stores = [await replicas.open(), await replicas.open()]
    state, _ = await stores[0].create("chat")

    async def bump(store: ConversationStore, n: int) -> None:
        while True:
            current = await store.load(state.conversation_id)
            current.turns += 1
            try:
                await store.save_turn(current, [entry(f"turn {n}")])
                return
            except ConversationConflict:
                continue

    await asyncio.gather(*(bump(stores[i % 2], i) for i in range(12)))
    final = await stores[1].load(state.conversation_id)
    transcript = await stores[1].transcript(state.conversation_id)
    assert final.turns == 12
    assert sorted(e.text for e in transcript) == sorted(f"turn {i}" for i in range(12))
    assert [e.seq for e in transcript] == list(range(1, 13))


async def test_saving_a_conversation_that_does_not_exist_is_not_found(store: ConversationStore) -> None:
    state, _ = await store.create("chat")
    ghost = state.model_copy(update={"conversation_id": "conv-ghost"})
    with pytest.raises(NotFound):
        await ghost_save(store, ghost)


async def ghost_save(store: ConversationStore, state) -> None:  # type: ignore[no-untyped-def]
    await store.save_turn(state, [entry("into the void")])


async def test_sqlite_turn_waits_for_another_writer_without_stalling_the_loop(tmp_path) -> None:
    """A process holding the file's write lock delays the save; the event loop keeps serving."""
    import sqlite3

    from orchestrator.conversations import SqliteConversationStore

    path = tmp_path / "conversations.db"
    store = await SqliteConversationStore.open(path)
    try:
        state, _ = await store.create("chat")
        state = await store.load(state.conversation_id)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction, left open

        saving = asyncio.create_task(store.save_turn(state, [entry("hello")]))
        ticks = 0
        while not saving.done() and ticks < 3:
            await asyncio.sleep(0)  # the loop is free: this task runs while the save backs off
            ticks += 1
        assert not saving.done() and ticks == 3
        assert await store.transcript(state.conversation_id) == []  # reads are not blocked either

        other.execute("ROLLBACK")
        other.close()
        await saving
        assert [e.text for e in await store.transcript(state.conversation_id)] == ["hello"]
    finally:
        await store.close()
