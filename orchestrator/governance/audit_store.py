"""The append-only, hash-chained audit log on SQLite.

Invariants:
- ``seq`` runs 1, 2, 3 … with no gaps, and each record's ``prev_hash`` is the previous
  record's ``hash``. An append runs synchronously on the event loop thread, with no await
  between reading the chain tail and committing, so appends can never interleave.
- A record is committed before ``append`` returns: a decision is durable before the
  upstream call it allows is made.
- Triggers refuse UPDATE and DELETE, so changing history needs a deliberate schema change,
  and the hash chain then shows where.

One gateway process writes one audit file; the chain tail is kept in memory. Writes go
through a dedicated ``sqlite3`` connection in WAL mode with ``synchronous=NORMAL``: a commit
is durable against a process crash and costs tens of microseconds, less than the thread hop
an ``aiosqlite`` statement would pay, so every governed call saves three hops. A checkpoint
of the WAL now and then may block the loop for a millisecond or two; that is the price of
never letting an allow go upstream before its record is on disk. The ``aiosqlite``
connection (``conn``) remains for readers that must not block the loop.

Personal data: the hashed record holds redacted arguments and the digest of the raw ones.
The raw arguments sit in ``audit_raw``, outside the chain, so erasing a customer's raw
values (``erase_customer``) leaves every hash intact. Signed checkpoints of the chain head
(``checkpoints.py``) are written every ``checkpoint_every`` records and on close.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from orchestrator.governance.checkpoints import CheckpointWriter, check_checkpoints
from orchestrator.governance.fastchain import _KEYS, row_hash, verify_rows
from shared.audit import GENESIS_HASH, AuditRecord, ChainReport, canonical_json
from shared.sqlite import connect

Statement = tuple[str, tuple[Any, ...]]

_FIELDS = tuple(AuditRecord.model_fields)
_JSON_FIELDS = frozenset({"arguments", "policy_ids"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    conversation_id TEXT,
    trace_id TEXT,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    customer_id TEXT,
    arguments TEXT NOT NULL,
    arguments_digest TEXT NOT NULL,
    decision TEXT NOT NULL,
    policy_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    approver TEXT,
    outcome TEXT,
    latency_ms REAL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_conversation ON audit (conversation_id, seq);
CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused'); END;
-- Raw arguments, outside the hash chain: erasable per customer without breaking a hash.
CREATE TABLE IF NOT EXISTS audit_raw (
    record_id TEXT PRIMARY KEY,
    customer_id TEXT,
    arguments TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_raw_customer ON audit_raw (customer_id);
"""

_FIELD_INDEX = {f: i for i, f in enumerate(_FIELDS)}
_INSERT_RAW = "INSERT INTO audit_raw (record_id, customer_id, arguments) VALUES (?, ?, ?)"
_INSERT = f"INSERT INTO audit ({', '.join(_FIELDS)}) VALUES ({', '.join('?' for _ in _FIELDS)})"


