"""A reference backend's tables in one PostgreSQL schema, shared by every replica of the system.

Each write is one transaction on its own pooled connection, so replicas and concurrent calls
exclude each other with the database's own locks (unique keys, ``FOR UPDATE``), not with an
in-process lock. An operation that loses its connection is run again on a fresh one; a
transaction cut off that way was rolled back, so nothing is ever half-written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from mcp_servers._database import OutboxHandle, Reads, Row, Transaction
from mcp_servers._sql import to_postgres
from shared.database import DatabaseURL, Retry, create_pool
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.migrations import migrate
from shared.outbox import PostgresOutbox

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")

SEEDED_MARKER = "dataset_info"
"""The table seeding writes last: a schema without it holds no reference dataset."""


def tables_lock(schema: str) -> str:
    """The advisory lock that serialises creating (and seeding) one schema's tables."""
    return f"switchboard.tables.{schema}"


def _count(status: str) -> int:
    """Rows changed, from asyncpg's command tag ("UPDATE 2", "INSERT 0 1", "SELECT 3")."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class _PostgresTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.emitted = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _count(await self._conn.execute(to_postgres(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(to_postgres(sql), rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._conn.fetchrow(to_postgres(sql), *params)
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = await self._conn.fetch(to_postgres(sql), *params)
        return rows

    async def blocking[R](self, work: Callable[[], R]) -> R:
        return await asyncio.to_thread(work)


class PostgresDatabase:
    dialect = "postgresql"
    lock_rows = " FOR UPDATE"

    def __init__(self, db: DatabaseURL) -> None:
        assert db.schema, "every system has a schema of its own"
        self.db = db
        self._pool: asyncpg.Pool | None = None
        self._read: Retry | None = None

    async def open(self, store: str) -> None:
        pool = await create_pool(self.db)
        try:
            await migrate(self.db, store)
            seeded = await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", SEEDED_MARKER)
        except BaseException:
            await pool.close()
            raise
        if not seeded:
            await pool.close()
            raise ConfigurationError(
                f"no reference dataset in PostgreSQL schema {self.db.schema}",
                hint="run 'switchboard prepare' with the same SWITCHBOARD_DATABASE_URL first",
            )
        self._pool = pool
        self._read = Retry(f"reading {self.db.schema}", pool)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise ServiceUnavailable("the backend is not open", hint="retry once the server has started")
        return self._pool

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        pool, query = self.pool, to_postgres(sql)
        assert self._read is not None
        return await self._read.run(lambda _: pool.fetchrow(query, *params))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        pool, query = self.pool, to_postgres(sql)
        assert self._read is not None
        return await self._read.run(lambda _: pool.fetch(query, *params))

    async def read(self, body: Callable[[Reads], Awaitable[T]]) -> T:
        # Each read takes a pooled connection of its own, as a lone read does.
        return await body(self)

    async def run(self, body: Callable[[Transaction], Awaitable[T]], what: str) -> T:
        pool = self.pool

        async def attempt(_: int) -> T:
            async with pool.acquire() as conn, conn.transaction():
                return await body(_PostgresTransaction(conn))

        return await Retry(what, pool).run(attempt)

    async def open_outbox(self) -> OutboxHandle:
        return PostgresOutbox(self.pool)
