"""``audit explain``: the main elements of one decision, read from the audit log (read-only).

Given a record id, it gathers the decision, its outcome record, the approval behind it (who
asked, who decided, the exact binding) and the other tool calls of the same conversation, so
a compliance officer sees inputs, tools called, the policies that allowed or denied each,
and the human involved.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.audit_reader import RECORD_COLUMNS, AuditLocation, AuditReader, open_reader
from gateway.oversight import decisions_on
from shared.audit import AuditRecord, stored_record
from shared.errors import NotFound

_BY_ID = f"SELECT {RECORD_COLUMNS} FROM audit WHERE id = ?"


def _one(reader: AuditReader, sql: str, params: tuple[Any, ...]) -> AuditRecord | None:
    row = reader.one(sql, params)
    return stored_record(row[1], row[2]) if row else None


def explain(audit_db: AuditLocation, record_id: str, *, context_limit: int = 50) -> dict[str, Any]:
    """A JSON-able explanation of the record ``record_id`` (a decision or an outcome)."""
    reader = open_reader(audit_db)
    try:
        record = _one(reader, _BY_ID, (record_id,))
        if record is None:
            raise NotFound(f"no audit record {record_id!r}", hint="audit ids are in each tool result's _meta")
        decided = record
        if record.kind == "outcome" and record.reason.startswith("outcome of "):
            decided = _one(reader, _BY_ID, (record.reason.split()[-1],)) or record
        outcome = _one(
            reader,
            f"SELECT {RECORD_COLUMNS} FROM audit WHERE kind = 'outcome' AND reason = ?",
            (f"outcome of {decided.id}",),
        )
        approval = _approval(reader, decided)
        calls = []
        if decided.conversation_id:
            rows = reader.rows(
                f"SELECT {RECORD_COLUMNS} FROM audit"
                " WHERE conversation_id = ? AND kind = 'decision' ORDER BY seq LIMIT ?",
                (decided.conversation_id, context_limit),
            )
            calls = [
                {k: r[k] for k in ("id", "seq", "agent", "tool", "decision", "policy_ids")}
                for r in (json.loads(row[1]) for row in rows)
            ]
        return {
            "record": record.id,
            "decision": {
                "id": decided.id,
                "seq": decided.seq,
                "time": decided.time,
                "agent": decided.agent,
                "tool": decided.tool,
                "customer_id": decided.customer_id,
                "conversation_id": decided.conversation_id,
                "inputs": decided.arguments,
                "inputs_digest": decided.arguments_digest,
                "decision": decided.decision,
                "policy_ids": decided.policy_ids,
                "reason": decided.reason,
            },
            "outcome": {"outcome": outcome.outcome, "latency_ms": outcome.latency_ms, "id": outcome.id}
            if outcome
            else None,
            "human": approval,
            "customer_link": _linked_to(reader, decided),
            "conversation_calls": calls,
        }
    finally:
        reader.close()


def _linked_to(reader: AuditReader, record: AuditRecord) -> dict[str, Any] | None:
    """For a call made before the customer was known: the later outcome that links it to them (chained)."""
    if record.customer_id is not None or not record.conversation_id:
        return None
    rows = reader.rows(
        f"SELECT {RECORD_COLUMNS} FROM audit WHERE conversation_id = ? AND kind = 'outcome'"
        " AND customer_id IS NOT NULL AND seq > ? ORDER BY seq",
        (record.conversation_id, record.seq),
    )
    for row in rows:
        body = json.loads(row[1])
        if record.seq in (body.get("links") or []):
            return {"customer_id": body["customer_id"], "by_record": {"seq": body["seq"], "id": body["id"]}}
    return None


def _approval(reader: AuditReader, record: AuditRecord) -> dict[str, Any] | None:
    """The human behind a decision, as the chain records it; the approvals table only finds the approval.

    The person, their note and what they saw come from the chained decision record, which
    ``audit verify`` protects; the table's copy is shown only when the chain has no decision
    (a log written before decisions were chained, or one still pending).
    """
    if record.oversight is not None:
        return {"approver": record.oversight.person, **_person(record.seq, record.id, record.oversight.model_dump())}
    if record.approver is None and record.decision not in ("approval-required", "approved", "rejected"):
        return None
    row = None
    if reader.has_table("approvals"):
        row = reader.one(
            "SELECT id, status, decided_by, decided_at, note, created_at, reason FROM approvals"
            " WHERE agent = ? AND tool = ? AND arguments_digest = ? AND conversation_id IS NOT DISTINCT FROM ?"
            " ORDER BY created_at DESC LIMIT 1",
            (record.agent, record.tool, record.arguments_digest, record.conversation_id),
        )
    human: dict[str, Any] = {"approver": record.approver}
    if row is None:
        return human
    human.update(approval_id=row[0], status=row[1], decided_at=row[3], policy_reason=row[6])
    chained = decisions_on(reader, str(row[0]))
    if chained:
        seq, body = chained[-1]
        human.update(_person(seq, body["id"], body["oversight"]))
        human["table_agrees"] = (row[2], row[4] or None) == (body["oversight"]["person"], body["oversight"].get("note"))
    else:
        human.update(decided_by=row[2], note=row[4], source="approvals table (no chained decision)")
    return human


def _person(seq: int, record_id: str, person: dict[str, Any]) -> dict[str, Any]:
    return {
        "decided_by": person["person"],
        "role": person["role"],
        "action": person["action"],
        "note": person.get("note"),
        "seen_digest": person["seen"],
        "shared_account": bool(person.get("shared_account")),
        "decision_record": {"seq": seq, "id": record_id},
        "source": "audit chain",
    }


def render(explained: dict[str, Any]) -> str:
    """The explanation as a few readable lines."""
    d = explained["decision"]
    link = explained.get("customer_link")
    customer = d["customer_id"] or (
        f"{link['customer_id']} (not known yet; linked by record {link['by_record']['seq']})" if link else "-"
    )
    lines = [
        f"decision {d['id']} (record {d['seq']}, {d['time']})",
        f"  agent {d['agent']} called {d['tool']} for customer {customer}"
        f" in conversation {d['conversation_id'] or '-'}",
        f"  inputs (redacted): {json.dumps(d['inputs'], sort_keys=True)}",
        f"  decision: {d['decision']} by {', '.join(d['policy_ids']) or 'no policy (default deny)'}",
        f"  reason: {d['reason']}",
    ]
    if explained["outcome"]:
        lines.append(f"  outcome: {explained['outcome']['outcome']} in {explained['outcome']['latency_ms']} ms")
    human = explained["human"]
    if human:
        who = human.get("decided_by") or human.get("approver") or "nobody yet"
        lines.append(f"  human: approval {human.get('approval_id', '-')} {human.get('status', '')} by {who}")
        if human.get("decision_record"):
            shared = " (a shared demo account)" if human.get("shared_account") else ""
            lines.append(
                f"    {human['action']} by {who} as {human['role']}{shared}"
                f" in record {human['decision_record']['seq']}; note: {human.get('note') or '-'};"
                f" saw {human['seen_digest'][:16]}…"
            )
        if human.get("table_agrees") is False:
            lines.append("    the approvals table disagrees with the chain: run `switchboard audit verify`")
    if explained["conversation_calls"]:
        lines.append("  tools called in this conversation:")
        lines += [
            f"    #{c['seq']} {c['agent']} {c['tool']}: {c['decision']} ({', '.join(c['policy_ids']) or '-'})"
            for c in explained["conversation_calls"]
        ]
    return "\n".join(lines)
