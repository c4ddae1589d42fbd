"""Group commit for the SQLite audit chain: the appends queued meanwhile share one transaction.

Each record in a transaction of its own cost a hand-off to the store's thread and back, and a
commit that writes the same few pages (the table, its indexes, the raw values) to the
write-ahead log again: about a millisecond and a half of CPU a turn on that thread. Here an
append joins a queue; one step on the thread takes what is queued (up to ``MAX_BATCH``),
chains it in queue order, writes it in one transaction and answers every caller with one
hand-off back. The first append of a quiet store starts a step at once, so a lone call waits
no longer than before; appends that arrive while a step runs form the next batch.

Nothing about the guarantees changes. A caller is answered only after its record's outcome
is settled: committed, or not written at all. A record with state changes (``also``) runs in
a SAVEPOINT, so a stale guard fails that record alone and its seq goes to the next one; any
other failure fails the whole batch, and nothing of it is kept. An append whose budget ran
out while queued is not written and fails with ``AuditUnavailable``, as before. A batch of
one goes through ``AuditStore.append_now``, the one-record path.

The PostgreSQL twin is ``audit_batch``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from gateway.audit_batch import settle
from gateway.audit_store import (
    INSERT_RAW,
    INSERT_RECORD,
    AuditStore,
    AuditUnavailable,
    StaleState,
    Statement,
    backed_up,
    raw_row,
    seal,
    unrecordable,
)
from shared.audit import AuditRecord

MAX_BATCH = 128
"""Records per transaction at most: more wait for the next step (bounds one commit's work)."""

Outcome = AuditRecord | BaseException


@dataclass(eq=False, slots=True)
class Pending:
    """One queued append and the future its caller awaits."""

    fields: dict[str, Any]
    raw_arguments: dict[str, Any] | None
    also: tuple[Statement, ...]
    deadline: float
    """``time.monotonic()`` after which the record may no longer be written."""
    outcome: asyncio.Future[AuditRecord]


class GroupCommit:
    """The queue of one store's appends, drained by one step at a time on the store's thread."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        # Appended on the loop, taken on the thread: deque's append and popleft are atomic.
        self._queue: deque[Pending] = deque()
        self._step: asyncio.Future[list[tuple[Pending, Outcome]]] | None = None
        # What the running step took off the queue: if the step itself fails, they are answered too.
        self._taken: list[Pending] = []

    async def append(
        self, fields: dict[str, Any], raw_arguments: dict[str, Any] | None, also: tuple[Statement, ...], budget: float
    ) -> AuditRecord:
        entry = Pending(
            fields, raw_arguments, also, time.monotonic() + budget, asyncio.get_running_loop().create_future()
        )
        self._queue.append(entry)
        if self._step is None:
            self._start()
        return await entry.outcome

    def _start(self) -> None:
        try:
            step = self._store.worker.run(self._drain_one_batch)
        except RuntimeError as exc:  # the store is closing: nothing more is written
            while self._queue:
                settle(self._queue.popleft().outcome, AuditUnavailable(f"the audit store is closed ({exc})"))
            return
        self._step = step
        step.add_done_callback(self._settled)

    def _settled(self, step: asyncio.Future[list[tuple[Pending, Outcome]]]) -> None:
        """On the loop: answer the batch's callers, then start on what queued up meanwhile."""
        self._step = None
        if step.cancelled():
            outcomes: list[tuple[Pending, Outcome]] = []
        elif (failure := step.exception()) is not None:
            outcomes = [(entry, failure) for entry in (*self._taken, *self._queue)]
            self._queue.clear()
        else:
            outcomes = step.result()
        for entry, outcome in outcomes:
            settle(entry.outcome, outcome)
        if self._queue:
            self._start()

    def _drain_one_batch(self) -> list[tuple[Pending, Outcome]]:
        """On the store's thread: take what is queued and write it; every taken entry gets an outcome."""
        settled: list[tuple[Pending, Outcome]] = []
        batch: list[Pending] = []
        self._taken = []
        while self._queue and len(batch) < MAX_BATCH:
            entry = self._queue.popleft()
            self._taken.append(entry)
            if entry.outcome.cancelled():
                continue  # its caller left before it was written: it never will be
            if time.monotonic() > entry.deadline:
                settled.append((entry, backed_up()))
            else:
                batch.append(entry)
        if len(batch) == 1:
            settled.append((batch[0], self._one(batch[0])))
        elif batch:
            settled += zip(batch, self._many(batch), strict=True)
        return settled

    def _one(self, entry: Pending) -> Outcome:
        try:
            return self._store.append_now(raw_arguments=entry.raw_arguments, also=entry.also, **entry.fields)
        except sqlite3.OperationalError as exc:
            return unrecordable(exc)
        except Exception as exc:
            return exc

    def _many(self, batch: list[Pending]) -> list[Outcome]:
        store = self._store
        while True:
            try:
                outcomes = _write(store.connection, batch, store.head)
                break
            except sqlite3.IntegrityError as exc:
                # Another writer on this file took the seq (against the rule of one writer per
                # file): continue the chain from its record rather than fork, as append_now does.
                if "audit.seq" not in str(exc):
                    return [exc] * len(batch)
                store.reread_head()
            except sqlite3.OperationalError as exc:
                return [unrecordable(exc)] * len(batch)
            except Exception as exc:
                return [exc] * len(batch)
        for outcome in outcomes:
            if isinstance(outcome, AuditRecord):
                store.committed(outcome)
        return outcomes


def _write(db: sqlite3.Connection, batch: list[Pending], head: tuple[int, str]) -> list[Outcome]:
    """One transaction for the whole batch, chained from ``head``; raises if it cannot commit."""
    seq, prev = head
    outcomes: list[Outcome] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for entry in batch:
            record, body = seal(seq + 1, prev, entry.fields)
            statements: list[Statement] = [(INSERT_RECORD, (record.seq, body, record.hash))]
            if entry.raw_arguments:
                statements.append((INSERT_RAW, raw_row(record, entry.raw_arguments)))
            outcome = None
            if entry.also:
                outcome = _guarded(db, statements, entry.also)
            else:
                _run(db, statements)
            if outcome is None:
                outcomes.append(record)
                seq, prev = record.seq, record.hash
            else:
                outcomes.append(outcome)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return outcomes


def _run(db: sqlite3.Connection, statements: list[Statement]) -> None:
    for sql, params in statements:
        db.execute(sql, params)


def _guarded(db: sqlite3.Connection, statements: list[Statement], guarded: tuple[Statement, ...]) -> Exception | None:
    """The record and its state changes in a savepoint: a stale guard or a refused change undoes
    this record alone (its failure is returned); a failure of the store itself fails the batch."""
    db.execute("SAVEPOINT audit_record")
    try:
        _run(db, statements)
        for sql, params in guarded:
            if db.execute(sql, params).rowcount == 0:
                raise StaleState(f"the state changed meanwhile; nothing was recorded ({sql.split()[0]})")
    except (StaleState, sqlite3.IntegrityError) as exc:
        if isinstance(exc, sqlite3.IntegrityError) and "audit.seq" in str(exc):
            raise
        db.execute("ROLLBACK TO audit_record")
        db.execute("RELEASE audit_record")
        return exc
    db.execute("RELEASE audit_record")
    return None
