"""The signal store in PostgreSQL, shared by every orchestrator replica.

The log, its outbox and the reactions are three tables; an accepted signal's row and its event
commit in one transaction, and a partial unique index makes a second acceptance of one signal
id impossible across replicas (the later one is a replay). Every replica's relay reads the
same outbox: a row two relays publish at once is stored once by the bus (``Nats-Msg-Id``) and
applied once by consumers (event id). Operations retry on a fresh connection like the
conversation store's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cloudevents.core.v1.event import CloudEvent

from orchestrator.signals.store import LogEntry, Reaction
from shared.database import DatabaseURL, Retry, open_pool_with_tables
from shared.events import decode, encode
from shared.outbox import OutboxStore

if TYPE_CHECKING:
    import asyncpg

_COLUMNS = "received_at, signal_id, camara_type, msisdn, outcome, code, reason, body_sha256, remote, event_id"
_INSERT_LOG = f"INSERT INTO signal_log ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
# A replay (or a retry whose first commit only lost its answer) inserts nothing.
_ACCEPT = _INSERT_LOG + " ON CONFLICT (signal_id) WHERE outcome = 'accepted' DO NOTHING RETURNING event_id"
_ENQUEUE = (
    "INSERT INTO signal_outbox (event_id, body, created_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING"
)


class PostgresOutbox:
    """The relay's view of ``signal_outbox`` (``shared.outbox.OutboxStore``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        rows = await Retry("reading the signal outbox", self._pool).run(
            lambda _: self._pool.fetch(
                "SELECT seq, body FROM signal_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1", limit
            )
        )
        return [(row[0], decode(bytes(row[1]))) for row in rows]

    async def mark_published(self, seqs: Sequence[int]) -> None:
        now = time.time()
        await Retry("marking signal events published", self._pool).run(
            lambda _: self._pool.execute(
                "UPDATE signal_outbox SET published_at = $1 WHERE seq = ANY($2::bigint[])", now, list(seqs)
            )
        )

    async def waiting(self) -> int:
        return int(await self._pool.fetchval("SELECT COUNT(*) FROM signal_outbox WHERE published_at IS NULL"))


class PostgresSignalStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox: OutboxStore = PostgresOutbox(pool)

    @classmethod
    async def open(cls, db: DatabaseURL, *, max_connections: int | None = None) -> PostgresSignalStore:
        pool = await open_pool_with_tables(db, "signals", what="signal", max_size=max_connections)
        return cls(pool)

    async def accept(self, entry: LogEntry, event: CloudEvent) -> bool:
        body = encode(event)

        async def write(attempt: int) -> bool:
            async with self._pool.acquire() as conn, conn.transaction():
                inserted = await conn.fetchval(_ACCEPT, *entry.row())
                if inserted is None:
                    # Accepted before; by this very call when an earlier attempt committed unseen.
                    return bool(attempt) and await _accepted_as(conn, entry.signal_id, entry.event_id)
                await conn.execute(_ENQUEUE, event.get_id(), body, time.time())
                return True

        return await Retry("recording a signal", self._pool).run(write)

    async def refuse(self, entry: LogEntry, event: CloudEvent) -> None:
        body = encode(event)

        async def write(attempt: int) -> None:
            async with self._pool.acquire() as conn, conn.transaction():
                if attempt and await conn.fetchval("SELECT 1 FROM signal_log WHERE event_id = $1", entry.event_id):
                    return  # the earlier attempt committed; only its answer was lost
                await conn.execute(_INSERT_LOG, *entry.row())
                await conn.execute(_ENQUEUE, event.get_id(), body, time.time())

        await Retry("recording a refused signal", self._pool).run(write)

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await Retry("reading the signal log", self._pool).run(
            lambda _: self._pool.fetch(f"SELECT seq, {_COLUMNS} FROM signal_log ORDER BY seq DESC LIMIT $1", limit)
        )
        return [dict(row) for row in rows]

    async def reactions_done(self, event_id: str) -> set[str]:
        rows = await Retry("reading reactions", self._pool).run(
            lambda _: self._pool.fetch(
                "SELECT action FROM signal_reactions WHERE event_id = $1 AND outcome != 'error'", event_id
            )
        )
        return {row[0] for row in rows}

    async def record_reaction(self, reaction: Reaction) -> None:
        await Retry("recording a reaction", self._pool).run(
            lambda _: self._pool.execute(
                "INSERT INTO signal_reactions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT (event_id, action) DO UPDATE SET rule = excluded.rule, signal_id = excluded.signal_id,"
                " customer_id = excluded.customer_id, outcome = excluded.outcome, detail = excluded.detail,"
                " audit_id = excluded.audit_id, at = excluded.at",
                *reaction.row(),
            )
        )

    async def close(self) -> None:
        await self._pool.close()


async def _accepted_as(conn: asyncpg.Connection, signal_id: str | None, event_id: str) -> bool:
    found: str | None = await conn.fetchval(
        "SELECT event_id FROM signal_log WHERE signal_id = $1 AND outcome = 'accepted'", signal_id
    )
    return found == event_id
