"""Moving a SQLite audit log of the old layout (one column per field) to canonical bodies.

The old layout stored each field in its own column and re-assembled the canonical JSON to
verify. Its rows are copied into the new layout with the body assembled exactly as the old
verifier hashed it, and the stored hashes as they are: an intact chain stays intact, signed
checkpoints still match, and a record that was tampered with before the move is still
reported as changed after it. The move is one transaction: a crash leaves the old layout.
"""

from __future__ import annotations

import logging
import sqlite3
from json.encoder import encode_basestring
from typing import Any

from gateway.audit_columns import QUERY_COLUMNS
from shared.audit import AuditRecord

log = logging.getLogger(__name__)

_JSON_COLUMNS = frozenset({"arguments", "policy_ids"})
# The old layout had a column per field of its day; fields added since (``caller``, ``oversight``, ``links``)
# never were.
_KEYS = tuple(sorted(f for f in AuditRecord.model_fields if f not in ("hash", "caller", "oversight", "links")))
_PREFIXES = tuple(("{" if i == 0 else ",") + f'"{k}":' for i, k in enumerate(_KEYS))


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)  # int and float: json.dumps writes both with repr


def legacy_body(row: sqlite3.Row) -> str:
    """The canonical JSON the old layout hashed, from its columns (JSON columns were stored canonically)."""
    parts = []
    for key, prefix in zip(_KEYS, _PREFIXES, strict=True):
        parts.append(prefix)
        parts.append(row[key] if key in _JSON_COLUMNS else _encode(row[key]))
    parts.append("}")
    return "".join(parts)


def needs_migration(db: sqlite3.Connection) -> bool:
    columns = {r[1] for r in db.execute("PRAGMA table_info(audit)")}
    return bool(columns) and "body" not in columns


# The tables are defined in ``gateway.tables`` and created by the gateway's revisions
# (``gateway/migrations``). This is the layout a log of the old one-column-per-field kind is
# moved into before those run; it is the baseline revision's, word for word.
_GENERATED = "".join(
    f",\n    {c} TEXT GENERATED ALWAYS AS (json_extract(body, '$.{c}')) VIRTUAL" for c in QUERY_COLUMNS
)
BODY_TABLE = f"""CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    body TEXT NOT NULL CHECK (json_extract(body, '$.seq') = seq),
    hash TEXT NOT NULL{_GENERATED}
)"""
BODY_REST = [
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_id ON audit (id)",
    "CREATE INDEX IF NOT EXISTS audit_conversation ON audit (conversation_id, seq)",
    "CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, seq)",
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused'); END",
]


def migrate(db: sqlite3.Connection) -> int:
    """Copy the old ``audit`` rows into the new layout in one transaction; returns the count."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(BODY_TABLE.replace("audit (", "audit_next (", 1))
        old = db.cursor()
        old.row_factory = sqlite3.Row
        old.execute("SELECT * FROM audit ORDER BY seq")
        count = 0
        while rows := old.fetchmany(4096):
            db.executemany(
                "INSERT INTO audit_next (seq, body, hash) VALUES (?, ?, ?)",
                [(r["seq"], legacy_body(r), r["hash"]) for r in rows],
            )
            count += len(rows)
        db.execute("DROP TABLE audit")  # with its indexes and triggers; the new ones follow
        db.execute("ALTER TABLE audit_next RENAME TO audit")
        for statement in BODY_REST:
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    log.warning("audit log moved to canonical bodies: %d records copied, hashes unchanged", count)
    return count
