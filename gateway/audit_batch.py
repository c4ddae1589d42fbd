"""Group commit for the PostgreSQL audit chain: one transaction writes many queued records.

Under concurrency each record in its own transaction queues for a pooled connection and then
for the chain lock, one transaction at a time, until budgets run out. Here a replica's appends
wait in one queue and a single writer takes everything queued as one batch: one chain lock,
one tail read, one COMMIT. Records are chained in queue order. A record with state changes
(``also``) runs inside a SAVEPOINT, so a StaleState fails that record alone and its seq is
given to the next one.

Budgets stay fail-closed and no wider than before. A caller whose budget runs out while still
queued is taken out of the queue (its record can never be written) and gets ``AuditUnavailable``.
A batch is bounded by the earliest deadline among its records, on the server (``SET LOCAL``
lock and statement timeouts from what is left) and on the client: a batch that cannot commit
in time is cancelled, rolls back, and every caller in it gets ``AuditUnavailable``. Only a
COMMIT already in flight when the bound strikes can leave the outcome unknown, as with one
record per transaction. Callers are answered only after their batch's outcome is settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.audit_store import INSERT_RAW, INSERT_RECORD, AuditUnavailable, StaleState, Statement, raw_row, seal
from shared.audit import GENESIS_HASH, AuditRecord
from shared.database import Retry, connection_errors, to_postgres
from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

MAX_BATCH = 128
"""Records per transaction at most: more stay queued for the next batch (bounds one COMMIT's work)."""

_TAIL = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
_APPEND = (
    "WITH tail AS (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1),"
    " expected AS (SELECT WHERE COALESCE((SELECT seq FROM tail), 0) = $1::bigint"
    " AND COALESCE((SELECT hash FROM tail), $2::text) = $2::text),"
    " records AS (INSERT INTO audit (seq, body, hash) SELECT r.seq, r.body, r.hash FROM expected,"
    " unnest($3::bigint[], $4::text[], $5::text[]) AS r(seq, body, hash) RETURNING 1),"
    " raw AS (INSERT INTO audit_raw (record_id, customer_id, arguments) SELECT r.* FROM expected,"
    " unnest($6::text[], $7::text[], $8::text[]) AS r(record_id, customer_id, arguments))"
    " SELECT count(*) FROM records"
)
"""A batch of plain records and their raw arguments in one statement, written only if the chain
still ends at ($1, $2): the tail this replica last wrote. No row is written when another replica
appended since; the caller then reads the tail and seals the batch again."""
_COUNT = re.compile(r"(\d+)$")
_NOT_MADE = "the call was not made; retry shortly or hand the customer to a human"


def changed(status: str) -> int:
    """Rows a statement changed, from asyncpg's status (``UPDATE 1``, ``INSERT 0 1``, ``SELECT 1``)."""
    found = _COUNT.search(status)
    return int(found.group(1)) if found else 0


@dataclass(eq=False)
class Entry:
    """One queued append: what to seal, and where its caller waits for the outcome."""

    fields: dict[str, Any]
    raw_arguments: dict[str, Any] | None
    also: tuple[Statement, ...]
    notify: bool
    deadline: float
    """Loop time by which the caller must have its answer."""
    outcome: asyncio.Future[AuditRecord] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def timed_out() -> AuditUnavailable:
    return AuditUnavailable("the audit store did not answer in time: the record could not be written", hint=_NOT_MADE)


def unavailable(exc: BaseException) -> BaseException:
    """A server-side timeout (held lock, slow statement) as the gateway's 503; anything else as is."""
    import asyncpg

    if isinstance(exc, asyncpg.exceptions.LockNotAvailableError | asyncpg.exceptions.QueryCanceledError):
        failure = AuditUnavailable(
            f"the audit store is locked or slow ({type(exc).__name__}): the record could not be written",
            hint=_NOT_MADE,
        )
        failure.__cause__ = exc
        return failure
    return exc


class GroupWriter:
    """Queues a replica's appends and writes them in batches, one transaction each."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        chain_lock: str,
        channel: str,
        retry: Callable[[str], Retry],
        committed: Callable[[AuditRecord, bool], None],
    ) -> None:
        self._pool = pool
        self._chain_lock = chain_lock
        self._channel = channel
        self._retry = retry
        self._committed = committed
        self._queue: deque[Entry] = deque()
        self._tail: tuple[int, str] | None = None
        """(seq, hash) of the last record this writer committed: where the chain ends unless
        another replica appended since. None: not known yet."""
        self._writer: asyncio.Task[None] | None = None
        self.abandoned: set[asyncio.Future[Any]] = set()

    async def submit(self, entry: Entry) -> AuditRecord:
        """Queue one record; its outcome once its batch settled (``AuditUnavailable`` if its budget ran out queued)."""
        loop = asyncio.get_running_loop()
        entry.outcome.add_done_callback(_retrieved)  # a caller who left still has its failure collected
        self._queue.append(entry)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain(), name="audit-group-commit")
        try:
            await asyncio.wait({entry.outcome}, timeout=max(entry.deadline - loop.time(), 0))
        except asyncio.CancelledError:
            self._withdraw(entry)  # a record nobody waits for is never written, if it is still queued
            raise
        if not entry.outcome.done() and self._withdraw(entry):
            raise timed_out()
        # In a batch: that batch is bounded by a deadline no later than ours, and answers us.
        return await asyncio.shield(entry.outcome)

    async def alone(self, entry: Entry) -> AuditRecord:
        """One record in its own transaction, no queue: the pre-batching behaviour (benchmark floor)."""
        self._settle([entry], await self._bounded([entry]))
        return await entry.outcome

    async def close(self) -> None:
        """Let queued records settle (each within its own budget)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    def _withdraw(self, entry: Entry) -> bool:
        try:
            self._queue.remove(entry)
        except ValueError:
            return False
        return True

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            batch: list[Entry] = []
            while self._queue and len(batch) < MAX_BATCH:
                entry = self._queue.popleft()
                if entry.deadline <= loop.time():
                    settle(entry.outcome, timed_out())
                else:
                    batch.append(entry)
            if batch:
                try:
                    outcomes = await self._bounded(batch)
                except BaseException:
                    for entry in batch:  # the writer itself was stopped: nothing of the batch is kept
                        settle(entry.outcome, timed_out())
                    raise
                self._settle(batch, outcomes)

    async def _bounded(self, batch: list[Entry]) -> list[AuditRecord | BaseException] | BaseException:
        """The batch's outcomes, or one failure for all of it; never later than its earliest deadline."""
        deadline = min(entry.deadline for entry in batch)
        work = self._retry("recording audit records").run(lambda _: self._write(batch, deadline))
        try:
            return await bounded(work, deadline - asyncio.get_running_loop().time(), self.abandoned)
        except Exception as exc:
            return exc

    def _settle(self, batch: list[Entry], outcomes: list[AuditRecord | BaseException] | BaseException) -> None:
        """Book the committed records in chain order, then answer every caller of the batch."""
        if isinstance(outcomes, BaseException):
            for entry in batch:
                settle(entry.outcome, outcomes)
            return
        for entry, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, AuditRecord):
                self._committed(outcome, entry.notify)
        for entry, outcome in zip(batch, outcomes, strict=True):
            settle(entry.outcome, outcome)

    async def _write(self, batch: list[Entry], deadline: float) -> list[AuditRecord | BaseException]:
        if any(entry.also for entry in batch):
            return await self._write_guarded(batch, deadline)
        return list(await self._write_plain(batch, deadline))

    async def _write_plain(self, batch: list[Entry], deadline: float) -> list[AuditRecord]:
        """Records without state changes: BEGIN with the chain lock, one INSERT, COMMIT.

        Three round trips where the guarded path takes six: BEGIN goes with the bounds and the
        lock, and the tail is not read while this replica is the chain's last writer (the
        INSERT checks it under the lock, and reads it only when another replica wrote since).
        """
        loop = asyncio.get_running_loop()
        async with self._pool.acquire() as conn:
            tx = _Begun(conn)
            try:
                ms = max(int((deadline - loop.time()) * 1000) - 20, 1)
                await conn.execute(
                    f"BEGIN; SET LOCAL lock_timeout = '{ms}ms'; SET LOCAL statement_timeout = '{ms}ms';"
                    f" SELECT pg_advisory_xact_lock(hashtext({_literal(self._chain_lock)}))"
                )
                records = await self._insert(conn, batch, self._tail) if self._tail is not None else None
                if records is None:  # another replica appended since: chain on from the tail it left
                    row = await conn.fetchrow(_TAIL)
                    records = await self._insert(conn, batch, (row[0], row[1]) if row else (0, GENESIS_HASH))
                    if records is None:
                        raise RuntimeError("the audit chain's tail moved while its lock was held")
            except BaseException:
                await rollback(tx)
                raise
            await commit(tx, "audit records")
        self._tail = (records[-1].seq, records[-1].hash)
        return records

    async def _insert(
        self, conn: asyncpg.Connection, batch: list[Entry], tail: tuple[int, str]
    ) -> list[AuditRecord] | None:
        """Seal ``batch`` after ``tail`` and insert it; None (nothing written) if the chain ends elsewhere."""
        seq, prev = tail
        records: list[AuditRecord] = []
        bodies: list[str] = []
        raws: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for entry in batch:
            record, body = seal(seq + 1, prev, entry.fields)
            records.append(record)
            bodies.append(body)
            if entry.raw_arguments:
                for column, value in zip(raws, raw_row(record, entry.raw_arguments), strict=True):
                    column.append(value)
            seq, prev = record.seq, record.hash
        written = await conn.fetchval(
            _APPEND, tail[0], tail[1], [r.seq for r in records], bodies, [r.hash for r in records], *raws
        )
        return records if written == len(records) else None

    async def _write_guarded(self, batch: list[Entry], deadline: float) -> list[AuditRecord | BaseException]:
        """One transaction: chain lock, tail, every record (guarded ones in savepoints), COMMIT."""
        loop = asyncio.get_running_loop()
        async with self._pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                # The server gives up inside the earliest budget too: a held lock is a clean failure, not a wait.
                # Bounds and chain lock go in one round trip: on a saturated machine each costs tens of ms.
                ms = max(int((deadline - loop.time()) * 1000) - 20, 1)
                await conn.execute(
                    f"SET LOCAL lock_timeout = '{ms}ms'; SET LOCAL statement_timeout = '{ms}ms';"
                    f" SELECT pg_advisory_xact_lock(hashtext({_literal(self._chain_lock)}))"
                )
                tail = await conn.fetchrow(_TAIL)
                seq, prev = (tail[0], tail[1]) if tail else (0, GENESIS_HASH)
                outcomes: list[AuditRecord | BaseException] = []
                records: list[tuple[Any, ...]] = []
                raws: list[tuple[Any, ...]] = []
                for entry in batch:
                    record, body = seal(seq + 1, prev, entry.fields)
                    if entry.also:
                        outcome = await self._guarded(conn, entry, record, body)
                    else:
                        # Plain records go in together below: their chain is fixed by now.
                        outcome = record
                        records.append((record.seq, body, record.hash))
                        if entry.raw_arguments:
                            raws.append(raw_row(record, entry.raw_arguments))
                    outcomes.append(outcome)
                    if isinstance(outcome, AuditRecord):
                        seq, prev = record.seq, record.hash
                if records:
                    await conn.executemany(to_postgres(INSERT_RECORD), records)
                if raws:
                    await conn.executemany(to_postgres(INSERT_RAW), raws)
            except BaseException:
                await rollback(tx)
                raise
            await commit(tx, "audit records")
        self._tail = (seq, prev)
        return outcomes

    async def _guarded(
        self, conn: asyncpg.Connection, entry: Entry, record: AuditRecord, body: str
    ) -> AuditRecord | BaseException:
        """One record with its state changes in a savepoint: a stale guard undoes only this record."""
        import asyncpg

        savepoint = conn.transaction()
        await savepoint.start()
        try:
            await conn.execute(to_postgres(INSERT_RECORD), record.seq, body, record.hash)
            if entry.raw_arguments:
                await conn.execute(to_postgres(INSERT_RAW), *raw_row(record, entry.raw_arguments))
            for sql, params in entry.also:
                if changed(await conn.execute(to_postgres(sql), *params)) == 0:
                    raise StaleState(f"the state changed meanwhile; nothing was recorded ({sql.split()[0]})")
            if entry.notify:
                await conn.execute("SELECT pg_notify($1, $2)", self._channel, str(record.seq))
        except (StaleState, asyncpg.PostgresError) as exc:
            # A timeout or a lost connection is the whole batch's; a refused statement is this record's.
            if isinstance(exc, connection_errors()) or unavailable(exc) is not exc:
                raise
            await savepoint.rollback()
            return exc
        await savepoint.commit()
        return record


