"""Where signals are remembered: the signal log (with replay protection), its outbox, reactions.

``SignalStore`` is what the ingestion desk and the reactions consumer need; ``open_signal_store``
picks SQLite (``signals.db``, the embedded default) or PostgreSQL from the database URL
(``SWITCHBOARD_DATABASE_URL``), where every orchestrator replica shares one log, so a signal
accepted by one replica is a replay at another.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cloudevents.core.v1.event import CloudEvent

from shared import outbox
from shared.database import DatabaseURL
from shared.migrations import migrate
from shared.sqlite import SqliteThread

# The tables are defined in ``orchestrator.signals.tables`` and created by its revisions.


@dataclass(frozen=True)
class LogEntry:
    """One row of the signal log: what came in and what was decided."""

    outcome: str  # accepted | refused
    body_sha256: str
    event_id: str
    remote: str | None = None
    signal_id: str | None = None
    camara_type: str | None = None
    msisdn: str | None = None
    code: str | None = None
    reason: str | None = None

    def row(self) -> tuple[Any, ...]:
        return (
            time.time(),
            self.signal_id,
            self.camara_type,
            self.msisdn,
            self.outcome,
            self.code,
            self.reason,
            self.body_sha256,
            self.remote,
            self.event_id,
        )


@dataclass(frozen=True)
class Reaction:
    """What one action of a reaction rule did (``outcome`` ok / denied / error)."""

    event_id: str
    rule: str
    action: str
    signal_id: str | None
    customer_id: str
    outcome: str
    detail: str
    audit_id: str | None

    def row(self) -> tuple[Any, ...]:
        return (
            self.event_id,
            self.rule,
            self.action,
            self.signal_id,
            self.customer_id,
            self.outcome,
            self.detail,
            self.audit_id,
            time.time(),
        )


class SignalStore(Protocol):
    outbox: outbox.OutboxStore
    """Events of recorded signals wait here for the relay."""

    async def accept(self, entry: LogEntry, event: CloudEvent) -> bool:
        """Record an accepted signal and its event together; False (nothing written) when the
        signal id was accepted before: a replay."""
        ...

    async def refuse(self, entry: LogEntry, event: CloudEvent) -> None:
        """Record a refusal and its event together."""
        ...

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest entries, newest first."""
        ...

    async def reactions_done(self, event_id: str) -> set[str]:
        """Actions of this event that need no retry (they succeeded or were denied)."""
        ...

    async def record_reaction(self, reaction: Reaction) -> None: ...

    async def close(self) -> None: ...


_INSERT_LOG = (
    "INSERT INTO signal_log (received_at, signal_id, camara_type, msisdn, outcome, code, reason,"
    " body_sha256, remote, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SqliteSignalStore:
    """``signals.db`` on a worker thread of its own: each write is one transaction there (so the
    log and its outbox row never split) and nothing runs on the event loop; the relay reads and
    marks the outbox through a connection of its own."""

    def __init__(self, db: SqliteThread, relay: outbox.SqliteOutbox) -> None:
        self._db = db
        self.outbox: outbox.OutboxStore = relay
        self._relay_store = relay

    @classmethod
    async def open(cls, path: Path) -> SqliteSignalStore:
        await migrate(DatabaseURL("sqlite", path=Path(path)), "signals")
        db = await SqliteThread.open(path, name="signals-sqlite", row_factory=sqlite3.Row)
        try:
            relay = await outbox.SqliteOutbox.open(path)
        except BaseException:
            await db.close()
            raise
        return cls(db, relay)

    async def accept(self, entry: LogEntry, event: CloudEvent) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            # Judged inside the write transaction and backed by a unique index: two copies
            # racing in, from this process or another on the file, are never both accepted.
            if db.execute(
                "SELECT 1 FROM signal_log WHERE signal_id = ? AND outcome = 'accepted'", (entry.signal_id,)
            ).fetchone():
                return False
            try:
                db.execute(_INSERT_LOG, entry.row())
            except sqlite3.IntegrityError:
                return False
            db.execute(outbox.INSERT, outbox.row(event))
            return True

        return await self._db.write(write)

    async def refuse(self, entry: LogEntry, event: CloudEvent) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute(_INSERT_LOG, entry.row())
            db.execute(outbox.INSERT, outbox.row(event))

        await self._db.write(write)

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._db.call(
            lambda conn: conn.execute("SELECT * FROM signal_log ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        )
        return [dict(row) for row in rows]

    async def reactions_done(self, event_id: str) -> set[str]:
        rows = await self._db.call(
            lambda conn: conn.execute(
                "SELECT action FROM reactions WHERE event_id = ? AND outcome != 'error'", (event_id,)
            ).fetchall()
        )
        return {row[0] for row in rows}

    async def record_reaction(self, reaction: Reaction) -> None:
        sql = "INSERT OR REPLACE INTO reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        await self._db.write(lambda db: db.execute(sql, reaction.row()))

    async def close(self) -> None:
        await self._relay_store.close()
        await self._db.close()


async def open_signal_store(url: str | None, *, default_sqlite: Path) -> SignalStore:
    """The store ``url`` names, or SQLite at ``default_sqlite`` when it names none."""
    db = DatabaseURL.parse(url, default_sqlite=default_sqlite)
    if db.is_postgres:
        from orchestrator.signals.store_pg import PostgresSignalStore

        return await PostgresSignalStore.open(db)
    assert db.path is not None
    return await SqliteSignalStore.open(db.path)
