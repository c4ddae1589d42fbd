"""The audit record and its hash chain (pure functions; storage lives in the gateway).

Each record's ``hash`` is SHA-256 over the canonical JSON of every other field, including
``prev_hash`` (``record_body``; the stores keep exactly those bytes). Changing, removing or
reordering any record breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

GENESIS_HASH = "0" * 64

Decision = Literal["allow", "deny", "approval-required", "approved", "rejected", "would-deny"]
"""``would-deny``: allowed and made, but only because a log-only policy was left out; with every
policy enforced it would have been denied or held. Filterable like any other decision."""


class Oversight(BaseModel):
    """A person's decision, inside the hash chain: who decided what, on what, with which note,
    having seen what. ``seen`` is the digest of what was in front of them (an approval's bound
    arguments and reason, a case's transcript, the switch's previous state), so a dispute about
    "what did the approver see" is settled by the chain, not by a table anyone can rewrite."""

    action: str
    """approve, reject, take-over, hand-back, transfer, reassign, release, policy-mode,
    fraud-hold, kill-switch, erase-customer, accept-chain …"""
    person: str
    """The signed-in person's own staff account name."""
    role: str
    target: str
    """What was decided on: an approval id, a conversation id, a policy id, a customer id, a scope."""
    note: str | None = None
    seen: str
    shared_account: bool = Field(default=False, exclude_if=lambda v: not v)
    """The account is one of the demo mode's shared role accounts: no one person is named."""


class AuditRecord(BaseModel):
    seq: int
    id: str
    time: str
    kind: Literal["decision", "outcome"] = "decision"
    conversation_id: str | None = None
    trace_id: str | None = None
    agent: str
    caller: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The authenticated A2A caller the agent acted for (the orchestrator, an external agent).
    Left out of the body when absent, so records written before it existed hash the same."""
    tool: str
    customer_id: str | None = None
    arguments: dict[str, Any]
    arguments_digest: str
    decision: Decision
    policy_ids: list[str]
    reason: str = ""
    approver: str | None = None
    oversight: Oversight | None = Field(default=None, exclude_if=lambda v: v is None)
    """Set on the record of a human decision (left out otherwise, so older records hash the same)."""
    outcome: str | None = None
    latency_ms: float | None = None
    links: list[int] | None = Field(default=None, exclude_if=lambda v: not v)
    """On the outcome that first names a customer (a verification): the ``seq`` of this
    conversation's earlier records made before anyone knew who the customer was. They are about
    this customer; the link is chained here, so filters by customer, subject access and erasure
    follow it and no one can add or drop a linked record unseen. Left out when empty."""
    prev_hash: str
    hash: str = ""


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_body(record: AuditRecord) -> str:
    """The canonical JSON of every field but ``hash``: what the store keeps and what is hashed."""
    return json.dumps(record.model_dump(exclude={"hash"}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stored_record(body: str | bytes, hash_: str) -> AuditRecord:
    """The record a stored ``(body, hash)`` pair holds."""
    record = AuditRecord.model_validate_json(body)
    record.hash = hash_
    return record


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def record_hash(fields: dict[str, Any]) -> str:
    body = {k: v for k, v in fields.items() if k != "hash"}
    return digest(body)


class ChainReport(BaseModel):
    intact: bool
    count: int
    first_broken_seq: int | None = None
    reason: str = ""


def verify_chain(records: Iterable[dict[str, Any]]) -> ChainReport:
    """Walk records in ``seq`` order; report the first one whose link or hash is wrong."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for rec in records:
        seq = rec.get("seq")
        if seq != expected_seq:
            return ChainReport(
                intact=False,
                count=count,
                first_broken_seq=expected_seq,
                reason=f"record {expected_seq} is missing (found {seq})",
            )
        if rec.get("prev_hash") != prev:
            return ChainReport(intact=False, count=count, first_broken_seq=seq, reason="previous-hash link broken")
        if record_hash(rec) != rec.get("hash"):
            return ChainReport(intact=False, count=count, first_broken_seq=seq, reason="record content changed")
        prev = rec["hash"]
        expected_seq += 1
        count += 1
    return ChainReport(intact=True, count=count)
