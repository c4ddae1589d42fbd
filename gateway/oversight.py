"""Human oversight in the hash chain: every person's decision is a chained audit record.

A decision by a person (approve, reject, take over, hand back, a policy mode, a fraud hold, the
kill switch, an erasure) is written as one audit record whose ``oversight`` field names the
signed-in person and their role, the target, their note and the digest of what they saw. The
approvals table keeps ``decided_by`` and ``note`` for the consoles' convenience, but it is a
copy: ``audit explain`` reads the person from the chain, and ``audit verify`` checks the copy
against the chain (``check_approvals``), so rewriting the table with plain SQL is reported and
the chained record it contradicts is named.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.audit_reader import AuditReader
from shared.audit import Oversight, digest

# An approval's final states that a person decided (expiry is decided by the clock, not a person).
_PERSON_DECIDED = ("approved", "executed", "failed", "rejected")
_DECIDED = {
    "sqlite": "SELECT seq, body FROM audit WHERE json_extract(body, '$.oversight.action') IN ('approve', 'reject')",
    "postgresql": "SELECT seq, body FROM audit WHERE body::jsonb -> 'oversight' ->> 'action' IN ('approve', 'reject')",
}
_ON_TARGET = {
    "sqlite": " AND json_extract(body, '$.oversight.target') = ? ORDER BY seq",
    "postgresql": " AND body::jsonb -> 'oversight' ->> 'target' = ? ORDER BY seq",
}


def oversight(
    action: str,
    person: str,
    role: str,
    target: str,
    seen: str,
    note: str | None = None,
    *,
    shared_account: bool = False,
) -> Oversight:
    """The chained part of one person's decision."""
    return Oversight(
        action=action,
        person=person,
        role=role,
        target=target,
        note=note or None,
        seen=seen,
        shared_account=shared_account,
    )


def seen_digest(shown: Any) -> str:
    """The digest of what a person had in front of them (canonical JSON, SHA-256)."""
    return digest(shown)


def _dialect(reader: AuditReader) -> str:
    return "sqlite" if type(reader).__name__ == "SqliteReader" else "postgresql"


def decisions_on(reader: AuditReader, target: str) -> list[tuple[int, dict[str, Any]]]:
    """The chained person's decisions (approve/reject) on ``target``, oldest first: (seq, body)."""
    dialect = _dialect(reader)
    rows = reader.rows(_DECIDED[dialect] + _ON_TARGET[dialect], (target,))
    return [(int(r[0]), json.loads(r[1])) for r in rows]


def check_approvals(reader: AuditReader) -> tuple[int, str] | None:
    """(seq, reason) of the first chained decision the approvals table contradicts, or None.

    Only approvals that have a chained decision are checked: a log written before decisions
    were chained has none, and its table copy is all there is.
    """
    if not reader.has_table("approvals"):
        return None
    rows = reader.rows(
        "SELECT id, status, decided_by, note FROM approvals WHERE status IN (?, ?, ?, ?) ORDER BY created_at",
        _PERSON_DECIDED,
    )
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in reader.rows(_DECIDED[_dialect(reader)] + " ORDER BY seq"):  # one pass over the log
        body = json.loads(row[1])
        latest[body["oversight"]["target"]] = (int(row[0]), body)
    problems: list[tuple[int, str]] = []
    for approval_id, status, decided_by, note in rows:
        if str(approval_id) not in latest:
            continue
        seq, body = latest[str(approval_id)]
        person = body["oversight"]
        action = "reject" if status == "rejected" else "approve"
        if (
            person["action"] != action
            or person["person"] != decided_by
            or (person.get("note") or None) != (note or None)
        ):
            problems.append(
                (
                    seq,
                    f"approval {approval_id} in the approvals table says {status} by {decided_by!r} with note "
                    f"{note!r}, but record {seq} in the chain says {person['action']} by {person['person']!r} "
                    f"with note {person.get('note')!r}: the approvals table was rewritten",
                )
            )
    return min(problems) if problems else None
