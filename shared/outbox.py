"""The transactional outbox: a state change and its event are committed together, then relayed.

A backend writes its change and ``enqueue``s the event inside the same SQLite transaction, so
the two can never be split. ``OutboxRelay`` publishes pending rows in order and marks them;
while the bus is down they simply wait. A crash between publishing and marking republishes
the row, which is why delivery is at-least-once and consumers dedupe on the event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import aiosqlite
from cloudevents.core.v1.event import CloudEvent

from shared.events import EventBus, decode, encode

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


class OutboxRelay:
    """Moves committed outbox rows to the bus. ``notify()`` after a commit relays at once;
    a periodic sweep covers rows written by other processes and retries after bus failures."""

    def __init__(
        self, conn: aiosqlite.Connection, bus: EventBus, *, sweep_seconds: float = 0.5, max_backoff: float = 5.0
    ) -> None:
        self._conn = conn
        self._bus = bus
        self._sweep = sweep_seconds
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.published = 0

    def notify(self) -> None:
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish what is pending now; stop at the first failure (order is kept). Returns the count."""
        sent = 0
        for seq, event in await pending(self._conn):
            await self._bus.publish(event)
            await self._conn.execute("UPDATE outbox SET published_at = ? WHERE seq = ?", (time.time(), seq))
            await self._conn.commit()
            sent += 1
        self.published += sent
        return sent

    async def run(self) -> None:
        backoff = self._sweep
        while True:
            try:
                await self.relay_once()
                backoff = self._sweep
            except Exception as exc:  # the bus is down or refused: the rows wait, we retry
                log.warning("outbox relay paused: %s (retrying in %.1fs)", exc, backoff)
                backoff = min(backoff * 2, self._max_backoff)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
