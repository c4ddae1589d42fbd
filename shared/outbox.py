"""The transactional outbox: a state change and its event are committed together, then relayed.

A backend writes its change and ``enqueue``s the event inside the same transaction, so the
two can never be split. ``OutboxRelay`` publishes pending rows in order and marks them;
while the bus is down they simply wait. A crash between publishing and marking republishes
the row, which is why delivery is at-least-once and consumers dedupe on the event id.

The relay reads and marks rows through ``OutboxStore`` (two methods), so another database
only needs its own ``enqueue`` and store; ``SqliteOutbox`` is the SQLite one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import aiosqlite
from cloudevents.core.v1.event import CloudEvent

from shared.events import EventBus, decode, encode
from shared.sqlite import connect

log = logging.getLogger("switchboard.outbox")

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    published_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(seq) WHERE published_at IS NULL;
"""


class OutboxStore(Protocol):
    """Where committed events wait for the relay."""

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        """Unpublished events in commit order, as (sequence number, event)."""
        ...

    async def mark_published(self, seqs: Sequence[int]) -> None: ...


async def enqueue(conn: aiosqlite.Connection, event: CloudEvent) -> None:
    """Add ``event`` to the caller's open transaction; it is relayed once the caller commits."""
    await conn.execute(
        "INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, ?)",
        (event.get_id(), encode(event), time.time()),
    )


async def pending(conn: aiosqlite.Connection, limit: int = 100) -> list[tuple[int, CloudEvent]]:
    async with conn.execute(
        "SELECT seq, body FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?", (limit,)
    ) as cur:
        rows = await cur.fetchall()
    return [(row[0], decode(row[1])) for row in rows]


class SqliteOutbox:
    """The outbox table of one SQLite database, read through the relay's own connection.

    A connection of its own matters: the relay's commits must never commit half of a
    backend transaction that happens to be open on the backend's connection.
    """

    def __init__(self, conn: aiosqlite.Connection, *, owned: bool = False) -> None:
        self._conn = conn
        self._owned = owned

    @classmethod
    async def open(cls, path: Path | str) -> SqliteOutbox:
        conn = await connect(path)
        await conn.executescript(DDL)
        await conn.commit()
        return cls(conn, owned=True)

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        return await pending(self._conn, limit)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        now = time.time()
        await self._conn.executemany("UPDATE outbox SET published_at = ? WHERE seq = ?", [(now, s) for s in seqs])
        await self._conn.commit()

    async def waiting(self) -> int:
        async with self._conn.execute("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        if self._owned:
            await self._conn.close()


class OutboxRelay:
    """Moves committed outbox rows to the bus. ``notify()`` after a commit relays at once;
    a periodic sweep covers rows written by other processes and retries after bus failures."""

    def __init__(
        self, store: OutboxStore, bus: EventBus, *, sweep_seconds: float = 0.5, max_backoff: float = 5.0
    ) -> None:
        self._store = store
        self._bus = bus
        self._sweep = sweep_seconds
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.published = 0
        self.paused_reason = ""

    def notify(self) -> None:
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish what is pending now; stop at the first failure (order is kept). Returns the count."""
        sent = 0
        while batch := await self._store.pending():
            for seq, event in batch:
                await self._bus.publish(event)
                # Marked one by one: a failure later in the batch must not republish these.
                await self._store.mark_published([seq])
                sent += 1
                self.published += 1
        return sent

    async def run(self) -> None:
        backoff = self._sweep
        while True:
            self._wake.clear()
            try:
                await self.relay_once()
                backoff = self._sweep
                self.paused_reason = ""
            except Exception as exc:  # the bus is down or refused: the rows wait, we retry
                self.paused_reason = str(exc)
                log.warning("outbox relay paused: %s (retrying in %.1fs)", exc, backoff)
                backoff = min(backoff * 2, self._max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
