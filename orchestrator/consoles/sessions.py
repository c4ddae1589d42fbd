"""Where staff sessions are kept: in memory, in SQLite, or in PostgreSQL when orchestrator replicas share them.

A record holds who signed in, their role, the CSRF token and the expiry, keyed by a digest of
the cookie, so the store never holds a usable session id. The person's staff token is not
stored: it is looked up from the accounts when the session is used, so removing an account
ends its sessions too.

The embedded default keeps them in ``console_sessions.db`` in the data directory, which every
orchestrator process of ``switchboard up --workers`` reads; ``up`` empties it at every start
(``orchestrator.shared_files.sign_staff_out``),
so a restart signs everyone out, the safe failure for staff access. Behind a load balancer
each request may reach another replica, so with a PostgreSQL ``SWITCHBOARD_DATABASE_URL`` the
records live in the database every replica reads. Memory is for one process that is given
no file (tests, embedding the app).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.database import DatabaseURL, LazyPool, Retry
from shared.migrations import migrate, sqlite_store
from shared.sqlite import SqliteThread

if TYPE_CHECKING:
    from shared.secrets import StaffRole


@dataclass(frozen=True, slots=True)
class SessionRecord:
    name: str
    role: StaffRole
    csrf_token: str
    expires_at: float


class SessionRecords(Protocol):
    """Session records by key; expired ones may linger until ``prune`` and are ignored by callers."""

    async def put(self, key: str, record: SessionRecord, *, now: float, keep: int) -> None:
        """Store ``record``, dropping expired records and, past ``keep``, the oldest."""
        ...

    async def get(self, key: str) -> SessionRecord | None: ...

    async def delete(self, key: str) -> None: ...

    async def signed_in(self, name: str, now: float) -> bool:
        """Whether ``name`` has a session that has not expired (what keeps their case leases)."""
        ...

    async def count(self) -> int: ...

    async def close(self) -> None: ...


class MemorySessionRecords:
    def __init__(self) -> None:
        self._records: dict[str, SessionRecord] = {}

    async def put(self, key: str, record: SessionRecord, *, now: float, keep: int) -> None:
        for stale in [k for k, r in self._records.items() if r.expires_at <= now]:
            del self._records[stale]
        while len(self._records) >= keep:
            del self._records[min(self._records, key=lambda k: self._records[k].expires_at)]
        self._records[key] = record

    async def get(self, key: str) -> SessionRecord | None:
        return self._records.get(key)

    async def delete(self, key: str) -> None:
        self._records.pop(key, None)

    async def signed_in(self, name: str, now: float) -> bool:
        return any(r.name == name and r.expires_at > now for r in self._records.values())

    async def count(self) -> int:
        return len(self._records)

    async def close(self) -> None:
        self._records.clear()


_PRUNE = """
DELETE FROM console_sessions WHERE expires_at <= $1
   OR key IN (SELECT key FROM console_sessions ORDER BY expires_at DESC OFFSET $2)
"""


class PostgresSessionRecords:
    """Records in PostgreSQL; the pool opens on first use, so building the app needs no server."""

    def __init__(self, db: DatabaseURL, *, max_connections: int | None = None) -> None:
        self._pool = LazyPool(db, "console_sessions", what="console session", max_size=max_connections)

    async def put(self, key: str, record: SessionRecord, *, now: float, keep: int) -> None:
        pool = await self._pool.get()

        async def write(_: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_PRUNE, now, max(keep - 1, 0))
                await conn.execute(
                    "INSERT INTO console_sessions (key, name, role, csrf_token, expires_at)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
                    key,
                    record.name,
                    record.role,
                    record.csrf_token,
                    record.expires_at,
                )

        await Retry("saving a console session", pool).run(write)

    async def get(self, key: str) -> SessionRecord | None:
        pool = await self._pool.get()
        row = await Retry("reading a console session", pool).run(
            lambda _: pool.fetchrow(
                "SELECT name, role, csrf_token, expires_at FROM console_sessions WHERE key = $1", key
            )
        )
        return SessionRecord(row["name"], row["role"], row["csrf_token"], row["expires_at"]) if row else None

    async def delete(self, key: str) -> None:
        pool = await self._pool.get()
        await Retry("ending a console session", pool).run(
            lambda _: pool.execute("DELETE FROM console_sessions WHERE key = $1", key)
        )

    async def signed_in(self, name: str, now: float) -> bool:
        pool = await self._pool.get()
        found = await Retry("reading console sessions", pool).run(
            lambda _: pool.fetchval(
                "SELECT 1 FROM console_sessions WHERE name = $1 AND expires_at > $2 LIMIT 1", name, now
            )
        )
        return found is not None

    async def count(self) -> int:
        pool = await self._pool.get()
        return await Retry("counting console sessions", pool).run(
            lambda _: pool.fetchval("SELECT count(*) FROM console_sessions")
        )

    async def close(self) -> None:
        await self._pool.close()


_SQLITE_PRUNE = """
DELETE FROM console_sessions WHERE expires_at <= ?
   OR key IN (SELECT key FROM console_sessions ORDER BY expires_at DESC LIMIT -1 OFFSET ?)
"""


class SqliteSessionRecords:
    """Records in one SQLite file that several orchestrator processes share (WAL, one write
    transaction per change); opened on first use, like the PostgreSQL pool."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: SqliteThread | None = None
        self._opening = asyncio.Lock()

    async def _conn(self) -> SqliteThread:
        async with self._opening:
            if self._db is None:
                await migrate(sqlite_store(self._path), "console_sessions")
                self._db = await SqliteThread.open(self._path, name="console-sessions")
            return self._db

    async def put(self, key: str, record: SessionRecord, *, now: float, keep: int) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(_SQLITE_PRUNE, (now, max(keep - 1, 0)))
            conn.execute(
                "INSERT OR IGNORE INTO console_sessions (key, name, role, csrf_token, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, record.name, record.role, record.csrf_token, record.expires_at),
            )

        await (await self._conn()).write(write)

    async def get(self, key: str) -> SessionRecord | None:
        row = await (await self._conn()).call(
            lambda conn: conn.execute(
                "SELECT name, role, csrf_token, expires_at FROM console_sessions WHERE key = ?", (key,)
            ).fetchone()
        )
        return SessionRecord(row[0], row[1], row[2], row[3]) if row else None

    async def delete(self, key: str) -> None:
        await (await self._conn()).write(
            lambda conn: conn.execute("DELETE FROM console_sessions WHERE key = ?", (key,))
        )

    async def signed_in(self, name: str, now: float) -> bool:
        row = await (await self._conn()).call(
            lambda conn: conn.execute(
                "SELECT 1 FROM console_sessions WHERE name = ? AND expires_at > ? LIMIT 1", (name, now)
            ).fetchone()
        )
        return row is not None

    async def count(self) -> int:
        row = await (await self._conn()).call(
            lambda conn: conn.execute("SELECT count(*) FROM console_sessions").fetchone()
        )
        return int(row[0])

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


def session_records_for(database_url: str | None, sqlite_path: Path | None = None) -> SessionRecords:
    """PostgreSQL records when the URL names PostgreSQL (replicas share them), else the SQLite
    file at ``sqlite_path`` (orchestrator processes on one machine share it), else memory."""
    if database_url:
        db = DatabaseURL.parse(database_url, default_sqlite=Path("unused.db"))
        if db.is_postgres:
            return PostgresSessionRecords(db)
    if sqlite_path is not None:
        return SqliteSessionRecords(sqlite_path)
    return MemorySessionRecords()
