"""Audit tampering: signed checkpoints catch truncation and rewrites; the fast verifier hashes as the model does;
raw values erase without breaking the chain."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import read_audit, verify_audit
from gateway.audit_store import AuditStore
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.explain import explain, render
from gateway.fastchain import link_problem
from gateway.redact import redact
from shared.audit import GENESIS_HASH, AuditRecord, canonical_json, digest, record_body, record_hash, stored_record
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.errors import NotFound

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()


async def _fill(tmp: Path, n: int, every: int = 4) -> Path:
    db = tmp / "audit.db"
    store = await AuditStore.open(
        db, checkpoints=CheckpointWriter(tmp / CHECKPOINTS_FILE, PRIVATE), checkpoint_every=every
    )
    try:
        for i in range(n):
            args = {"account_number": "ACC-1234567", "email": "ana@example.com", "i": i}
            await store.append(
                agent="payment",
                tool="payments.issue_refund",
                conversation_id="conv-1",
                customer_id="CUST-00001",
                arguments=redact(args),
                arguments_digest=digest(args),
                decision="allow",
                policy_ids=["grant.x"],
                latency_ms=0.5 * i if i % 2 else None,
                raw_arguments=args,
            )
    finally:
        await store.close()
    return db


def _verify(tmp: Path):
    return verify_audit(tmp / "audit.db", checkpoints=tmp / CHECKPOINTS_FILE, public_pem=PUBLIC)


def _raw(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


async def test_checkpoints_are_signed_and_match(tmp_path: Path) -> None:
    await _fill(tmp_path, 10)
    report = _verify(tmp_path)
    assert report.intact and report.count == 10 and "4 signed checkpoints match" in report.reason  # 1, 4, 8, close


async def test_truncated_tail_is_detected(tmp_path: Path) -> None:
    db = await _fill(tmp_path, 10)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE seq > 7")
    assert verify_audit(db).intact  # the chain alone cannot see it ...
    report = _verify(tmp_path)
    assert not report.intact and report.first_broken_seq == 8 and "cut off the end" in report.reason


async def test_rewritten_chain_is_detected(tmp_path: Path) -> None:
    db = await _fill(tmp_path, 8)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        prev = GENESIS_HASH
        for seq, body in conn.execute("SELECT seq, body FROM audit ORDER BY seq").fetchall():
            # A rewrite with every hash recomputed: the chain itself is consistent.
            record = AuditRecord.model_validate_json(body).model_copy(update={"reason": "rewritten", "prev_hash": prev})
            new_body = record_body(record)
            prev = hashlib.sha256(new_body.encode()).hexdigest()
            conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = ?", (new_body, prev, seq))
    assert verify_audit(db).intact
    report = _verify(tmp_path)
    assert not report.intact and "rewritten" in report.reason


async def test_forged_checkpoint_line_is_detected(tmp_path: Path) -> None:
    await _fill(tmp_path, 4)
    with (tmp_path / CHECKPOINTS_FILE).open("a") as out:
        out.write('{"seq": 2, "hash": "00", "time": "t", "sig": "AAAA"}\n')
    report = _verify(tmp_path)
    assert not report.intact and "signature" in report.reason


async def test_erasing_a_customer_keeps_the_chain(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    store = await AuditStore.open(db)
    try:
        args = {"email": "ana@example.com", "amount": 12}
        record = await store.append(
            agent="payment",
            tool="payments.issue_refund",
            customer_id="CUST-00001",
            arguments=redact(args),
            arguments_digest=digest(args),
            decision="allow",
            policy_ids=[],
            raw_arguments=args,
        )
        assert await store.raw_arguments(record.id) == args
        assert await store.erase_customer("CUST-00001") == 1
        assert await store.raw_arguments(record.id) is None
    finally:
        await store.close()
    assert verify_audit(db).intact


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
# Keys a hostile caller might put into arguments to confuse the link checks.
KEYS = st.one_of(TEXT, st.sampled_from(["prev_hash", "seq", "reason", "hash", ',"seq":1,']))


@settings(max_examples=200, deadline=None)
@given(
    reason=TEXT,
    tool=TEXT,
    args=st.dictionaries(KEYS, st.one_of(TEXT, st.integers(), st.none(), st.just(GENESIS_HASH))),
    latency=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
    seq=st.integers(min_value=1, max_value=10**12),
)
def test_stored_body_is_what_the_record_model_hashes(reason: str, tool: str, args: dict, latency, seq: int) -> None:
    prev = "a" * 64
    record = AuditRecord(
        seq=seq, id="x", time="t", agent="a", tool=tool, arguments=args, arguments_digest=digest(args),
        decision="deny", policy_ids=[reason], reason=reason, latency_ms=latency, prev_hash=prev,
    )  # fmt: skip
    body = record_body(record).encode()
    assert hashlib.sha256(body).hexdigest() == record_hash(record.model_dump())
    assert link_problem(body, seq, prev.encode()) is None
    # Whatever the arguments or the reason hold, a wrong link or position is seen.
    assert link_problem(body, seq, GENESIS_HASH.encode()) == "previous-hash link broken"
    assert "out of place" in (link_problem(body, seq + 1, prev.encode()) or "")
    stored = stored_record(body, "h")
    assert stored.model_dump(exclude={"hash"}) == record.model_dump(exclude={"hash"})


_OLD_LAYOUT = """
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL, kind TEXT NOT NULL,
    conversation_id TEXT, trace_id TEXT, agent TEXT NOT NULL, tool TEXT NOT NULL, customer_id TEXT,
    arguments TEXT NOT NULL, arguments_digest TEXT NOT NULL, decision TEXT NOT NULL, policy_ids TEXT NOT NULL,
    reason TEXT NOT NULL, approver TEXT, outcome TEXT, latency_ms REAL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX audit_conversation ON audit (conversation_id, seq);
