"""Where a reference backend keeps its tables: one interface, a SQLite and a PostgreSQL side.

Backends see ``fetchone``/``fetchall`` for reads and ``run(body)`` for a write transaction;
``body`` gets a ``Transaction`` whose ``execute`` returns the number of rows changed. Rows
support ``row["column"]``, ``row[0]`` and ``dict(row)`` on both sides.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.migrations import migrate
from shared.outbox import OutboxStore, SqliteOutbox
from shared.sqlite import connect_sync, immediate_transaction

T = TypeVar("T")
Row = Any
"""``sqlite3.Row`` or ``asyncpg.Record``: both index by column name and position."""


class Transaction(Protocol):
    emitted: bool
    """Set when the transaction carries an outbox event (the relay is woken after commit)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class OutboxHandle(OutboxStore, Protocol):
    async def close(self) -> None: ...


class SystemDatabase(Protocol):
    dialect: str
    lock_rows: str
    """Appended to a SELECT inside a transaction to lock the rows it reads (empty on SQLite,
    whose single writer already excludes every other one)."""

    async def open(self, store: str) -> None:
        """Connect, once ``store``'s tables are at this release's revision (``shared.migrations``)."""
        ...

    async def close(self) -> None: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def run(self, body: Callable[[Transaction], Awaitable[T]], what: str) -> T: ...
    async def open_outbox(self) -> OutboxHandle: ...


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.emitted = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._conn.execute(sql, params).fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


class SqliteDatabase:
    """One SQLite file (seeded beforehand) on one ``sqlite3`` connection on the event loop thread.

    A backend statement is an indexed lookup or a one-row write: tens of microseconds in WAL
    mode, less than the hop to a worker thread that ``aiosqlite`` pays per statement, and every
    tool call makes several. The connection never waits inside SQLite for a lock another
    process holds (``busy_timeout`` 0), so the loop cannot stall: starting a write backs off
    asynchronously instead. An in-process lock serialises this process's writes.
    """

    dialect = "sqlite"
    lock_rows = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, store: str) -> None:
        if not self.path.exists():
            raise ConfigurationError(
                f"no database at {self.path}",
                hint="seed the reference dataset first (dataset.ensure_seeded)",
            )
        await migrate(DatabaseURL("sqlite", path=self.path), store)
        conn = connect_sync(self.path, busy_timeout_ms=0)
        conn.row_factory = sqlite3.Row
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ServiceUnavailable("the backend is not open", hint="retry once the server has started")
        return self._conn

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self.conn.execute(sql, params).fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    async def run(self, body: Callable[[Transaction], Awaitable[T]], what: str) -> T:
        async with self._write_lock, immediate_transaction(self.conn) as conn:
            return await body(_SqliteTransaction(conn))

    async def open_outbox(self) -> OutboxHandle:
        # Its own connection: the relay's commits must never commit half of a backend write.
        return await SqliteOutbox.open(self.path)
