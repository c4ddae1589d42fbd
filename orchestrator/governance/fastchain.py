"""Verifying the audit chain fast: hashing rows straight from SQLite without model objects.

``shared.audit.record_hash`` hashes the canonical JSON of a record (sorted keys, no spaces,
UTF-8). Here that same byte string is assembled from the stored columns: the JSON columns
are already stored canonically, so they are spliced in as they are instead of being parsed
and dumped again. ``row_hash`` is the plain-Python reference; tests pin that both give the
hash ``record_hash`` gives.
"""

from __future__ import annotations

import hashlib
import sqlite3
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from shared.audit import GENESIS_HASH, AuditRecord, ChainReport

_JSON_COLUMNS = frozenset({"arguments", "policy_ids"})
_KEYS = tuple(sorted(f for f in AuditRecord.model_fields if f != "hash"))
_COLUMNS = (*_KEYS, "hash")
_PREFIXES = tuple(("{" if i == 0 else ",") + f'"{k}":' for i, k in enumerate(_KEYS))
_SEQ = _KEYS.index("seq")
_PREV = _KEYS.index("prev_hash")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)  # int and float: json.dumps writes both with repr


def row_hash(row: tuple[Any, ...]) -> str:
    """The record hash of one ``SELECT <_COLUMNS>`` row (the trailing stored hash is ignored)."""
    parts = []
    for i, prefix in enumerate(_PREFIXES):
        value = row[i]
        parts.append(prefix)
        parts.append(value if _KEYS[i] in _JSON_COLUMNS else _encode(value))
    parts.append("}")
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _sql_body_parts() -> tuple[str, str]:
    """SQL ``printf`` expressions for the canonical body before and after ``latency_ms``.

    SQLite's ``json_quote`` escapes text exactly as ``json.dumps(ensure_ascii=False)`` does
    (a test checks every code point that matters); a REAL is not printed the way Python
    prints a float, so ``latency_ms`` is encoded in Python between the two parts. One printf
    per part: chained ``||`` would copy the growing string once per field.
    """
    split = _KEYS.index("latency_ms")

    def printf(keys: tuple[str, ...], prefixes: tuple[str, ...], trailer: str) -> str:
        template = "".join(p.replace("%", "%%") + "%s" for p in prefixes) + trailer.replace("%", "%%")
        args = [k if k in _JSON_COLUMNS or k == "seq" else f"json_quote({k})" for k in keys]
        return "printf(" + ", ".join([_sql_literal(template), *args]) + ")"

    before = printf(_KEYS[:split], _PREFIXES[:split], _PREFIXES[split])
    after = printf(_KEYS[split + 1 :], _PREFIXES[split + 1 :], "}")
    return before, after


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def verify_rows(conn: sqlite3.Connection) -> ChainReport:
    """Walk the ``audit`` table in seq order; the first missing, unlinked or changed record breaks it.

    SQLite assembles each record's canonical JSON in C; Python only hashes and links.
    """
    head, tail = _sql_body_parts()
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(f"SELECT seq, prev_hash, hash, {head}, latency_ms, {tail} FROM audit ORDER BY seq")
    prev, expected, count = GENESIS_HASH, 1, 0
    sha = hashlib.sha256
    while rows := cur.fetchmany(4096):
        for seq, prev_hash, stored, before, latency, after in rows:
            if seq != expected:
                return ChainReport(
                    intact=False,
                    count=count,
                    first_broken_seq=expected,
                    reason=f"record {expected} is missing (found {seq})",
                )
            if prev_hash != prev:
                return ChainReport(intact=False, count=count, first_broken_seq=seq, reason="previous-hash link broken")
            body = before + ("null" if latency is None else repr(latency)) + after
            if sha(body.encode()).hexdigest() != stored:
                return ChainReport(intact=False, count=count, first_broken_seq=seq, reason="record content changed")
            prev = stored
            expected += 1
            count += 1
    return ChainReport(intact=True, count=count)
