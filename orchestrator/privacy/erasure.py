"""Erasure everywhere: a customer's personal values replaced in every store of the data directory.

Each personal value (email, phone, account number, full name) is replaced by a pseudonym of
the same byte length, made from a random key that is thrown away: the same value becomes the
same pseudonym in every store (references between tables still join), nobody can map it back,
and binary cells (a specialist's serialized working state, an event body) stay well-formed,
because no length prefix inside them changes. The unified customer id stays as the
pseudonymous reference the audit chain already holds.

Every changed SQLite file is written with ``secure_delete`` (replaced cells are overwritten,
not left in free pages), then its write-ahead log is checkpointed and truncated, so no copy of
an erased value stays in ``-wal`` either. The audit log is the gateway's to change (it is one
writer's file): ``erase-customer`` asks the gateway first, which deletes the raw values and
does the same to its own log. Its hashed chain holds only masked values and the customer id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.privacy.stores import Customer, sqlite_files, system_of, tables, text_files

_GATEWAY_OWNED = ("audit.db",)
_CHECKPOINT_TRIES = 50


@dataclass
class ErasureReport:
    cells: dict[str, int] = field(default_factory=dict)
    """Cells (or outbox lines) changed, per system."""
    wal_left: list[str] = field(default_factory=list)
    """Files whose write-ahead log could not be truncated (a reader held it): erase again later."""


def pseudonyms(values: tuple[str, ...]) -> dict[bytes, bytes]:
    """Each value's replacement, as long as the value in UTF-8 bytes, from a key nobody keeps."""
    key = secrets.token_bytes(32)
    table: dict[bytes, bytes] = {}
    for value in values:
        raw = value.encode()
        if len(raw) < 4:
            continue  # too short to be an identifier; replacing it would hit unrelated text
        mark = hmac.new(key, raw, hashlib.sha256).hexdigest() * 4
        table[raw] = ("X" + mark)[: len(raw)].encode()
    return table


def _replace(data: bytes, table: dict[bytes, bytes]) -> bytes:
    # Longest first, so a name inside an email is not replaced before the email.
    for value in sorted(table, key=len, reverse=True):
        data = data.replace(value, table[value])
    return data


def _erase_file(conn: sqlite3.Connection, table_map: dict[bytes, bytes]) -> int:
    changed = 0
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in tables(conn):
            keys = _row_key(conn, table)
            key_sql = ", ".join(f'"{k}"' if k != "rowid" else k for k in keys)
            where = " AND ".join(f'"{k}" = ?' if k != "rowid" else "rowid = ?" for k in keys)
            cursor = conn.execute(f'SELECT {key_sql}, * FROM "{table}"')
            columns = [d[0] for d in cursor.description][len(keys) :]
            updates = []
            for row in cursor.fetchall():
                for column, cell in zip(columns, row[len(keys) :], strict=True):
                    data = cell.encode() if isinstance(cell, str) else cell if isinstance(cell, bytes) else None
                    if data is None or not any(v in data for v in table_map):
                        continue
                    new = _replace(data, table_map)
                    updates.append((column, new.decode() if isinstance(cell, str) else new, row[: len(keys)]))
            for column, value, key in updates:
                conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE {where}', (value, *key))
            changed += len(updates)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return changed


def _row_key(conn: sqlite3.Connection, table: str) -> list[str]:
    """How to name one row: its rowid, or its primary key in a WITHOUT ROWID table."""
    try:
        conn.execute(f'SELECT rowid FROM "{table}" LIMIT 0')
        return ["rowid"]
    except sqlite3.OperationalError:
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        return [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]


def _truncate_wal(conn: sqlite3.Connection) -> bool:
    """Checkpoint the whole log into the database and cut it to nothing; False while readers hold it."""
    for _ in range(_CHECKPOINT_TRIES):
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.1)  # an operator command, not a server: waiting for a reader to move on is fine
    return False


def erase_everywhere(data_dir: Path, customer: Customer) -> ErasureReport:
    """Replace ``customer``'s personal values in every store but the gateway's audit log."""
    table_map = pseudonyms(customer.personal())
    report = ErasureReport()
    for path in sqlite_files(data_dir):
        if path.relative_to(data_dir).as_posix() in _GATEWAY_OWNED:
            continue
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            changed = _erase_file(conn, table_map)
            if changed:
                report.cells[system_of(data_dir, path)] = report.cells.get(system_of(data_dir, path), 0) + changed
            wal = path.with_name(path.name + "-wal")
            if wal.exists() and not _truncate_wal(conn):
                report.wal_left.append(str(path))
        finally:
            conn.close()
    for path in text_files(data_dir):
        data = path.read_bytes()
        if any(v in data for v in table_map):
            lines = sum(1 for line in data.splitlines() if any(v in line for v in table_map))
            tmp = path.with_name(path.name + ".erasing")
            tmp.write_bytes(_replace(data, table_map))
            tmp.chmod(0o600)
            tmp.replace(path)
            report.cells[system_of(data_dir, path)] = lines
    return report
