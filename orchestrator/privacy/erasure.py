"""Erasure everywhere: a customer's personal values replaced in every store of the data directory.

What is replaced, and by what, is ``pseudonyms``: identifiers everywhere, a first name alone in
whatever is about the customer. The unified customer id stays as the pseudonymous reference the
audit chain already holds.

Every changed SQLite file is written with ``secure_delete`` (replaced cells are overwritten,
not left in free pages), then its write-ahead log is checkpointed and truncated, so no copy of
an erased value stays in ``-wal`` either. The audit log is the gateway's to change (it is one
writer's file): ``erase-customer`` asks the gateway first, which deletes the raw values and
does the same to its own log. Its hashed chain holds only masked values and the customer id.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.privacy.pseudonyms import Pseudonyms
from orchestrator.privacy.stores import Customer, conversation_ids, sqlite_files, system_of, tables, text_files

_GATEWAY_OWNED = ("audit.db",)
_CHECKPOINT_TRIES = 50


@dataclass
class ErasureReport:
    cells: dict[str, int] = field(default_factory=dict)
    """Cells (or outbox lines) changed, per system."""
    wal_left: list[str] = field(default_factory=list)
    """Files whose write-ahead log could not be truncated (a reader held it): erase again later."""

    def add(self, system: str, count: int) -> None:
        if count:
            self.cells[system] = self.cells.get(system, 0) + count


def _as_bytes(cell: object) -> bytes | None:
    return cell.encode() if isinstance(cell, str) else cell if isinstance(cell, bytes) else None


def replaced_row(
    columns: Iterable[str], cells: Iterable[object], names: Pseudonyms
) -> list[tuple[str, str | bytes]]:  # fmt: skip
    """(column, new value) for each cell of one row that holds an erased value (text stays text)."""
    row = list(cells)
    about = names.about(row)
    changes: list[tuple[str, str | bytes]] = []
    for column, cell in zip(columns, row, strict=True):
        data = _as_bytes(cell)
        if data is None or not names.needed(data, about):
            continue
        new = names.apply(data, about)
        changes.append((column, new.decode() if isinstance(cell, str) else new))
    return changes


def _erase_file(conn: sqlite3.Connection, names: Pseudonyms) -> int:
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
                for column, value in replaced_row(columns, row[len(keys) :], names):
                    updates.append((column, value, row[: len(keys)]))
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


def erase_files(data_dir: Path, names: Pseudonyms, report: ErasureReport) -> None:
    """Replace the erased values in every SQLite and JSON-lines file but the gateway's audit log."""
    for path in sqlite_files(data_dir):
        if path.relative_to(data_dir).as_posix() in _GATEWAY_OWNED:
            continue
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            report.add(system_of(data_dir, path), _erase_file(conn, names))
            wal = path.with_name(path.name + "-wal")
            if wal.exists() and not _truncate_wal(conn):
                report.wal_left.append(str(path))
        finally:
            conn.close()
    for path in text_files(data_dir):
        data = path.read_bytes()
        lines = data.splitlines(keepends=True)
        about = [names.about([line]) for line in lines]
        if not any(names.needed(line, a) for line, a in zip(lines, about, strict=True)):
            continue
        changed = sum(1 for line, a in zip(lines, about, strict=True) if names.needed(line, a))
        tmp = path.with_name(path.name + ".erasing")
        tmp.write_bytes(b"".join(names.apply(line, a) for line, a in zip(lines, about, strict=True)))
        tmp.chmod(0o600)
        tmp.replace(path)
        report.add(system_of(data_dir, path), changed)


def erase_everywhere(data_dir: Path, customer: Customer) -> ErasureReport:
    """Replace ``customer``'s personal values in every store of the data directory but the audit log."""
    names = Pseudonyms.of(customer, conversation_ids(data_dir, customer))
    report = ErasureReport()
    erase_files(data_dir, names, report)
    return report
