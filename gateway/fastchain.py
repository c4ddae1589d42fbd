"""Verifying the audit chain fast: each stored body is the exact byte string that was hashed.

A record's ``hash`` is SHA-256 over its canonical JSON (``shared.audit.record_hash``: sorted
keys, no spaces, UTF-8), and the store keeps that JSON as the record's ``body``. Verifying is
therefore: hash the stored bytes, compare, and check the two links the body carries, its
``seq`` and ``prev_hash``, without parsing it.

The links are found by exact substring search, which is safe on the canonical form: inside a
JSON string every ``"`` is escaped, so ``,"prev_hash":"`` can only be an object key. Keys are
sorted, and after the top-level ``prev_hash`` come only flat values (``reason``, ``seq``,
``time``, ``tool``, ``trace_id``), so the *last* occurrence is the top-level one, even when the
arguments hold a key of the same name; the same holds for ``,"seq":``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from shared.audit import GENESIS_HASH, ChainReport

_PREV_KEY = b',"prev_hash":"'
_PREV_AT = len(_PREV_KEY)
_PREV_END = _PREV_AT + 64
_AFTER_PREV = b'","reason":'
_SEQ_KEY = b',"seq":'

Row = Sequence[Any]  # (seq, body bytes, stored hash), as the database driver returns it


def link_problem(body: bytes, seq: int, prev: bytes) -> str | None:
    """Why ``body`` is not record ``seq`` following the record hashed ``prev``; None when it is."""
    at = body.rfind(_PREV_KEY)
    if (
        at < 0
        or body[at + _PREV_AT : at + _PREV_END] != prev
        or body[at + _PREV_END : at + _PREV_END + len(_AFTER_PREV)] != _AFTER_PREV
    ):
        return "previous-hash link broken"
    if not body.startswith(b',"seq":%d,' % seq, body.rfind(_SEQ_KEY, at)):
        return f"record {seq} is out of place: its body names another position in the chain"
    return None


def verify_batches(batches: Iterable[Iterable[Row]], *, first: int = 1, anchor: str = GENESIS_HASH) -> ChainReport:
    """Walk ``(seq, body, hash)`` rows in seq order; the first missing, changed or unlinked record breaks it.

    A chain pruned by retention starts at ``first``, linked to ``anchor`` (its signed segment's hash).
    """
    prev, expected, count = anchor.encode(), first, 0
    sha = hashlib.sha256
    for rows in batches:
        for seq, body, stored in rows:
            if seq != expected:
                return ChainReport(
                    intact=False,
                    count=count,
                    first_broken_seq=expected,
                    reason=f"record {expected} is missing (found {seq})",
                )
            if sha(body).hexdigest() != stored:
                return ChainReport(intact=False, count=count, first_broken_seq=seq, reason="record content changed")
            problem = link_problem(body, seq, prev)
            if problem is not None:
                return ChainReport(intact=False, count=count, first_broken_seq=seq, reason=problem)
            prev = stored.encode()
            expected += 1
            count += 1
    return ChainReport(intact=True, count=count)
