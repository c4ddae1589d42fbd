"""The append-only, hash-chained audit log on SQLite.

Invariants:
- ``seq`` runs 1, 2, 3 … with no gaps, and each record's ``prev_hash`` is the previous
  record's ``hash``; one asyncio lock serializes appends so the chain stays linear.
- A record is committed before ``append`` returns: a decision is durable before the
  upstream call it allows is made.
- Triggers refuse UPDATE and DELETE, so changing history needs a deliberate schema change,
  and the hash chain then shows where.

One gateway process writes one audit file; the chain tail is kept in memory.

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
from orchestrator.governance.fastchain import verify_rows
from shared.audit import GENESIS_HASH, AuditRecord, ChainReport, canonical_json, record_hash
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
        conn: aiosqlite.Connection,
        last_seq: int,
        last_hash: str,
        checkpoints: CheckpointWriter | None = None,
        checkpoint_every: int = 256,
    ) -> None:
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
        await conn.executescript(_SCHEMA)
        await conn.commit()
        async with conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        return cls(conn, row["seq"] if row else 0, row["hash"] if row else GENESIS_HASH, checkpoints, checkpoint_every)

    @property
    def conn(self) -> aiosqlite.Connection:
        """The shared connection: governance state commits in the same transactions as its records."""
        return self._conn

    @property
    def lock(self) -> asyncio.Lock:
        return self._lock

    async def close(self) -> None:
        self.checkpoint()
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
        async with self._lock:
            return await self._append_locked(raw_arguments, also, fields)

    async def _append_locked(
        self, raw_arguments: dict[str, Any] | None, also: tuple[Statement, ...], fields: dict[str, Any]
    ) -> AuditRecord:
        record = AuditRecord(
            seq=self._last_seq + 1,
            id=uuid.uuid4().hex,
            time=datetime.now(UTC).isoformat(),
            prev_hash=self._last_hash,
            **fields,
        )
        body = record.model_dump()
        body["hash"] = record_hash(body)
        try:
            await self._conn.execute(_INSERT, _to_row(body))
            if raw_arguments:
                await self._conn.execute(
                    "INSERT INTO audit_raw (record_id, customer_id, arguments) VALUES (?, ?, ?)",
                    (record.id, record.customer_id, canonical_json(raw_arguments).decode()),
                )
            for sql, params in also:
                cur = await self._conn.execute(sql, params)
                if cur.rowcount == 0:
                    raise StaleState(f"the state changed meanwhile; nothing was recorded ({sql.split()[0]})")
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
        self._last_seq = record.seq
        self._last_hash = body["hash"]
        record.hash = body["hash"]
        if record.seq % self._every == 0:
            self.checkpoint()
        return record

    async def run(self, statements: tuple[Statement, ...]) -> None:
        """Commit state changes that need no audit record of their own (their record exists)."""
        async with self._lock:
            try:
                for sql, params in statements:
                    await self._conn.execute(sql, params)
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise

    async def erase_customer(self, customer_id: str) -> int:
        """Erase one customer's raw argument values; the chain (redacted + digests) is untouched."""
        async with self._lock:
            cur = await self._conn.execute("DELETE FROM audit_raw WHERE customer_id = ?", (customer_id,))
            await self._conn.commit()
            return cur.rowcount

    async def raw_arguments(self, record_id: str) -> dict[str, Any] | None:
        async with self._conn.execute("SELECT arguments FROM audit_raw WHERE record_id = ?", (record_id,)) as cur:
            row = await cur.fetchone()
        return json.loads(row[0]) if row else None


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
