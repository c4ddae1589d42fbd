"""A data directory holding conversations and audit records written by the real stores."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.audit_store import AuditStore
from orchestrator.conversations import HandoffEvent, SqliteConversationStore, TranscriptEntry
from shared.audit import digest
from shared.envelope import CustomerKeys, CustomerRef

KEYS = CustomerKeys(
    customer_id="CUST-00042", email="nia.holt@example.com", msisdn="+447700900123", account_number="ACC-1234567"
)


@dataclass
class Written:
    data_dir: Path
    escalated: str
    open_quiet: str
    closed: str


async def _conversation(store: SqliteConversationStore, path: Path, status: str, updated_at: float) -> str:
    state, _ = await store.create("chat")
    state.customer = CustomerRef(keys=KEYS, display_name="Nia")
    state.auth_method = "otp-sms"
    state.status = status  # type: ignore[assignment]
    state.summaries = ["payment: proposed a refund of 12.50"]
    state.handoffs = [
        HandoffEvent(at=updated_at, to_agent="identity", skill="verify-identity", reason="verify", status="completed"),
        HandoffEvent(at=updated_at, to_agent="payment", skill="refund-charge", reason="duplicate", status="completed"),
    ]
    now = time.time()
    entries = [
        TranscriptEntry(at=now, role="customer", text="I was charged twice", channel="chat", trace_id="t1"),
        TranscriptEntry(at=now, role="customer", text="my code is 482913", channel="chat", trace_id="t2"),
        TranscriptEntry(
            at=now, role="agent", text="Thanks Nia, refund done.", channel="chat", agent="payment", trace_id="t2"
        ),
        TranscriptEntry(at=now, role="customer", text="call me on +447700900123", channel="voice", trace_id="t3"),
        TranscriptEntry(at=now, role="human", text="Hi Nia, Sam here.", channel="voice", agent="Sam (human)"),
    ]
    await store.save_turn(state, entries)
    # Backdate the conversation, on a connection of the test's own (the store's file is shared).
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (updated_at, state.conversation_id))
    return state.conversation_id


@pytest.fixture
async def written(tmp_path: Path) -> Written:
    store = await SqliteConversationStore.open(tmp_path / "conversations.db")
    audit = await AuditStore.open(tmp_path / "audit.db")
    try:
        escalated = await _conversation(store, tmp_path / "conversations.db", "escalated", 1_000.0)
        open_quiet = await _conversation(store, tmp_path / "conversations.db", "open", 2_000.0)
        closed = await _conversation(store, tmp_path / "conversations.db", "closed", time.time())
        args = {"account_number": KEYS.account_number, "charge_id": "CH-1", "amount": 12.5}
        decided = await audit.append(
            conversation_id=escalated, trace_id="t2", agent="payment", tool="payments.issue_refund",
            customer_id=KEYS.customer_id, arguments=args, arguments_digest=digest(args), decision="allow",
            policy_ids=["grant.payment.refunds"], reason="allowed by grant.payment.refunds",
        )  # fmt: skip
        await audit.append(
            kind="outcome", conversation_id=escalated, trace_id="t2", agent="payment", tool="payments.issue_refund",
            customer_id=KEYS.customer_id, arguments=args, arguments_digest=digest(args), decision="allow",
            policy_ids=["grant.payment.refunds"], reason=f"outcome of {decided.id}", outcome="ok", latency_ms=3.0,
        )  # fmt: skip
        await audit.append(
            conversation_id=escalated, trace_id="t1", agent="billing", tool="payments.issue_refund",
            customer_id=KEYS.customer_id, arguments=args, arguments_digest=digest(args), decision="deny",
            policy_ids=[], reason="no policy permits billing to call payments.issue_refund",
        )  # fmt: skip
    finally:
        await audit.close()
        await store.close()
    return Written(tmp_path, escalated, open_quiet, closed)
