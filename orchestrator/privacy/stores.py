"""Every store in an embedded data directory that can hold a customer's data, and how to read it.

The data directory holds SQLite files (each system's database, the conversations, the skills'
checkpoints, signals, the audit log) and a few JSON-lines files (the outbox of messages
"sent"). Rather than a list of tables that goes stale the day a table is added, every table
of every SQLite file is read and every cell matched against the customer's identifiers; a
table added later is covered without a change here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.errors import InvalidRequest, NotFound

_SQLITE_MAGIC = b"SQLite format 3\x00"
_TEXT_SUFFIXES = (".jsonl",)
# What each store is, in words an auditor reads (the file's path inside the data directory).
_SYSTEMS = {
    "audit.db": "audit decisions",
    "conversations.db": "conversations",
    "signals.db": "network signals",
    "outbox.jsonl": "outbox (messages sent)",
}


@dataclass(frozen=True)
class Customer:
    """Who a request is about: the unified id and the identifiers other systems key them by."""

    customer_id: str
    email: str
    msisdn: str
    account_number: str
    full_name: str

    def identifiers(self) -> tuple[str, ...]:
        return (self.customer_id, self.email, self.msisdn, self.account_number)

    def personal(self) -> tuple[str, ...]:
        """The identifiers an erasure removes everywhere (the unified id stays as the pseudonymous reference)."""
        return (self.email, self.msisdn, self.account_number)

    def names(self) -> tuple[str, ...]:
        """What the customer is called, full name first: others may be called the same, so these
        are erased only where the data is about this customer."""
        return (self.full_name, self.first_name)

    @property
    def first_name(self) -> str:
        """How a customer may introduce themselves ("this is Maria"): erased where it is about them."""
        return self.full_name.split()[0] if self.full_name.split() else ""


def system_of(data_dir: Path, path: Path) -> str:
    relative = path.relative_to(data_dir).as_posix()
    if relative in _SYSTEMS:
        return _SYSTEMS[relative]
    if relative.startswith("systems/"):
        return path.stem  # crm, billing, payments, support, identity, consent, network
    if relative.startswith("agents/"):
        return f"{path.parent.name} specialist's working state"
    return relative


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def sqlite_files(data_dir: Path) -> Iterator[Path]:
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal")) and is_sqlite(path):
            yield path


def text_files(data_dir: Path) -> Iterator[Path]:
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and path.suffix in _TEXT_SUFFIXES:
            yield path


def tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables (virtual tables and SQLite's own are left out)."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [name for name, sql in rows if not (sql or "").upper().startswith("CREATE VIRTUAL")]


def mentions(cell: object, values: tuple[bytes, ...]) -> bool:
    data = cell.encode() if isinstance(cell, str) else cell if isinstance(cell, bytes) else None
    return data is not None and any(_contains(data, v) for v in values)


def _contains(data: bytes, value: bytes) -> bool:
    """``value`` in ``data`` not as part of a longer identifier (CUST-00042 is not in CUST-000421)."""
    return re.search(rb"(?<![A-Za-z0-9])" + re.escape(value) + rb"(?![A-Za-z0-9])", data) is not None


def conversation_ids(data_dir: Path, customer: Customer) -> tuple[str, ...]:
    """The customer's conversations in the data directory (their transcripts are theirs)."""
    path = data_dir / "conversations.db"
    if not path.exists():
        return ()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id FROM conversations WHERE customer_id = ?", (customer.customer_id,)).fetchall()
    finally:
        conn.close()
    return tuple(r[0] for r in rows)


def find_customer(data_dir: Path, customer_id: str) -> Customer:
    """The customer's identifiers from the identity system of record."""
    if not re.fullmatch(r"CUST-\d{1,12}", customer_id):
        raise InvalidRequest(f"{customer_id!r} is not a unified customer id", hint="e.g. CUST-00042")
    path = data_dir / "systems" / "identity.db"
    if not path.exists():
        raise NotFound(
            f"no identity system in {data_dir}",
            hint="subject access reads the embedded data directory; start it once with `switchboard up`",
        )
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT customer_id, email, msisdn, account_number, full_name FROM customers WHERE customer_id = ?",
            (customer_id,),
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise NotFound(f"no customer {customer_id} in the identity system", hint="check the id (switchboard customers)")
    return Customer(*row)
