"""Retention: expired data classes are purged; a pruned audit log still verifies from a signed segment,
and its export still verifies without Switchboard."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway import verify_audit
from gateway.audit_export import chain_export
from gateway.audit_store import AuditStore
from gateway.audit_verifier import Failed, public_key_from_pem, verify_export
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.retention import AuditRetention, apply
from orchestrator.retention import Retention, purge
from shared.audit import digest
from shared.authcontext import generate_private_key_pem, public_pem_from_private

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()


async def _store(tmp: Path) -> AuditStore:
    writer = CheckpointWriter(tmp / CHECKPOINTS_FILE, PRIVATE)
    return await AuditStore.open(tmp / "audit.db", checkpoints=writer, checkpoint_every=3)


async def _append(store: AuditStore, i: int) -> None:
    args = {"account_number": "ACC-1234567", "i": i}
    await store.append(
        agent="payment", tool="payments.issue_refund", customer_id="CUST-00001", arguments={"i": i},
        arguments_digest=digest(args), decision="allow", policy_ids=["grant.x"], raw_arguments=args,
    )  # fmt: skip


def _verify(tmp: Path):
    return verify_audit(tmp / "audit.db", checkpoints=tmp / CHECKPOINTS_FILE, public_pem=PUBLIC)


async def _export(tmp: Path) -> dict:
    at = datetime.now(UTC)
    chunks = chain_export(
        tmp / "audit.db", private_pem=PRIVATE, checkpoints=tmp / CHECKPOINTS_FILE, witness=None,
        exported_by="carol", exported_at=at,
    )  # fmt: skip
    return json.loads("".join([c async for c in chunks]))


async def test_pruned_audit_records_leave_a_chain_that_still_verifies(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        for i in range(10):
            await _append(store, i)
        later = datetime.now(UTC) + timedelta(days=1)  # everything is "old" a day from now
        pruned = await apply(store, AuditRetention(raw_arguments_days=0.5, audit_days=0.5), now=later)
        assert pruned.records == 9 and pruned.first_kept == 10 and pruned.raw_arguments >= 9
        for i in range(10, 14):
            await _append(store, i)
    finally:
        await store.close()
    with closing(sqlite3.connect(tmp_path / "audit.db")) as conn:
        assert conn.execute("SELECT min(seq) FROM audit").fetchone()[0] == 10
        assert conn.execute("SELECT count(*) FROM audit_raw").fetchone()[0] == 4  # only the new calls' values
        assert conn.execute("SELECT tool FROM audit WHERE seq = 11").fetchone()[0] == "governance.retention"
    report = _verify(tmp_path)
    assert report.intact and report.count == 6, report  # records 10..15 (the retention record included)
    assert not (tmp_path / "audit.db-wal").exists() or (tmp_path / "audit.db-wal").stat().st_size == 0

    exported = await _export(tmp_path)
    assert exported["seal"]["first_seq"] == 10
    assert "from record 10" in verify_export(exported, public_key_from_pem(PUBLIC))
    unsigned = json.loads(json.dumps(exported))
    unsigned["checkpoints"] = [c for c in unsigned["checkpoints"] if c.get("segment") != "pruned"]
    with pytest.raises(Failed, match="no signed retention segment"):
        verify_export(unsigned, public_key_from_pem(PUBLIC))


async def test_records_deleted_without_a_signed_segment_are_still_caught(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        for i in range(6):
            await _append(store, i)
    finally:
        await store.close()
    with closing(sqlite3.connect(tmp_path / "audit.db", isolation_level=None)) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE seq <= 3")
    report = _verify(tmp_path)
    assert not report.intact and report.first_broken_seq == 1 and "no signed retention segment" in report.reason


def _data_dir(tmp: Path, old: float, new: float) -> Path:
    with closing(sqlite3.connect(tmp / "conversations.db", isolation_level=None)) as conn:
        conn.execute(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, state TEXT NOT NULL,"
            " customer_id TEXT, status TEXT NOT NULL, updated_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 0)"
        )
        conn.execute("CREATE TABLE transcript (conversation_id TEXT, seq INTEGER, entry TEXT NOT NULL)")
        for cid, status, at in (("old", "closed", old), ("waiting", "escalated", old), ("new", "open", new)):
            conn.execute("INSERT INTO conversations VALUES (?, 'h', '{}', NULL, ?, ?, 0)", (cid, status, at))
            conn.execute("INSERT INTO transcript VALUES (?, 1, 'hello')", (cid,))
    with closing(sqlite3.connect(tmp / "signals.db", isolation_level=None)) as conn:
        conn.execute("CREATE TABLE signal_log (seq INTEGER PRIMARY KEY, received_at REAL NOT NULL, msisdn TEXT)")
        conn.executemany("INSERT INTO signal_log (received_at, msisdn) VALUES (?, '+15550100123')", [(old,), (new,)])
        conn.execute(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT, body BLOB, created_at REAL,"
            " published_at REAL)"
        )
        conn.execute("INSERT INTO outbox VALUES (1, 'e1', x'00', ?, ?)", (old, old))
        conn.execute("INSERT INTO outbox VALUES (2, 'e2', x'00', ?, NULL)", (old,))  # not yet published: kept
    lines = [{"at": old, "to": "+15550100123", "text": "code 123456"}, {"at": new, "to": "+1555", "text": "code"}]
    (tmp / "outbox.jsonl").write_text("".join(json.dumps(m) + "\n" for m in lines))
    return tmp


def test_the_data_directory_classes_are_purged_when_expired(tmp_path: Path) -> None:
    now = time.time()
    data = _data_dir(tmp_path, old=now - 40 * 86400, new=now - 3600)
    assert purge(data, Retention()).counts == {}  # nothing configured, nothing purged
    purged = purge(data, Retention(transcripts_days=30, outbox_days=30, signals_days=30), now=now)
    assert purged.counts == {
        "conversations": 1,
        "transcript entries": 1,
        "outbox messages": 1,
        "published events": 1,
        "signal log entries": 1,
    }
    with closing(sqlite3.connect(data / "conversations.db")) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT id FROM conversations")) == ["new", "waiting"]
    assert "123456" not in (data / "outbox.jsonl").read_text()