class _Begun:
    """A transaction opened by a BEGIN sent along with the batch's first statements (asyncpg's own
    ``Transaction`` sends BEGIN on its own, one round trip more)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self._conn.execute("ROLLBACK")


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (standard_conforming_strings, PostgreSQL's default)."""
    return "'" + text.replace("'", "''") + "'"


def settle(waiting: asyncio.Future[AuditRecord], outcome: AuditRecord | BaseException) -> None:
    """Answer one queued append's caller (on the loop); a caller already answered or gone is left be."""
    if waiting.done():
        return
    if isinstance(outcome, AuditRecord):
        waiting.set_result(outcome)
    else:
        waiting.set_exception(outcome)


def _retrieved(outcome: asyncio.Future[AuditRecord]) -> None:
    if not outcome.cancelled():
        outcome.exception()


def _collect(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned step's outcome, so its failure is logged once and not left unretrieved."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("an audit step given up on failed afterwards: %s", task.exception())


async def rollback(tx: Any) -> None:
    with contextlib.suppress(*connection_errors(), Exception):
        await tx.rollback()


async def commit(tx: Any, what: str) -> None:
    """COMMIT; losing the connection now leaves the outcome unknown, so it is never retried."""
    try:
        await tx.commit()
    except connection_errors() as exc:
        raise ServiceUnavailable(
            f"the database connection was lost while committing {what}",
            hint="it may or may not have been recorded; `switchboard audit verify` shows the chain intact either way",
        ) from exc


async def bounded[T](work: Awaitable[T], seconds: float, abandoned: set[asyncio.Future[Any]]) -> T:
    """``work`` within ``seconds`` or ``AuditUnavailable``; work given up on finishes in the background."""
    # The work runs as its own task: when the budget is spent the caller is answered at once,
    # and the cancelled work rolls back and returns its connection in the background (a
    # server that does not answer cannot hold the caller up through the clean-up either).
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), max(seconds, 0))
    except TimeoutError:
        if task.done() and not task.cancelled() and task.exception() is None:
            return task.result()  # finished as the bound struck: the outcome is known, so say it
        task.cancel()
        abandoned.add(task)
        task.add_done_callback(abandoned.discard)
        task.add_done_callback(_collect)
        raise timed_out() from None
    except asyncio.CancelledError:
        task.cancel()  # whoever waited is gone: the work stops too, so nothing lands after they were told
        raise
    except Exception as exc:
        failure = unavailable(exc)
        if failure is exc:
            raise
        raise failure from exc
