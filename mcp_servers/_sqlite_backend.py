"""The common part of every reference backend: one SQLite connection, idempotent writes, events.

A write that changes something a customer or another system cares about ``emit``s an event
inside its own transaction (the transactional outbox), and consumed events are applied at
most once (``apply_once`` records the event id in the same transaction as its effect).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from mcp_servers import _idempotency
from shared import outbox
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.events import new_event
from shared.sqlite import connect

APPLIED_DDL = """
CREATE TABLE IF NOT EXISTS applied_events (
    event_id TEXT PRIMARY KEY,
    applied_at REAL NOT NULL
);
"""


def pence(amount: float) -> int:
    return round(amount * 100)


def pounds(amount_pence: int) -> float:
    return round(amount_pence / 100, 2)


class SqliteBackend:
    """Opens ``path`` (seeded beforehand) and serialises writes so idempotency keys cannot race."""

    schema = ""
    system = ""
    """The event source is ``/systems/<system>``."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._commit_hooks: list[Callable[[], None]] = []
        self._emitted = False

    @property
    def path(self) -> Path:
        return self._path

    def on_commit(self, hook: Callable[[], None]) -> None:
        """``hook()`` runs after every commit that carried events (the relay's wake-up call)."""
        self._commit_hooks.append(hook)

    async def emit(self, kind: str, data: dict[str, Any], *, subject: str | None) -> None:
        """Put an event in the open write transaction; it exists only if the write commits."""
        await outbox.enqueue(self.db, new_event(kind, f"/systems/{self.system}", data, subject=subject))
        self._emitted = True

    def _committed(self) -> None:
        if self._emitted:
            self._emitted = False
            for hook in self._commit_hooks:
                hook()

    async def apply_once(self, event_id: str, action: Callable[[], Awaitable[None]]) -> bool:
        """Apply a consumed event's effect and remember its id, together; False if seen before."""
        async with self._write_lock:
            if await self.fetchone("SELECT 1 FROM applied_events WHERE event_id = ?", (event_id,)):
                return False
            try:
                await action()
                await self.db.execute("INSERT INTO applied_events VALUES (?, ?)", (event_id, time.time()))
                await self.db.commit()
            except BaseException:
                self._emitted = False
                await self.db.rollback()
                raise
        self._committed()
        return True

    async def open(self) -> None:
        if not self._path.exists():
            raise ConfigurationError(
                f"no database at {self._path}",
                hint="seed the reference dataset first (dataset.ensure_seeded)",
            )
        self._db = await connect(self._path)
        await self._db.executescript(self.schema + _idempotency.DDL + outbox.DDL + APPLIED_DDL)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise ServiceUnavailable("the backend is not open", hint="retry once the server has started")
        return self._db

    # Every aiosqlite step is a hop to its thread and back; execute, fetch and close through a
    # cursor are three, ``execute_fetchall`` is one. Reads sit on every tool call's path.

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        """The first row of a lookup (meant for queries that match one row or a few)."""
        rows = await self.db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def idempotent(
        self, tool: str, key: str, args: dict[str, Any], action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run ``action`` once per key: a repeat returns the first result without acting again."""
        async with self._write_lock:
            prior = await _idempotency.lookup(self.db, tool, key, args)
            if prior is not None:
                return prior
            try:
                result = await action()
                await _idempotency.record(self.db, tool, key, args, result)
                await self.db.commit()
            except BaseException:
                self._emitted = False
                await self.db.rollback()
                raise
        self._committed()
        return result
