"""Opening SQLite the same way everywhere.

WAL with ``synchronous=NORMAL`` keeps every commit durable against a process crash (what
"stop every process and start again" needs) at a fraction of a millisecond per commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.thread_worker import ThreadWorker

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


def connect_sync(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A plain connection in autocommit mode (transactions explicit) with the same tuning.

    Blocking: open it, and use it, off the event loop (``SqliteThread`` does both).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return conn


class SqliteThread:
    """One SQLite connection owned by one worker thread: statements never run on the event loop.

    Work is a plain function of the connection and runs on the thread in the order it was
    submitted, one at a time, so a write transaction (``write``) is never interleaved with
    anything else on this connection. The thread may wait inside SQLite for another process's
    write lock (``busy_timeout``) without stalling the loop.
    """

    def __init__(self, conn: sqlite3.Connection, worker: ThreadWorker) -> None:
        self._conn = conn
        self._worker = worker

    @classmethod
    async def open(cls, path: Path | str, *, name: str, row_factory: Callable[..., Any] | None = None) -> SqliteThread:
        # A ``ThreadWorker``, not a one-thread executor: its hand-off costs about half the CPU.
        worker = ThreadWorker(name)

        def connect() -> sqlite3.Connection:
            conn = connect_sync(path)
            if row_factory is not None:
                conn.row_factory = row_factory
            return conn

        try:
            conn = await worker.run(connect)
        except BaseException:
            worker.close(wait=False)
            raise
        return cls(conn, worker)

    async def call[T](self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(conn)`` on the connection's thread."""
        conn = self._conn
        return await self._worker.run(lambda: work(conn))

    async def write[T](self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(conn)`` in one write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) on the thread."""
        return await self.call(lambda conn: in_transaction(conn, work))

    async def close(self) -> None:
        try:
            await self.call(lambda conn: conn.close())
        finally:
            self._worker.close(wait=False)


def in_transaction[T](conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work(conn)`` inside BEGIN IMMEDIATE ... COMMIT, rolled back if it raises (blocking)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result
