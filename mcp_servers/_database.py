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
from shared.sqlite import SqliteThread

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
    """Statements of one write transaction, each run on the writer's thread."""

    def __init__(self, writer: SqliteThread) -> None:
        self._writer = writer
        self.emitted = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._writer.call(lambda conn: conn.execute(sql, params).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        await self._writer.call(lambda conn: conn.executemany(sql, rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._writer.call(lambda conn: conn.execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._writer.call(lambda conn: conn.execute(sql, params).fetchall())


class SqliteDatabase:
    """One SQLite file (seeded beforehand) on two connections, each owned by a worker thread.

    No statement runs on the event loop. Reads outside a transaction use the reader's
    connection (WAL: they see what is committed and never wait for a writer); a write
    transaction runs statement by statement on the writer's connection, and an in-process lock
    keeps this process's write transactions one at a time on it. Waiting for another process's
    write lock happens inside SQLite on the writer's thread (``busy_timeout``).
    """

    dialect = "sqlite"
    lock_rows = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._reader: SqliteThread | None = None
        self._writer: SqliteThread | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, store: str) -> None:
        if not self.path.exists():
            raise ConfigurationError(
                f"no database at {self.path}",
                hint="seed the reference dataset first (dataset.ensure_seeded)",
            )
        await migrate(DatabaseURL("sqlite", path=self.path), store)
        self._reader = await SqliteThread.open(self.path, name=f"{store}-read", row_factory=sqlite3.Row)
        self._writer = await SqliteThread.open(self.path, name=f"{store}-write", row_factory=sqlite3.Row)

    async def close(self) -> None:
        for thread in (self._writer, self._reader):
            if thread is not None:
                await thread.close()
        self._reader = self._writer = None

    def _thread(self, which: SqliteThread | None) -> SqliteThread:
        if which is None:
            raise ServiceUnavailable("the backend is not open", hint="retry once the server has started")
        return which

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._thread(self._reader).call(lambda conn: conn.execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._thread(self._reader).call(lambda conn: conn.execute(sql, params).fetchall())

    async def run(self, body: Callable[[Transaction], Awaitable[T]], what: str) -> T:
        writer = self._thread(self._writer)
        async with self._write_lock:
            await writer.call(lambda conn: conn.execute("BEGIN IMMEDIATE"))
            try:
                result = await body(_SqliteTransaction(writer))
                await writer.call(lambda conn: conn.execute("COMMIT"))
            except BaseException:
                await asyncio.shield(writer.call(_rollback))
                raise
            return result

    async def open_outbox(self) -> OutboxHandle:
        # Its own connection: the relay's commits must never commit half of a backend write.
        return await SqliteOutbox.open(self.path)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
