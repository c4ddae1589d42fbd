"""Choosing the conversation store from the database URL (``SWITCHBOARD_DATABASE_URL``).

SQLite is the embedded default; PostgreSQL lets several orchestrator replicas share
conversations. Both implement ``orchestrator.conversations.ConversationStore``.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.conversations import ConversationStore, SqliteConversationStore
from shared.database import DatabaseURL

__all__ = ["open_conversation_store"]


async def open_conversation_store(url: str | None, *, default_sqlite: Path) -> ConversationStore:
    """The store ``url`` names, or SQLite at ``default_sqlite`` when it names none."""
    db = DatabaseURL.parse(url, default_sqlite=default_sqlite)
    if db.is_postgres:
        from orchestrator.storage.postgres import PostgresConversationStore

        return await PostgresConversationStore.open(db)
    assert db.path is not None
    return await SqliteConversationStore.open(db.path)
