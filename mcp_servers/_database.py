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
from shared.sqlite import connect_sync
from shared.thread_worker import ThreadWorker

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


class _Connection:
    """One SQLite connection and the thread that owns it: its statements never run on the loop."""

    def __init__(self, conn: sqlite3.Connection, worker: ThreadWorker) -> None:
        self._conn = conn
        self._worker = worker

    @classmethod
    async def open(cls, path: Path, *, name: str) -> _Connection:
        worker = ThreadWorker(name)

        def connect() -> sqlite3.Connection:
            conn = connect_sync(path)
            conn.row_factory = sqlite3.Row
            return conn

        try:
            conn = await worker.run(connect)
        except BaseException:
            worker.close(wait=False)
            raise
        return cls(conn, worker)

    def call(self, work: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        """``work(conn)`` on the connection's thread, after everything queued before it."""
        conn = self._conn
        return self._worker.run(lambda: work(conn))

    async def close(self) -> None:
        try:
            await self.call(lambda conn: conn.close())
        finally:
            self._worker.close(wait=False)


class _SqliteTransaction:
    """Statements of one write transaction, each run on the writer's thread.

    ``BEGIN IMMEDIATE`` goes with the first statement, in the same trip to the thread: the
    write lock is still taken before anything is read or written.
    """

    def __init__(self, writer: _Connection) -> None:
        self._writer = writer
        self.begun = False
        self.emitted = False

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        if self.begun:
            return self._writer.call(work)
        self.begun = True
        return self._writer.call(lambda conn: _begun(conn, work))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._call(lambda conn: conn.execute(sql, params).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        await self._call(lambda conn: conn.executemany(sql, rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._call(lambda conn: conn.execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._call(lambda conn: conn.execute(sql, params).fetchall())


def _begun[T](conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    return work(conn)


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
        self._reader: _Connection | None = None
        self._writer: _Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, store: str) -> None:
        if not self.path.exists():
            raise ConfigurationError(
                f"no database at {self.path}",
                hint="seed the reference dataset first (dataset.ensure_seeded)",
            )
        await migrate(DatabaseURL("sqlite", path=self.path), store)
        self._reader = await _Connection.open(self.path, name=f"{store}-read")
        self._writer = await _Connection.open(self.path, name=f"{store}-write")

    async def close(self) -> None:
        for thread in (self._writer, self._reader):
            if thread is not None:
                await thread.close()
        self._reader = self._writer = None

    def _thread(self, which: _Connection | None) -> _Connection:
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
            tx = _SqliteTransaction(writer)
            try:
                result = await body(tx)
                if tx.begun:
                    await writer.call(lambda conn: conn.execute("COMMIT"))
            except BaseException:
                if tx.begun:
                    await asyncio.shield(writer.call(_rollback))
                raise
            return result

    async def open_outbox(self) -> OutboxHandle:
        # Its own connection: the relay's commits must never commit half of a backend write.
        return await SqliteOutbox.open(self.path)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
