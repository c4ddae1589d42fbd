"""Subject access: everything the data directory holds about one customer, as an archive.

The archive (a zip) holds ``data.json`` — per system, per table, every row that names the
customer by id, email, phone or account number (binary cells as base64), plus the lines of
the message outbox — and ``summary.txt``, the same in a few readable lines. Conversations
are found by the customer id too, and every row of a conversation the customer had (its
transcript, the specialists' working state) comes with them.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.audit_links import linked_seqs
from gateway.audit_reader import SqliteReader
from orchestrator.privacy.stores import (
    Customer,
    conversation_ids,
    mentions,
    sqlite_files,
    system_of,
    tables,
    text_files,
)

ARCHIVE_FORMAT = "switchboard-subject-access/1"


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode()}
    return value


def _linked_ids(data_dir: Path, customer: Customer) -> tuple[str, ...]:
    """Ids of the audit records an outcome naming the customer links to them (made before they were known)."""
    path = data_dir / "audit.db"
    if not path.exists():
        return ()
    reader = SqliteReader(path)
    try:
        seqs = linked_seqs(reader, customer.customer_id)
        rows = [reader.rows(f"SELECT id FROM audit WHERE seq IN ({', '.join('?' * len(c))})", c) for c in _chunks(seqs)]
    finally:
        reader.close()
    return tuple(r[0] for chunk in rows for r in chunk)


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def collect(data_dir: Path, customer: Customer) -> dict[str, Any]:
    """``{system: {table: [row, …]}}`` for every store that holds something about ``customer``."""
    conversations = conversation_ids(data_dir, customer)
    # A linked audit record's id is in its own row and in its raw values' row: both are theirs.
    values = tuple(v.encode() for v in (*customer.identifiers(), *conversations, *_linked_ids(data_dir, customer)) if v)
    found: dict[str, Any] = {}
    for path in sqlite_files(data_dir):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            for table in tables(conn):
                cursor = conn.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cursor.description]
                rows = [
                    {c: _cell(v) for c, v in zip(columns, row, strict=True)}
                    for row in cursor
                    if any(mentions(cell, values) for cell in row)
                ]
                if rows:
                    found.setdefault(system_of(data_dir, path), {})[table] = rows
        finally:
            conn.close()
    for path in text_files(data_dir):
        lines = [
            json.loads(line) if line.startswith("{") else line
            for line in path.read_text(encoding="utf-8").splitlines()
            if mentions(line, values)
        ]
        if lines:
            found.setdefault(system_of(data_dir, path), {})[path.name] = lines
    return found


def summary(customer: Customer, found: dict[str, Any], at: datetime) -> str:
    lines = [
        f"What Switchboard holds about customer {customer.customer_id} (exported {at.isoformat()})",
        f"Identifiers searched for: the customer id, email, phone number and account number ({len(found)} systems).",
        "",
    ]
    for system, held in sorted(found.items()):
        counts = ", ".join(f"{len(rows)} in {table}" for table, rows in sorted(held.items()))
        lines.append(f"- {system}: {counts}")
    lines += ["", "The machine-readable copy of every record is data.json in this archive."]
    return "\n".join(lines) + "\n"


def write_archive(
    data_dir: Path, customer: Customer, out: Path, *, exported_by: str, found: dict[str, Any] | None = None
) -> tuple[Path, dict[str, Any]]:
    """Write ``subject-access-<id>-<time>.zip`` into the folder ``out``; returns its path and contents.

    ``found``: what was collected already (from every store of a PostgreSQL deployment too)."""
    at = datetime.now(UTC)
    found = collect(data_dir, customer) if found is None else found
    document = {
        "format": ARCHIVE_FORMAT,
        "customer_id": customer.customer_id,
        "exported_at": at.isoformat(),
        "exported_by": exported_by,
        "systems": found,
    }
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = out / f"subject-access-{customer.customer_id}-{at.strftime('%Y%m%dT%H%M%SZ')}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, indent=2, ensure_ascii=False, default=str))
        archive.writestr("summary.txt", summary(customer, found, at))
    path.chmod(0o600)
    return path, document
