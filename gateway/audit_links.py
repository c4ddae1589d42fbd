"""Records linked to a customer after the fact: calls made before the customer was known.

An identity look-up or a verification is made before the gateway knows who the customer is,
so its decision record names no customer. The outcome that first names them (``links``) lists
those earlier records of the conversation by ``seq``; it is chained like every other field.
Everything that selects a customer's records (traces filtered by customer, subject access,
erasure of raw values) reads these links too.
"""

from __future__ import annotations

from typing import Any

from gateway.audit_reader import AuditReader

MAX_LINKS = 500
"""A conversation's unattributed records linked at most (a verification follows a few calls)."""

UNATTRIBUTED_SQL = (
    "SELECT seq FROM audit WHERE conversation_id = ? AND customer_id IS NULL AND seq > COALESCE("
    "(SELECT max(seq) FROM audit WHERE conversation_id = ? AND customer_id IS NOT NULL), 0) ORDER BY seq LIMIT ?"
)
"""This conversation's records since it last named a customer, that name none (``?``: conversation twice, limit)."""

# The ``links`` of every record naming the customer, one seq a row.
LINKED_SQL = {
    "sqlite": "SELECT CAST(l.value AS INTEGER) FROM audit AS o, json_each(o.body, '$.links') AS l"
    " WHERE o.customer_id = ? AND o.kind = 'outcome'",
    "postgresql": "SELECT (jsonb_array_elements_text(o.body::jsonb -> 'links'))::bigint FROM audit AS o"
    " WHERE o.customer_id = ? AND o.kind = 'outcome'",
}


def dialect_of(reader: AuditReader) -> str:
    return "sqlite" if type(reader).__name__ == "SqliteReader" else "postgresql"


def linked_seqs(reader: AuditReader, customer_id: str) -> list[int]:
    """The ``seq`` of every record an outcome naming ``customer_id`` links to them, in order."""
    return sorted({int(r[0]) for r in reader.rows(LINKED_SQL[dialect_of(reader)], (customer_id,))})


def customer_clause(customer_id: str, linked: list[int]) -> tuple[str, list[Any]]:
    """SQL (``?`` placeholders) selecting the customer's records: named, or linked to them."""
    if not linked:
        return "customer_id = ?", [customer_id]
    marks = ", ".join("?" * len(linked))
    return f"(customer_id = ? OR seq IN ({marks}))", [customer_id, *linked]


DELETE_LINKED_RAW = {
    dialect: f"DELETE FROM audit_raw WHERE record_id IN (SELECT id FROM audit WHERE seq IN ({sql}))"
    for dialect, sql in LINKED_SQL.items()
}
"""Erasure: the raw values of the records linked to a customer go with theirs (``?``: the customer id)."""
