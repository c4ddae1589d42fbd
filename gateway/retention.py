"""Retention of the audit log: raw argument values and old records, pruned so verification still holds.

Two data classes live here: *raw tool arguments* (``audit_raw``, outside the chain) are simply
deleted once older than their retention; *audit bodies* (the chained records themselves) are
pruned as a **signed segment**. Before records 1..N go, a line is signed into the checkpoints
file and the witness: ``{"seq": N, "hash": <hash of N>, "segment": "pruned"}``. Verification
then starts at record N+1 and checks that its ``prev_hash`` is the signed hash: the kept chain is
still proved complete and unaltered, and a deletion without such a line is still reported.
The head is never pruned, and every pruning is itself an audit record.

The SQLite log is pruned here (``prune_now``); the PostgreSQL store does the same under its chain
lock (``PostgresAuditStore.prune``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.audit_reader import AuditReader
from gateway.checkpoints import CheckpointWriter, Witness, segment_anchor
from shared.audit import GENESIS_HASH

if TYPE_CHECKING:
    from gateway.audit_store import AuditStore
    from gateway.audit_store_pg import PostgresAuditStore

_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused'); END"
)


@dataclass(frozen=True)
class AuditRetention:
    """Days each audit data class is kept; None keeps it for ever."""

    raw_arguments_days: float | None = None
    audit_days: float | None = None

    def due(self) -> bool:
        return self.raw_arguments_days is not None or self.audit_days is not None


@dataclass(frozen=True)
class Pruned:
    raw_arguments: int
    records: int
    first_kept: int


def cutoff(days: float | None, now: datetime) -> str | None:
    """The ISO time before which a class has expired (records store ``datetime.isoformat()`` in UTC)."""
    return None if days is None else (now - timedelta(days=days)).isoformat()


def prune_now(
    db: sqlite3.Connection, checkpoints: CheckpointWriter | None, last_seq: int, raw_before: str | None,
    records_before: str | None,
) -> Pruned:  # fmt: skip
    """One pruning, on the audit store's thread. The segment line is on disk before any record goes."""
    raw = 0
    if raw_before is not None:
        raw = db.execute(
            "DELETE FROM audit_raw WHERE record_id IN (SELECT id FROM audit WHERE time < ?)", (raw_before,)
        ).rowcount
    first_row = db.execute("SELECT min(seq) FROM audit").fetchone()
    first = int(first_row[0] or 1)
    records = 0
    if records_before is not None and checkpoints is not None:
        row = db.execute(
            "SELECT seq, hash FROM audit WHERE time < ? AND seq < ? ORDER BY seq DESC LIMIT 1",
            (records_before, last_seq),  # the head always stays: the next record links to it
        ).fetchone()
        if row is not None and int(row[0]) >= first:
            seq, head = int(row[0]), str(row[1])
            line = checkpoints.sign(seq, head, segment=True)
            assert line is not None
            checkpoints.persist(line)
            db.execute("BEGIN IMMEDIATE")
            try:
                # A deliberate schema change, inside one transaction: the guard is back before COMMIT.
                db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
                records = db.execute("DELETE FROM audit WHERE seq <= ?", (seq,)).rowcount
                db.execute("DELETE FROM audit_raw WHERE record_id NOT IN (SELECT id FROM audit)")
                db.execute(_TRIGGER)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            first = seq + 1
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of what went stays in the log file
    return Pruned(raw, records, first)


def kept_start(
    reader: AuditReader, checkpoints: Path | None, public_pem: str | None, witness: Path | None,
    remote: Witness | None,
) -> tuple[int, str | None]:  # fmt: skip
    """(first record kept, the hash it must link to); None as hash when records are gone unsigned."""
    row = reader.one("SELECT min(seq) FROM audit")
    first = int(row[0]) if row is not None and row[0] is not None else 1
    if first == 1:
        return 1, GENESIS_HASH
    if checkpoints is None or public_pem is None:
        return first, None
    return first, segment_anchor(checkpoints, public_pem, first, witness, remote)


async def apply(
    store: AuditStore | PostgresAuditStore, retention: AuditRetention, now: datetime | None = None
) -> Pruned:
    """Prune what expired and record it (an audit record says what went)."""
    now = now or datetime.now(UTC)
    pruned = await store.prune(cutoff(retention.raw_arguments_days, now), cutoff(retention.audit_days, now))
    if pruned.raw_arguments or pruned.records:
        from shared.audit import digest

        args = {"raw_arguments": pruned.raw_arguments, "records": pruned.records, "first_kept": pruned.first_kept}
        await store.append(
            kind="decision",
            decision="allow",
            agent="gateway",
            tool="governance.retention",
            arguments=args,
            arguments_digest=digest(args),
            policy_ids=["retention"],
            reason=f"retention: {pruned.raw_arguments} raw argument sets and {pruned.records} records pruned; "
            f"the chain is kept from record {pruned.first_kept}, anchored by a signed segment",
        )
    return pruned
