"""Export reads conversations from whichever database the orchestrator keeps them in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.conversations import TranscriptEntry
from orchestrator.export import Feed, FileSink, build_vcon, conversation_ids, load_conversation
from orchestrator.export.source import finished_conversations
from orchestrator.storage import open_conversation_store
from shared.errors import InvalidRequest, NotFound, ServiceUnavailable
from tests.storage.conftest import database_url  # noqa: F401  (fixture: each backend)
from tests.storage.pg import private_schema


async def _write(url: str, data_dir: Path) -> tuple[str, str]:
    """A closed and an active conversation, written by the orchestrator's own store."""
    store = await open_conversation_store(url, default_sqlite=data_dir / "conversations.db")
    try:
        ids = []
        for status, words in (("closed", "I was charged twice"), ("active", "my data is slow")):
            state, _ = await store.create("chat")
            state.status = status  # type: ignore[assignment]
            now = time.time()
            entries = [
                TranscriptEntry(at=now, role="customer", text=words, channel="chat", trace_id="t1"),
                TranscriptEntry(at=now, role="agent", text="Let me look.", channel="chat", agent="billing"),
            ]
            await store.save_turn(state, entries)
            ids.append(state.conversation_id)
        return ids[0], ids[1]
    finally:
        await store.close()


async def test_one_a_range_and_the_feed_from_each_backend(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    closed, active = await _write(database_url, tmp_path)
    record = load_conversation(tmp_path, closed, database_url=database_url)
    assert record.state.status == "closed"
    assert [e.text for e in record.transcript] == ["I was charged twice", "Let me look."]
    vcon = build_vcon(record)
    assert len(vcon.dialog) == 2 and vcon.uuid

    assert conversation_ids(tmp_path, database_url=database_url) == [closed, active]
    assert conversation_ids(tmp_path, since=0, until=1_000, database_url=database_url) == []
    now = time.time()
    assert [c for c, _ in finished_conversations(tmp_path, now=now, idle_seconds=600, database_url=database_url)] == [
        closed
    ]
    later = finished_conversations(tmp_path, now=now + 1200, idle_seconds=600, database_url=database_url)
    assert [c for c, _ in later] == [closed, active]
    with pytest.raises(NotFound):
        load_conversation(tmp_path, "conv-nope", database_url=database_url)

    out = tmp_path / "feed.ndjson"
    feed = Feed(tmp_path, FileSink(out), tmp_path / "feed.cursor", idle_seconds=600, database_url=database_url)
    assert feed.poll() == [closed]
    assert feed.poll() == []
    assert len(out.read_text().splitlines()) == 1


async def test_postgres_without_conversations_or_server_is_a_clear_error(tmp_path: Path) -> None:
    async with private_schema() as empty:
        with pytest.raises(InvalidRequest, match="no conversations"):
            conversation_ids(tmp_path, database_url=empty)
    with pytest.raises(ServiceUnavailable, match="cannot reach PostgreSQL"):
        conversation_ids(tmp_path, database_url="postgresql://switchboard@127.0.0.1:1/none")
