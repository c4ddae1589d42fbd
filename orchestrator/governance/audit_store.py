"""The append-only, hash-chained audit log on SQLite.

Invariants:
- ``seq`` runs 1, 2, 3 … with no gaps, and each record's ``prev_hash`` is the previous
  record's ``hash``; one asyncio lock serializes appends so the chain stays linear.
- A record is committed before ``append`` returns: a decision is durable before the
  upstream call it allows is made.
- Triggers refuse UPDATE and DELETE, so changing history needs a deliberate schema change,
  and the hash chain then shows where.

One gateway process writes one audit file; the chain tail is kept in memory.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from shared.audit import GENESIS_HASH, AuditRecord, ChainReport, canonical_json, record_hash, verify_chain
from shared.sqlite import connect

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
"""

_INSERT = f"INSERT INTO audit ({', '.join(_FIELDS)}) VALUES ({', '.join('?' for _ in _FIELDS)})"


def _to_row(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(canonical_json(record[f]).decode() if f in _JSON_FIELDS else record[f] for f in _FIELDS)


def _from_row(row: sqlite3.Row) -> dict[str, Any]:
    return {f: json.loads(row[f]) if f in _JSON_FIELDS else row[f] for f in _FIELDS}


class AuditStore:
    """Appends audit records; open with ``await AuditStore.open(path)``."""

    def __init__(self, conn: aiosqlite.Connection, last_seq: int, last_hash: str) -> None:
        self._conn = conn
        self._last_seq = last_seq
        self._last_hash = last_hash
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> AuditStore:
        conn = await connect(path)
        await conn.executescript(_SCHEMA)
        await conn.commit()
        async with conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        return cls(conn, row["seq"] if row else 0, row["hash"] if row else GENESIS_HASH)

    async def close(self) -> None:
        await self._conn.close()

    async def append(self, **fields: Any) -> AuditRecord:
        """Chain, hash and commit one record; ``seq``, ``id``, ``time`` and hashes are set here."""
        async with self._lock:
            record = AuditRecord(
                seq=self._last_seq + 1,
                id=uuid.uuid4().hex,
                time=datetime.now(UTC).isoformat(),
                prev_hash=self._last_hash,
                **fields,
            )
            body = record.model_dump()
            body["hash"] = record_hash(body)
            await self._conn.execute(_INSERT, _to_row(body))
            await self._conn.commit()
            self._last_seq = record.seq
            self._last_hash = body["hash"]
            record.hash = body["hash"]
            return record


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no audit log at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _all_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for row in conn.execute("SELECT * FROM audit ORDER BY seq"):
        yield _from_row(row)


def verify_audit(audit_db: Path) -> ChainReport:
    """Walk the whole chain; report it intact or name the first broken record.

    Synchronous and read-only, so a command-line tool can call it while the gateway runs.
    """
    conn = _read_only(Path(audit_db))
    try:
        return verify_chain(_all_rows(conn))
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
