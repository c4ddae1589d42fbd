"""Where a reference backend keeps its tables: one interface, a SQLite and a PostgreSQL side.

Backends see ``fetchone``/``fetchall`` for reads, ``read(body)`` for several reads together
and ``run(body)`` for a write transaction; ``body`` gets a ``Transaction`` whose ``execute``
returns the number of rows changed. Rows support ``row["column"]``, ``row[0]`` and
``dict(row)`` on both sides.

On SQLite a body runs whole on its connection's thread, in one trip from the event loop: a
trip costs more CPU than the statements of a typical tool call, and a governed call made
one per statement. Such a body may await only its statements (``blocking`` for other blocking
work); anything else is refused and its transaction rolled back.
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.migrations import migrate
from shared.outbox import OutboxStore, SqliteOutbox
from shared.sqlite import connect_sync, in_transaction
from shared.thread_worker import ThreadWorker

T = TypeVar("T")
Row = Any
"""``sqlite3.Row`` or ``asyncpg.Record``: both index by column name and position."""


class Reads(Protocol):
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Transaction(Reads, Protocol):
    emitted: bool
    """Set when the transaction carries an outbox event (the relay is woken after commit)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def blocking[R](self, work: Callable[[], R]) -> R:
        """``work()`` (blocking, e.g. a file append) as part of the transaction, off the event loop."""
        ...


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
    async def read(self, body: Callable[[Reads], Awaitable[T]]) -> T:
        """``body``'s reads of committed rows, together (one trip on SQLite); no transaction."""
        ...

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


class _Statements:
    """Statements run where they are called: on the connection's own thread, by a body that
    ``run_here`` drives there. Each method is a coroutine (the ``Transaction`` and ``Reads``
    protocols are async, for PostgreSQL) that finishes without ever suspending.
    """

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

    async def blocking[R](self, work: Callable[[], R]) -> R:
        # Already off the event loop: the connection's thread may block.
        return work()


def run_here[R](body: Coroutine[Any, Any, R]) -> R:
    """Run ``body`` to its end on this thread; it may await only ``_Statements`` methods.

    A body that suspends (awaits the event loop: a lock, a sleep, a thread) cannot finish here;
    it is closed and refused, so its transaction rolls back and says why.
    """
    try:
        body.send(None)
    except StopIteration as done:
        return cast(R, done.value)
    body.close()
    raise RuntimeError(
        "a SQLite transaction or read may await only its own statements (use ``blocking`` for blocking work)"
    )


def _transact[R](conn: sqlite3.Connection, body: Callable[[Transaction], Awaitable[R]]) -> R:
    """The whole write transaction in one trip to the writer's thread: nothing else runs between."""
    return in_transaction(conn, lambda _: run_here(_coroutine(body(_Statements(conn)))))


def _coroutine[R](awaitable: Awaitable[R]) -> Coroutine[Any, Any, R]:
    if not isinstance(awaitable, Coroutine):
        raise TypeError(f"a transaction or read body must be a coroutine function, not {type(awaitable).__name__}")
    return awaitable


class SqliteDatabase:
    """One SQLite file (seeded beforehand) on two connections, each owned by a worker thread.

    No statement runs on the event loop. Reads outside a transaction use the reader's
    connection (WAL: they see what is committed and never wait for a writer); a write
    transaction runs whole, in one work item, on the writer's thread, so this process's write
    transactions are one at a time on it. Waiting for another process's write lock happens
    inside SQLite on the writer's thread (``busy_timeout``).
    """

    dialect = "sqlite"
    lock_rows = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._reader: _Connection | None = None
        self._writer: _Connection | None = None

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

    async def read(self, body: Callable[[Reads], Awaitable[T]]) -> T:
        # The caller's context goes with the body (the backend's open transaction, tracing).
        context = contextvars.copy_context()
        return await self._thread(self._reader).call(
            lambda conn: context.run(lambda: run_here(_coroutine(body(_Statements(conn)))))
        )

    async def run(self, body: Callable[[Transaction], Awaitable[T]], what: str) -> T:
        # Once on the thread the transaction commits or rolls back whole, even if the caller
        # stops waiting (as a statement already sent to a server would).
        context = contextvars.copy_context()
        return await self._thread(self._writer).call(lambda conn: context.run(_transact, conn, body))

    async def open_outbox(self) -> OutboxHandle:
        # Its own connection: the relay's commits must never commit half of a backend write.
        return await SqliteOutbox.open(self.path)
