"""Where staff sessions are kept: in memory, or in PostgreSQL when orchestrator replicas share them.

A record holds who signed in, their role, the CSRF token and the expiry, keyed by a digest of
the cookie, so the store never holds a usable session id. The person's staff token is not
stored: it is looked up from the accounts when the session is used, so removing an account
ends its sessions too.

With the embedded default one orchestrator serves the consoles and memory is right: a
restart signs everyone out, the safe failure for staff access. Behind a load balancer each
request may reach another replica, so with a PostgreSQL ``SWITCHBOARD_DATABASE_URL`` the
records live in the database every replica reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.database import DatabaseURL, LazyPool, Retry

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


def session_records_for(database_url: str | None) -> SessionRecords:
    """PostgreSQL records when the URL names PostgreSQL (replicas share them), else memory."""
    if database_url:
        db = DatabaseURL.parse(database_url, default_sqlite=Path("unused.db"))  # SQLite: memory
        if db.is_postgres:
            return PostgresSessionRecords(db)
    return MemorySessionRecords()