CREATE INDEX audit_agent ON audit (agent, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused'); END;
CREATE TABLE audit_raw (record_id TEXT PRIMARY KEY, customer_id TEXT, arguments TEXT NOT NULL);
"""


def _old_log(tmp: Path, n: int) -> Path:
    """An audit file as the previous release wrote it (a column per field), with signed checkpoints."""
    db, prev = tmp / "audit.db", GENESIS_HASH
    writer = CheckpointWriter(tmp / CHECKPOINTS_FILE, PRIVATE)
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(_OLD_LAYOUT)
        for seq in range(1, n + 1):
            args = {"email": "a***@example.com", "note": 'quote " and \\ é', "i": seq}
            record = AuditRecord(
                seq=seq, id=f"id-{seq}", time=f"2026-01-01T00:00:{seq:02d}+00:00", agent="payment",
                tool="payments.issue_refund", arguments=args, arguments_digest=digest(args), decision="allow",
                policy_ids=["grant.x"], latency_ms=None if seq % 2 else 0.1 * seq, prev_hash=prev,
                conversation_id="conv-1" if seq % 2 else None,
            )  # fmt: skip
            record.hash = prev = record_hash(record.model_dump())
            row = record.model_dump()
            for key in ("arguments", "policy_ids"):
                row[key] = canonical_json(row[key]).decode()
            conn.execute(
                f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
            )
            if seq % 4 == 0:
                writer.write(seq, prev)
        conn.commit()
    return db


async def test_an_old_layout_log_is_migrated_with_identical_hashes(tmp_path: Path) -> None:
    db = _old_log(tmp_path, 9)
    with pytest.raises(NotFound, match="old layout"):
        verify_audit(db)  # readers do not guess: they say what to do
    store = await AuditStore.open(db)
    try:
        record = await store.append(
            agent="payment", tool="t", arguments={}, arguments_digest=digest({}), decision="allow", policy_ids=[]
        )
    finally:
        await store.close()
    assert record.seq == 10
    report = _verify(tmp_path)
    assert report.intact and report.count == 10 and "2 signed checkpoints match" in report.reason
    assert [r.seq for r in read_audit(db, conversation_id="conv-1")] == [1, 3, 5, 7, 9]
    with closing(_raw(db)) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 1")


async def test_a_record_tampered_before_migration_is_still_reported(tmp_path: Path) -> None:
    db = _old_log(tmp_path, 6)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 4")
    await (await AuditStore.open(db)).close()
    report = verify_audit(db)
    assert (report.intact, report.first_broken_seq, report.reason) == (False, 4, "record content changed")


async def test_explain_names_inputs_policies_and_outcome(tmp_path: Path) -> None:
    db = await _fill(tmp_path, 3)
    with closing(sqlite3.connect(db)) as conn:
        (record_id,) = conn.execute("SELECT id FROM audit WHERE seq = 2").fetchone()
    explained = explain(db, record_id)
    assert explained["decision"]["policy_ids"] == ["grant.x"]
    assert explained["decision"]["inputs"]["email"] == "a***@example.com"
    assert len(explained["conversation_calls"]) == 3
    assert "payments.issue_refund" in render(explained)


async def test_a_quiet_gateway_signs_its_head_once_the_last_checkpoint_is_old(tmp_path: Path) -> None:
    """Between the every-N checkpoints, a checkpoint older than ``max_age_seconds`` is renewed on append."""
    writer = CheckpointWriter(tmp_path / CHECKPOINTS_FILE, PRIVATE, max_age_seconds=0.0)
    store = await AuditStore.open(tmp_path / "audit.db", checkpoints=writer, checkpoint_every=1000)
    try:
        for i in range(3):
            await store.append(
                agent="payment",
                tool="payments.issue_refund",
                arguments={"n": i},
                arguments_digest=f"d{i}",
                decision="allow",
                policy_ids=[],
            )
            assert writer.last_seq == i + 1, "signed at once: the last one is already old enough"
    finally:
        await store.close()
    patient = CheckpointWriter(tmp_path / "other.jsonl", PRIVATE, max_age_seconds=3600)
    assert patient.due(1, 1000), "a writer's first record is always signed"
    patient.write(1, "h")
    assert not patient.due(2, 1000) and patient.due(1000, 1000)