def _to_row(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(canonical_json(record[f]).decode() if f in _JSON_FIELDS else record[f] for f in _FIELDS)


def _from_row(row: sqlite3.Row) -> dict[str, Any]:
    return {f: json.loads(row[f]) if f in _JSON_FIELDS else row[f] for f in _FIELDS}


class StaleState(Exception):
    """A guarded state change found the state already changed (e.g. an approval decided twice)."""


class AuditStore:
    """Appends audit records; open with ``await AuditStore.open(path)``."""

    def __init__(
        self,
        writer: sqlite3.Connection,
        conn: aiosqlite.Connection,
        last_seq: int,
        last_hash: str,
        checkpoints: CheckpointWriter | None = None,
        checkpoint_every: int = 256,
    ) -> None:
        self._writer = writer
        self._conn = conn
        self._last_seq = last_seq
        self._last_hash = last_hash
        self._lock = asyncio.Lock()
        self._checkpoints = checkpoints
        self._every = max(checkpoint_every, 1)

    @classmethod
    async def open(
        cls, path: Path, *, checkpoints: CheckpointWriter | None = None, checkpoint_every: int = 256
    ) -> AuditStore:
        conn = await connect(path)
        writer = _writer(path)
        try:
            writer.executescript(_SCHEMA)
            row = writer.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        except BaseException:
            writer.close()
            await conn.close()
            raise
        return cls(writer, conn, row[0] if row else 0, row[1] if row else GENESIS_HASH, checkpoints, checkpoint_every)

    @property
    def conn(self) -> aiosqlite.Connection:
        """A connection for reads (and start-up schema) that must not block the event loop."""
        return self._conn

    @property
    def lock(self) -> asyncio.Lock:
        """Held by multi-step work that must not interleave with other governance writes."""
        return self._lock

    async def close(self) -> None:
        self.checkpoint()
        self._writer.close()
        await self._conn.close()

    def checkpoint(self) -> None:
        """Sign the current head now (also done every ``checkpoint_every`` records and on close)."""
        if self._checkpoints is not None and self._last_seq:
            self._checkpoints.write(self._last_seq, self._last_hash)

    async def append(
        self, *, raw_arguments: dict[str, Any] | None = None, also: tuple[Statement, ...] = (), **fields: Any
    ) -> AuditRecord:
        """Chain, hash and commit one record; ``seq``, ``id``, ``time`` and hashes are set here.

        ``also`` are statements committed in the same transaction (a state change and the
        record that explains it land together or not at all).
        """
        return self.append_now(raw_arguments=raw_arguments, also=also, **fields)

    def append_now(
        self, *, raw_arguments: dict[str, Any] | None = None, also: tuple[Statement, ...] = (), **fields: Any
    ) -> AuditRecord:
        """``append`` without the coroutine, for code that must not yield between steps."""
        record = AuditRecord(
            seq=self._last_seq + 1,
            id=uuid.uuid4().hex,
            time=datetime.now(UTC).isoformat(),
            prev_hash=self._last_hash,
            **fields,
        )
        body = record.model_dump()
        row = _to_row(body)
        # The hash of the stored row is the hash of the canonical record (fastchain's test pins
        # it): hashing the row reuses the JSON columns instead of serializing them twice.
        record.hash = row_hash(tuple(row[_FIELD_INDEX[k]] for k in _KEYS))
        statements: list[Statement] = [(_INSERT, (*row[:-1], record.hash))]
        if raw_arguments:
            statements.append((_INSERT_RAW, (record.id, record.customer_id, canonical_json(raw_arguments).decode())))
        self._commit(statements, also)
        self._last_seq = record.seq
        self._last_hash = record.hash
        if record.seq % self._every == 0:
            self.checkpoint()
        return record

    def _commit(self, statements: list[Statement], guarded: tuple[Statement, ...] = ()) -> int:
        """One transaction; a ``guarded`` statement that changes no row aborts it with StaleState."""
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            for sql, params in statements:
                changed += db.execute(sql, params).rowcount
            for sql, params in guarded:
                if db.execute(sql, params).rowcount == 0:
                    raise StaleState(f"the state changed meanwhile; nothing was recorded ({sql.split()[0]})")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return changed

    def create(self, ddl: str) -> None:
        """Create tables that live beside the log (``CREATE … IF NOT EXISTS`` statements)."""
        self._writer.executescript(ddl)

    async def run(self, statements: tuple[Statement, ...]) -> None:
        """Commit state changes that need no audit record of their own (their record exists)."""
        self._commit(list(statements))

    async def erase_customer(self, customer_id: str) -> int:
        """Erase one customer's raw argument values; the chain (redacted + digests) is untouched."""
        return self._commit([("DELETE FROM audit_raw WHERE customer_id = ?", (customer_id,))])

    async def raw_arguments(self, record_id: str) -> dict[str, Any] | None:
        row = self._writer.execute("SELECT arguments FROM audit_raw WHERE record_id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None


def _writer(path: Path) -> sqlite3.Connection:
    """The dedicated write connection: autocommit mode, transactions are explicit."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000"):
        db.execute(pragma)
    return db


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no audit log at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def verify_audit(audit_db: Path, *, checkpoints: Path | None = None, public_pem: str | None = None) -> ChainReport:
    """Walk the whole chain, then check it against the signed checkpoints when given.

    Reports it intact or names the first broken record. Synchronous and read-only, so a
    command-line tool can call it while the gateway runs.
    """
    conn = _read_only(Path(audit_db))
    try:
        report = verify_rows(conn)
        if not report.intact or checkpoints is None or public_pem is None:
            return report

        def hash_at(seq: int) -> str | None:
            row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
            return row[0] if row else None

        checked, problem = check_checkpoints(checkpoints, public_pem, report.count, hash_at)
        if problem is not None:
            return ChainReport(intact=False, count=report.count, first_broken_seq=problem.seq, reason=problem.reason)
        return report.model_copy(update={"reason": f"{checked} signed checkpoints match"})
    finally:
        conn.close()


def read_audit(
    audit_db: Path, *, conversation_id: str | None = None, agent: str | None = None, limit: int = 100
) -> list[AuditRecord]:
    """The latest ``limit`` records (oldest first), optionally for one conversation or agent."""
    clauses, params = [], []
    if conversation_id is not None:
        clauses.append("conversation_id = ?")
        params.append(conversation_id)
    if agent is not None:
        clauses.append("agent = ?")
        params.append(agent)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    conn = _read_only(Path(audit_db))
    try:
        rows = conn.execute(f"SELECT * FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, max(limit, 0)))
        return [AuditRecord.model_validate(_from_row(r)) for r in reversed(rows.fetchall())]
    finally:
        conn.close()
