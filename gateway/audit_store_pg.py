"""The audit log, approvals and governance switches on PostgreSQL, shared by gateway replicas.

Same chain, same canonical bodies as the SQLite store (``audit_store``): ``body`` is the text
that was hashed, the query columns are generated from ``body::jsonb`` (STORED), a CHECK ties
the ``seq`` column to the body, and triggers refuse UPDATE, DELETE and TRUNCATE.

Several replicas append to one chain. Each write is one transaction that takes an advisory
transaction lock, reads the tail inside it and inserts the next records (each with any state
change committed alongside), so the chain stays single and gap-free whichever replica writes.
A replica's concurrent appends share such a transaction (group commit, ``audit_batch``). A
commit that changes a governance switch also sends a NOTIFY; every replica LISTENs and reloads
its in-memory mirror (``watch``), so a kill switch bites everywhere within milliseconds.

A dropped connection is retried on a fresh one while nothing can have been committed; a
failure once COMMIT was sent, or a server that stays away, raises ``ServiceUnavailable`` and
the gateway fails closed. An append or a read that cannot finish within the store's ``budget``
(``SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS``: a locked table, a held chain lock, a server that
does not answer) raises ``AuditUnavailable`` (503) instead of waiting, and checkpoint lines are written and
fsynced on their own thread, never on the event loop. A transaction that breaks leaves
nothing: record and state change land together or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from gateway.audit_batch import Entry, GroupWriter, bounded, changed, commit, rollback
from gateway.audit_links import DELETE_LINKED_RAW
from gateway.audit_store import WRITE_BUDGET_SECONDS, Statement
from gateway.checkpoints import CheckpointWriter
from gateway.retention import Pruned
from gateway.state import STATE_TABLES
from shared.audit import GENESIS_HASH, AuditRecord
from shared.database import DatabaseURL, Retry, connection_errors, create_pool, to_postgres
from shared.errors import ServiceUnavailable
from shared.migrations import migrate

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

# The tables are defined in ``gateway.tables`` and created by the gateway's revisions.
_STATE_SQL = re.compile(r"\b(" + "|".join(STATE_TABLES) + r")\b")


class PostgresAuditStore:
    """The PostgreSQL twin of ``AuditStore``; open with ``await PostgresAuditStore.open(db)``."""

    dialect = "postgresql"

    def __init__(
        self,
        pool: asyncpg.Pool,
        db: DatabaseURL,
        checkpoints: CheckpointWriter | None,
        checkpoint_every: int,
        retry_delays: tuple[float, ...] | None,
        group_commit: bool = True,
    ) -> None:
        self._pool = pool
        self._db = db
        self._checkpoints = checkpoints
        self._every = max(checkpoint_every, 1)
        self._delays = retry_delays
        self._lock = asyncio.Lock()
        self._scope = db.schema or "public"
        # One chain per schema: the lock and the change channel are named after it.
        self._chain_lock = f"switchboard.audit:{self._scope}"
        self.channel = f"switchboard.governance:{self._scope}"
        self._last_seq, self._last_hash = 0, GENESIS_HASH
        self.state_version = 0
        """Counts this replica's committed switch changes: a reload racing one retries (``GovernanceState``)."""
        self._watcher: asyncio.Task[None] | None = None
        self.budget = WRITE_BUDGET_SECONDS
        self._abandoned: set[asyncio.Future[Any]] = set()
        self._group_commit = group_commit
        self._writer = GroupWriter(pool, self._chain_lock, self.channel, self._retry, self._committed)
        # One thread writes checkpoint lines, in order, so fsync never runs on the event loop.
        self._checkpoint_io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-checkpoints")

    @classmethod
    async def open(
        cls,
        db: DatabaseURL,
        *,
        checkpoints: CheckpointWriter | None = None,
        checkpoint_every: int = 256,
        max_connections: int | None = None,
        retry_delays: tuple[float, ...] | None = None,
        group_commit: bool = True,
    ) -> PostgresAuditStore:
        """``group_commit=False`` writes each record in its own transaction (a benchmark's floor)."""
        pool = await create_pool(db, max_size=max_connections)
        store = cls(pool, db, checkpoints, checkpoint_every, retry_delays, group_commit)
        try:
            await migrate(db, "gateway")
        except BaseException:
            await pool.close()
            raise
        return store

    def _retry(self, what: str) -> Retry:
        retry = Retry(what, self._pool)
        if self._delays is not None:
            retry.delays = self._delays
        return retry

    @property
    def location(self) -> DatabaseURL:
        return self._db

    @property
    def lock(self) -> asyncio.Lock:
        """Held by multi-step work that must not interleave with this replica's other governance writes."""
        return self._lock

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._writer.close()
        self.checkpoint()
        await asyncio.to_thread(self._checkpoint_io.shutdown, wait=True)
        await self._pool.close()

    def checkpoint(self) -> None:
        """Sign the newest record this replica appended (every replica's records are one chain);
        the file write happens on the checkpoint thread, never on the event loop."""
        if self._checkpoints is not None and self._last_seq:
            self._persist_checkpoint()

    async def append(
        self, *, raw_arguments: dict[str, Any] | None = None, also: tuple[Statement, ...] = (), **fields: Any
    ) -> AuditRecord:
        """Chain, hash and commit one record; ``also`` commits in the same transaction (guarded).

        Concurrent appends share transactions (``gateway.audit_batch``); each still lands or
        fails on its own, within ``budget`` seconds.
        """
        notify = any(_STATE_SQL.search(sql) for sql, _ in also)
        deadline = asyncio.get_running_loop().time() + self.budget
        entry = Entry(fields, raw_arguments, also, notify, deadline)
        if self._group_commit:
            return await self._writer.submit(entry)
        return await self._writer.alone(entry)

    def _committed(self, record: AuditRecord, notify: bool) -> None:
        """Bookkeeping for a committed record, in chain order, before its caller hears of it."""
        self.state_version += notify
        if record.seq > self._last_seq:
            self._last_seq, self._last_hash = record.seq, record.hash
        if self._checkpoints is not None:
            self._checkpoints.note(record.seq, record.hash)
            if self._checkpoints.due(record.seq, self._every):
                self._persist_checkpoint()

    def _persist_checkpoint(self) -> None:
        """Sign on the loop (memory only), write and fsync on the checkpoint thread, in order."""
        assert self._checkpoints is not None
        line = self._checkpoints.sign(self._last_seq, self._last_hash)
        if line is not None:
            self._checkpoint_io.submit(self._checkpoints.persist, line)

    async def run(self, statements: tuple[Statement, ...]) -> None:
        """Commit state changes that need no audit record of their own (their record exists)."""
        notify = any(_STATE_SQL.search(sql) for sql, _ in statements)

        async def attempt(_: int) -> None:
            async with self._pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                try:
                    for sql, params in statements:
                        await conn.execute(to_postgres(sql), *params)
                    if notify:
                        await conn.execute("SELECT pg_notify($1, '')", self.channel)
                except BaseException:
                    await rollback(tx)
                    raise
                await commit(tx, "a governance change")

        await self._retry("recording a governance change").run(attempt)
        self.state_version += notify

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one read (``?`` placeholders), within the write budget (reads decide calls too)."""
        reading = self._retry("reading governance state").run(lambda _: self._pool.fetch(to_postgres(sql), *params))
        return await bounded(reading, self.budget, self._abandoned)

    async def erase_customer(self, customer_id: str, identifiers: tuple[str, ...] = ()) -> int:
        """Erase one customer's raw argument values; the chain (redacted + digests) is untouched."""
        values = [v for v in identifiers if v]

        async def erasing(_: int) -> int:
            async with self._pool.acquire() as conn, conn.transaction():
                linked = await conn.execute(to_postgres(DELETE_LINKED_RAW["postgresql"]), customer_id)
                named = await conn.execute(
                    "DELETE FROM audit_raw WHERE customer_id = $1"
                    " OR EXISTS (SELECT 1 FROM unnest($2::text[]) AS v WHERE strpos(arguments, v) > 0)",
                    customer_id,
                    values,
                )
            return changed(linked) + changed(named)

        return await self._retry("erasing raw arguments").run(erasing)

    async def prune(self, raw_before: str | None, records_before: str | None) -> Pruned:
        """Retention, as on SQLite (``gateway.retention``): raw values, then records 1..N as a signed segment.

        Under the chain lock, so no replica appends meanwhile; the segment line is signed and on
        disk (and at the witnesses) before the records go. The delete guard is switched off
        inside the same transaction only: it is back on at COMMIT, or never off on a rollback.
        """
        loop = asyncio.get_running_loop()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self._chain_lock)
            raw = 0
            if raw_before is not None:
                raw = changed(
                    await conn.execute(
                        "DELETE FROM audit_raw WHERE record_id IN (SELECT id FROM audit WHERE time < $1)", raw_before
                    )
                )
            first, last = await conn.fetchrow("SELECT min(seq), max(seq) FROM audit")
            first = int(first or 1)
            records = 0
            if records_before is not None and self._checkpoints is not None and last is not None:
                row = await conn.fetchrow(
                    "SELECT seq, hash FROM audit WHERE time < $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
                    records_before,
                    int(last),  # the head always stays: the next record links to it
                )
                if row is not None and int(row[0]) >= first:
                    seq, head = int(row[0]), str(row[1])
                    line = self._checkpoints.sign(seq, head, segment=True)
                    assert line is not None
                    await loop.run_in_executor(self._checkpoint_io, self._checkpoints.persist, line)
                    await conn.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_delete")
                    records = changed(await conn.execute("DELETE FROM audit WHERE seq <= $1", seq))
                    await conn.execute("DELETE FROM audit_raw WHERE record_id NOT IN (SELECT id FROM audit)")
                    await conn.execute("ALTER TABLE audit ENABLE TRIGGER audit_no_delete")
                    first = seq + 1
        return Pruned(raw, records, first)

    async def forget_erased(self) -> None:
        """Nothing to do here: PostgreSQL reclaims deleted rows with (auto)vacuum, see docs/governance.md."""

    async def raw_arguments(self, record_id: str) -> dict[str, Any] | None:
        rows = await self.fetch("SELECT arguments FROM audit_raw WHERE record_id = ?", (record_id,))
        return json.loads(rows[0][0]) if rows else None

    def watch(self, on_change: Callable[[], Awaitable[None]]) -> None:
        """Call ``on_change`` whenever any replica commits a governance switch (and after reconnecting)."""
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._listen(on_change), name="governance-watch")

    async def _listen(self, on_change: Callable[[], Awaitable[None]]) -> None:
        import asyncpg

        changed = asyncio.Event()
        delay = 0.05
        while True:
            try:
                conn = await asyncpg.connect(self._db.dsn, server_settings=self._db.server_settings(), timeout=10)
            except (*connection_errors(), asyncpg.PostgresError) as exc:
                log.warning("governance changes: cannot listen (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            lost = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _, lost=lost: lost.set())
                await conn.add_listener(self.channel, lambda *_: changed.set())
                delay = 0.05
                changed.set()  # catch up on whatever changed while not listening
                while not lost.is_set():
                    waiters = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(lost.wait())}
                    _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    for waiter in pending:
                        waiter.cancel()
                    if changed.is_set():
                        changed.clear()
                        await _quietly(on_change)
            finally:
                if not conn.is_closed():
                    await conn.close()


async def _quietly(on_change: Callable[[], Awaitable[None]]) -> None:
    try:
        await on_change()
    except ServiceUnavailable as exc:
        # The next notification (or reconnect) reloads again; the old mirror stays meanwhile.
        log.warning("governance changes: reload failed: %s", exc.message)
