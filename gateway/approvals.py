"""Approval requests: a held tool call, bound to exactly what a human is asked to approve.

An approval is bound to the agent, the tool, the digest of the canonical arguments, the
conversation, the customer and an expiry. It moves ``pending`` → ``approved`` → ``executed``
(or ``failed``), or ``pending`` → ``rejected`` / ``expired``; every move is a guarded UPDATE
(``WHERE status = <expected>``) committed with its audit record, so it happens once even if
two approvers press the button together, and a decided approval can never be decided again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from shared.audit import digest

if TYPE_CHECKING:
    from gateway.audit_store import AuditStore
    from gateway.audit_store_pg import PostgresAuditStore

# The tables are defined in ``gateway.tables``; the audit store's opening brings them to the head revision.

PENDING, APPROVED, EXECUTED, FAILED, REJECTED, EXPIRED = (
    "pending",
    "approved",
    "executed",
    "failed",
    "rejected",
    "expired",
)
FINAL = frozenset({EXECUTED, FAILED, REJECTED, EXPIRED})

_COLUMNS = (
    "id, status, agent, tool, arguments, arguments_digest, conversation_id, customer_id, envelope, policy_ids,"
    " reason, request_audit_id, created_at, expires_at, decided_by, decided_at, note, result, outcome, notified"
)


@dataclass
class Approval:
    id: str
    status: str
    agent: str
    tool: str
    arguments: dict[str, Any]
    arguments_digest: str
    conversation_id: str
    customer_id: str | None
    envelope: str
    policy_ids: list[str]
    reason: str
    request_audit_id: str
    created_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    note: str | None = None
    result: dict[str, Any] | None = None
    outcome: str | None = None
    notified: int = 0

    def public(self) -> dict[str, Any]:
        """What an approver sees: the exact arguments and the policy reason, never the envelope."""
        shown = asdict(self)
        shown.pop("envelope")
        shown["notified"] = bool(self.notified)
        shown["view_digest"] = self.view_digest()
        return shown

    def view_digest(self) -> str:
        """The digest of what a person deciding this approval is shown: the binding and the reason.

        A console sends it back with the decision, and the chained decision records it.
        """
        return digest(
            {
                "id": self.id,
                "agent": self.agent,
                "tool": self.tool,
                "arguments": self.arguments,
                "arguments_digest": self.arguments_digest,
                "conversation_id": self.conversation_id,
                "customer_id": self.customer_id,
                "policy_ids": self.policy_ids,
                "reason": self.reason,
                "expires_at": self.expires_at,
            }
        )


def new_id() -> str:
    return f"APR-{uuid.uuid4().hex[:16].upper()}"


def _from_row(row: Any) -> Approval:
    values = list(row)
    values[4] = json.loads(values[4])
    values[9] = json.loads(values[9])
    values[17] = json.loads(values[17]) if values[17] else None
    return Approval(*values)


def insert_statement(a: Approval) -> tuple[str, tuple[Any, ...]]:
    return (
        f"INSERT INTO approvals ({_COLUMNS}) VALUES ({', '.join('?' for _ in _COLUMNS.split(','))})",
        (
            a.id,
            a.status,
            a.agent,
            a.tool,
            json.dumps(a.arguments, sort_keys=True),
            a.arguments_digest,
            a.conversation_id,
            a.customer_id,
            a.envelope,
            json.dumps(a.policy_ids),
            a.reason,
            a.request_audit_id,
            a.created_at,
            a.expires_at,
            None,
            None,
            None,
            None,
            None,
            0,
        ),
    )


def transition(
    approval_id: str, expected: str, new: str, *, by: str | None, at: float, note: str | None = None
) -> tuple[str, tuple[Any, ...]]:
    """A guarded status change; the caller checks it changed one row."""
    return (
        "UPDATE approvals SET status = ?, decided_by = COALESCE(?, decided_by), decided_at = ?,"
        " note = COALESCE(?, note), notified = 0 WHERE id = ? AND status = ?",
        (new, by, at, note, approval_id, expected),
    )


def finish(approval_id: str, new: str, result: dict[str, Any] | None, outcome: str) -> tuple[str, tuple[Any, ...]]:
    return (
        "UPDATE approvals SET status = ?, result = ?, outcome = ?, notified = 0 WHERE id = ? AND status = ?",
        (new, json.dumps(result) if result is not None else None, outcome, approval_id, APPROVED),
    )


class ApprovalStore:
    """Reads approvals; every write goes through the audit store (see ``transition``)."""

    def __init__(self, store: AuditStore | PostgresAuditStore) -> None:
        self._store = store

    @classmethod
    async def open(cls, store: AuditStore | PostgresAuditStore) -> ApprovalStore:
        return cls(store)

    async def get(self, approval_id: str) -> Approval | None:
        rows = await self._store.fetch(f"SELECT {_COLUMNS} FROM approvals WHERE id = ?", (approval_id,))
        return _from_row(rows[0]) if rows else None

    async def latest(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        """The newest approvals first, optionally only those in ``status``."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = await self._store.fetch(
            f"SELECT {_COLUMNS} FROM approvals {where} ORDER BY created_at DESC LIMIT ?", (*params, limit)
        )
        return [_from_row(r) for r in rows]

    async def for_binding(self, agent: str, tool: str, digest: str, conversation_id: str) -> list[Approval]:
        rows = await self._store.fetch(
            f"SELECT {_COLUMNS} FROM approvals WHERE agent = ? AND tool = ? AND arguments_digest = ?"
            " AND conversation_id = ? ORDER BY created_at DESC",
            (agent, tool, digest, conversation_id),
        )
        return [_from_row(r) for r in rows]

    async def count_recent(self, conversation_id: str, since: float) -> int:
        rows = await self._store.fetch(
            "SELECT COUNT(*) FROM approvals WHERE conversation_id = ? AND created_at >= ?", (conversation_id, since)
        )
        return int(rows[0][0]) if rows else 0

    async def pending_for_customer(self, customer_id: str) -> list[Approval]:
        """Approvals still waiting for a decision on this customer (an open case for policy)."""
        rows = await self._store.fetch(
            f"SELECT {_COLUMNS} FROM approvals WHERE customer_id = ? AND status = ?", (customer_id, PENDING)
        )
        return [_from_row(r) for r in rows]

    async def unnotified(self) -> list[Approval]:
        finals = ", ".join(f"'{s}'" for s in FINAL)
        rows = await self._store.fetch(f"SELECT {_COLUMNS} FROM approvals WHERE notified = 0 AND status IN ({finals})")
        return [_from_row(r) for r in rows]

    async def with_status(self, status: str) -> list[Approval]:
        return await self.latest(status, limit=10_000)

    async def mark_notified(self, approval_id: str, status: str) -> None:
        sql = "UPDATE approvals SET notified = 1 WHERE id = ? AND status = ?"
        await self._store.run(((sql, (approval_id, status)),))

    async def erase_customer(self, customer_id: str) -> None:
        """Drop the raw arguments of a customer's decided approvals (digests stay)."""
        finals = ", ".join(f"'{s}'" for s in FINAL)
        sql = f"UPDATE approvals SET arguments = '{{}}', envelope = '' WHERE customer_id = ? AND status IN ({finals})"
        await self._store.run(((sql, (customer_id,)),))
