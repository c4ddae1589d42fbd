"""The transactional outbox: a state change and its event are committed together, then relayed.

A backend writes its change and its event row inside the same transaction, so the two
can never be split. ``OutboxRelay`` publishes pending rows in order and marks them;
while the bus is down they simply wait. A crash between publishing and marking republishes
the row, which is why delivery is at-least-once and consumers dedupe on the event id.

The relay reads and marks rows through ``OutboxStore`` (two methods): ``SqliteOutbox`` for a
SQLite file, ``PostgresOutbox`` for a PostgreSQL schema shared by several replicas. The row
is written by the same SQL on both (``INSERT`` with ``row(event)``; ``?`` placeholders).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cloudevents.core.v1.event import CloudEvent

from shared.events import FEED_WATERMARK, EventBus, decode, encode, new_event
from shared.sqlite import SqliteThread

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger("switchboard.outbox")

# The outbox table is defined beside each store that has one and created by its revisions
# (``mcp_servers._tables``, ``orchestrator.signals.tables``).
INSERT = "INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, ?)"


def row(event: CloudEvent) -> tuple[Any, ...]:
    """The parameters of ``INSERT`` for ``event``."""
    return (event.get_id(), encode(event), time.time())


class OutboxStore(Protocol):
    """Where committed events wait for the relay."""

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        """Unpublished events in commit order, as (sequence number, event)."""
        ...

    async def mark_published(self, seqs: Sequence[int]) -> None:
        """Record ``seqs`` (of the batch ``pending`` returned) as published; durable once the whole
        batch is marked, or at the next ``pending``."""
        ...

    async def waiting(self) -> int:
        """Unpublished events, including those another relay has claimed and not yet marked."""
        ...


_MARK = "UPDATE outbox SET published_at = ? WHERE seq = ?"


class SqliteOutbox:
    """The outbox table of one SQLite file, read and marked on a connection and thread of its own.

    The relay's reads and marks never run on the event loop, and never share a transaction
    with the writes that add events (those commit on the owner's connection).
    """

    def __init__(self, db: SqliteThread) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path | str) -> SqliteOutbox:
        return cls(await SqliteThread.open(path, name="outbox-sqlite"))

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        rows = await self._db.call(
            lambda conn: conn.execute(
                "SELECT seq, body FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        )
        return [(row[0], decode(row[1])) for row in rows]

    async def mark_published(self, seqs: Sequence[int]) -> None:
        rows = [(time.time(), seq) for seq in seqs]
        await self._db.write(lambda conn: conn.executemany("UPDATE outbox SET published_at = ? WHERE seq = ?", rows))

    async def waiting(self) -> int:
        (count,) = await self._db.call(
            lambda conn: conn.execute("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL").fetchone()
        )
        return int(count)

    async def close(self) -> None:
        await self._db.close()


class PostgresOutbox:
    """The outbox table of one PostgreSQL schema, relayed by every replica that writes to it.

    ``pending`` claims a batch with ``FOR UPDATE SKIP LOCKED`` inside a transaction that stays
    open until the batch is marked: another replica skips those rows instead of
    publishing them too, and a replica that dies mid-batch releases them (its transaction rolls
    back) for the others. The claim commits, with its marks, once the last row of its batch is
    marked (or with the next claim after a failure); a mark lost with a broken connection only
    repeats a publication, which consumers dedupe.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self._unmarked: set[int] = set()
        self._lock = asyncio.Lock()

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        async with self._lock:
            await self._finish(commit=True)
            conn = await self._pool.acquire()
            tx = conn.transaction()
            try:
                await tx.start()
                rows = await conn.fetch(
                    "SELECT seq, body FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1"
                    " FOR UPDATE SKIP LOCKED",
                    limit,
                )
            except BaseException:
                await self._release(conn)
                raise
            if not rows:
                await tx.commit()
                await self._pool.release(conn)
                return []
            self._conn, self._tx = conn, tx
            self._unmarked = {r[0] for r in rows}
            return [(r[0], decode(r[1])) for r in rows]

    async def mark_published(self, seqs: Sequence[int]) -> None:
        async with self._lock:
            if self._conn is None:
                raise RuntimeError("mark_published without a claimed batch")
            await self._conn.execute(
                "UPDATE outbox SET published_at = $1 WHERE seq = ANY($2::bigint[])", time.time(), list(seqs)
            )
            self._unmarked.difference_update(seqs)
            if not self._unmarked:
                # The batch is through: commit now, so the relay's next count sees it and no
                # second, empty claim is needed to learn the outbox is drained.
                await self._finish(commit=True)

    async def waiting(self) -> int:
        return int(await self._pool.fetchval("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL"))

    async def close(self) -> None:
        async with self._lock:
            await self._finish(commit=True)

    async def _finish(self, *, commit: bool) -> None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        if conn is None or tx is None:
            return
        try:
            await (tx.commit() if commit else tx.rollback())
        except Exception as exc:  # the connection broke: the claim is gone, the rows wait for a relay
            log.warning("outbox claim ended without its marks: %s", exc)
            await self._release(conn)
            return
        await self._pool.release(conn)

    async def _release(self, conn: asyncpg.pool.PoolConnectionProxy) -> None:
        # A connection whose transaction state is unknown is closed, not reused.
        with contextlib.suppress(Exception):
            conn.terminate()
        with contextlib.suppress(Exception):
            await self._pool.release(conn)


class OutboxRelay:
    """Moves committed outbox rows to the bus. ``notify()`` after a commit relays at once;
    a periodic sweep covers rows written by other processes and retries after bus failures.

    With ``system`` set, a relay that has drained its outbox also publishes a watermark
    (``feed.watermark``) at least every ``watermark_seconds``: readers of the system's events
    know from it how far behind their copy can be, even when nothing changes. Half a second is
    half the readers' default bound (``projection_max_lag_seconds``), and every relay's idle
    cost: a sweep and a watermark that each reader of the feed receives.
    """

    def __init__(
        self,
        store: OutboxStore,
        bus: EventBus,
        *,
        sweep_seconds: float = 0.5,
        max_backoff: float = 5.0,
        system: str | None = None,
        watermark_seconds: float = 0.5,
    ) -> None:
        self._store = store
        self._bus = bus
        self._sweep = sweep_seconds
        self._max_backoff = max_backoff
        self._system = system
        self._watermark_every = watermark_seconds
        self._wake = asyncio.Event()
        self.published = 0
        self.paused_reason = ""
        self.drained_at: float | None = None

    def notify(self) -> None:
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish what is pending now; stop at the first failure (order is kept). Returns the count."""
        sent = 0
        while True:
            # Taken before the read that finds nothing: whatever committed earlier is published.
            checked_at = time.time()
            # Most sweeps find nothing: one count answers them, with no claim (on PostgreSQL a
            # transaction) to open and close. Every store has made a batch's marks durable once the
            # batch is marked, so after the last batch one count finds the outbox drained.
            if await self._store.waiting() == 0:
                self.drained_at = checked_at
                return sent
            batch = await self._store.pending()
            if not batch:
                # Rows another replica has claimed but not yet published are skipped by ``pending``:
                # drained means nothing waits anywhere, so count them before vouching for ``checked_at``.
                if self._system is None or await self._store.waiting() == 0:
                    self.drained_at = checked_at
                return sent
            for seq, event in batch:
                await self._bus.publish(event)
                # Marked one by one: a failure later in the batch must not republish these.
                await self._store.mark_published([seq])
                sent += 1
                self.published += 1

    async def _publish_watermark(self) -> None:
        if self._system is None or self.drained_at is None:
            return
        data = {"system": self._system, "drained_at": self.drained_at}
        await self._bus.publish(new_event(FEED_WATERMARK, f"/systems/{self._system}", data))

    async def run(self) -> None:
        backoff = self._sweep
        while True:
            self._wake.clear()
            try:
                await self.relay_once()
                await self._publish_watermark()
                backoff = self._sweep
                self.paused_reason = ""
            except Exception as exc:  # the bus is down or refused: the rows wait, we retry
                self.paused_reason = str(exc)
                log.warning("outbox relay paused: %s (retrying in %.1fs)", exc, backoff)
                backoff = min(backoff * 2, self._max_backoff)
            wait = min(backoff, self._watermark_every) if self._system and not self.paused_reason else backoff
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
