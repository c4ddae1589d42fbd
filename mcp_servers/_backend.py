"""The common part of every reference backend: its database, idempotent writes, events.

A backend runs on a SQLite file (the embedded default) or in its own PostgreSQL schema
(``SWITCHBOARD_DATABASE_URL``), with the same SQL. A write that changes something a customer
or another system cares about ``emit``s an event inside its own transaction (the
transactional outbox), and consumed events are applied at most once (``apply_once`` records
the event id in the same transaction as its effect). A read method whose statements are
several goes to the database once with them (``reads_together``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

from mcp_servers import _idempotency
from mcp_servers._database import OutboxHandle, Reads, Row, SqliteDatabase, SystemDatabase, Transaction
from mcp_servers._sql import system_database
from shared import outbox
from shared.database import DatabaseURL
from shared.events import new_event

T = TypeVar("T")


# The write transaction the running task is in: reads inside it must see its own writes.
_current: ContextVar[Transaction | None] = ContextVar("backend_transaction", default=None)
# The reads the running task sends together (``reading``), outside any transaction.
_reads: ContextVar[Reads | None] = ContextVar("backend_reads", default=None)


def pence(amount: float) -> int:
    return round(amount * 100)


def pounds(amount_pence: int) -> float:
    return round(amount_pence / 100, 2)


def open_database(system: str, where: Path | DatabaseURL) -> SystemDatabase:
    """A SQLite file, or the system's own schema on the PostgreSQL server ``where`` names."""
    if isinstance(where, DatabaseURL):
        if where.is_postgres:
            from mcp_servers._pg_database import PostgresDatabase

            return PostgresDatabase(system_database(where, system))
        assert where.path is not None
        where = where.path
    return SqliteDatabase(where)


class ReferenceBackend:
    """Opens the system's (seeded) tables; ``idempotent`` and ``apply_once`` are its write paths."""

    system = ""
    """The event source is ``/systems/<system>``."""

    def __init__(self, where: Path | DatabaseURL) -> None:
        self.database = open_database(self.system, where)
        self._commit_hooks: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.database.dialect

    @property
    def lock_rows(self) -> str:
        """`` FOR UPDATE`` on PostgreSQL, where replicas write concurrently; empty on SQLite."""
        return self.database.lock_rows

    async def open(self) -> None:
        await self.database.open(self.system)

    async def close(self) -> None:
        await self.database.close()

    async def open_outbox(self) -> OutboxHandle:
        return await self.database.open_outbox()

    def on_commit(self, hook: Callable[[], None]) -> None:
        """``hook()`` runs after every commit that carried events (the relay's wake-up call)."""
        self._commit_hooks.append(hook)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a lookup (meant for queries that match one row or a few)."""
        return await (_current.get() or _reads.get() or self.database).fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await (_current.get() or _reads.get() or self.database).fetchall(sql, params)

    async def reading(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run ``body``, whose only awaits are this backend's reads, sending them together.

        Inside a write transaction they are simply its reads; nested, the outer one sends them.
        """
        if _current.get() is not None or _reads.get() is not None:
            return await body()

        async def together(reads: Reads) -> T:
            token = _reads.set(reads)
            try:
                return await body()
            finally:
                _reads.reset(token)

        return await self.database.read(together)

    async def blocking(self, work: Callable[[], T]) -> T:
        """``work()``, blocking (a file append), as part of the running write transaction."""
        return await self._transaction().blocking(work)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A change inside the running write transaction; returns the number of rows changed."""
        return await self._transaction().execute(sql, params)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._transaction().executemany(sql, rows)

    async def emit(self, kind: str, data: dict[str, Any], *, subject: str | None) -> None:
        """Put an event in the open write transaction; it exists only if the write commits."""
        tx = self._transaction()
        event = new_event(kind, f"/systems/{self.system}", data, subject=subject)
        await tx.execute(outbox.INSERT, outbox.row(event))
        tx.emitted = True

    async def transaction(self, body: Callable[[], Awaitable[T]], what: str = "") -> T:
        """Run ``body`` as one write transaction (again, whole, if the database connection drops)."""
        if _current.get() is not None:
            raise RuntimeError("write transactions do not nest")
        emitted = False

        async def attempt(tx: Transaction) -> T:
            nonlocal emitted
            token = _current.set(tx)
            try:
                result = await body()
            finally:
                _current.reset(token)
            emitted = tx.emitted
            return result

        result = await self.database.run(attempt, what or f"writing to {self.system}")
        if emitted:
            for hook in self._commit_hooks:
                hook()
        return result

    async def idempotent(
        self, tool: str, key: str, args: dict[str, Any], action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run ``action`` once per key: a repeat returns the first result without acting again.

        The key is claimed first, in the action's transaction: a concurrent call with the same
        key (from this process or another replica) waits on it and then finds the result.
        """

        async def body() -> dict[str, Any]:
            prior = await _idempotency.claim(self._transaction(), tool, key, args)
            if prior is not None:
                return prior
            result = await action()
            await _idempotency.record(self._transaction(), tool, key, result)
            return result

        return await self.transaction(body, f"{tool} on {self.system}")

    async def apply_once(self, event_id: str, action: Callable[[], Awaitable[None]]) -> bool:
        """Apply a consumed event's effect and remember its id, together; False if seen before."""

        async def body() -> bool:
            claimed = await self.execute(
                "INSERT INTO applied_events (event_id, applied_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING",
                (event_id, time.time()),
            )
            if not claimed:
                return False
            await action()
            return True

        return await self.transaction(body, f"applying event {event_id} on {self.system}")

    def _transaction(self) -> Transaction:
        tx = _current.get()
        if tx is None:
            raise RuntimeError("a write outside a transaction (use idempotent, apply_once or transaction)")
        return tx


def reads_together[F: Callable[..., Awaitable[Any]]](method: F) -> F:
    """A read method of several statements that go to the database together (``reading``)."""

    @functools.wraps(method)
    async def together(self: ReferenceBackend, /, *args: Any, **kwargs: Any) -> Any:
        return await self.reading(lambda: method(self, *args, **kwargs))

    return cast(F, together)
