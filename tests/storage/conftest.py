"""One fixture, every backend: each storage test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from orchestrator.conversations import ConversationStore
from orchestrator.storage import open_conversation_store
from tests.storage.pg import private_schema
from tests.storage.test_audit_store import Governance

StoreFactory = Callable[[], "object"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL of each backend, private to the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'switchboard.db'}"
        return
    async with private_schema() as url:
        yield url


@pytest.fixture
async def governance_on_postgres(tmp_path: Path) -> AsyncIterator[Governance]:
    """The gateway's stores on a PostgreSQL schema private to the test."""
    async with private_schema() as url:
        opened = Governance(url, tmp_path)
        try:
            yield opened
        finally:
            await opened.close_all()


class Replicas:
    """Conversation stores opened on one database, as separate orchestrator replicas would."""

    def __init__(self, url: str, default: Path) -> None:
        self.url = url
        self._default = default
        self._open: list[ConversationStore] = []

    async def open(self) -> ConversationStore:
        store = await open_conversation_store(self.url, default_sqlite=self._default)
        self._open.append(store)
        return store

    async def close(self) -> None:
        for store in self._open:
            await store.close()


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[Replicas]:
    opened = Replicas(database_url, tmp_path / "unused.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(replicas: Replicas) -> ConversationStore:
    return await replicas.open()
