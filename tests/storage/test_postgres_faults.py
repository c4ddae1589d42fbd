"""PostgreSQL dropping every connection mid-conversation: the next turn still lands, once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.conversations import TranscriptEntry
from orchestrator.storage import open_conversation_store
from tests.storage.pg import private_schema, terminate_backends


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with private_schema() as url:
        yield url


async def test_turns_continue_after_the_server_drops_every_connection(pg_url: str, tmp_path: Path) -> None:
    store = await open_conversation_store(pg_url, default_sqlite=tmp_path / "unused.db")
    try:
        state, token = await store.create("chat")
        first = await store.load(state.conversation_id)
        first.turns = 1
        await store.save_turn(first, [TranscriptEntry(at=time.time(), role="customer", text="one", channel="chat")])

        assert await terminate_backends(pg_url) >= 1

        await store.authorize(state.conversation_id, token)
        second = await store.load(state.conversation_id)
        second.turns = 2
        await store.save_turn(second, [TranscriptEntry(at=time.time(), role="customer", text="two", channel="chat")])
        assert await terminate_backends(pg_url) >= 1
        assert [e.text for e in await store.transcript(state.conversation_id)] == ["one", "two"]
        assert (await store.load(state.conversation_id)).turns == 2
    finally:
        await store.close()
