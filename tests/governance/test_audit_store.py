"""The audit log: append-only, hash-chained, tamper-evident, redacted."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway import read_audit, verify_audit
from gateway.audit_store import AuditStore
from gateway.redact import redact
from shared.audit import digest


async def _fill(path: Path, n: int = 4) -> None:
    store = await AuditStore.open(path)
    try:
        for i in range(n):
            args = {"email": "ana@example.com", "i": i}
            await store.append(
                agent="payment" if i % 2 else "billing",
                tool="payments.list_charges",
                conversation_id=f"conv-{i % 2}",
                arguments=redact(args),
                arguments_digest=digest(args),
                decision="allow",
                policy_ids=["grant.x"],
                latency_ms=0.1 * i,
            )
    finally:
        await store.close()


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)  # autocommit: each tampering statement lands


async def test_chain_is_intact_and_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db, 3)
    await _fill(db, 2)  # a restarted gateway continues the same chain
    report = verify_audit(db)
    assert report.intact and report.count == 5
    records = read_audit(db)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[3].prev_hash == records[2].hash
    assert records[0].arguments == {"email": "a***@example.com", "i": 0}


async def test_read_audit_filters_and_limits(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db, 6)
    assert [r.seq for r in read_audit(db, conversation_id="conv-1")] == [2, 4, 6]
    assert [r.seq for r in read_audit(db, agent="billing", limit=2)] == [3, 5]
    assert read_audit(db, conversation_id="nope") == []


async def test_triggers_refuse_update_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db)
    with closing(_raw(db)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET body = replace(body, '\"allow\"', '\"deny\"') WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET hash = ? WHERE seq = 2", ("0" * 64,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 2")
    assert verify_audit(db).intact


async def test_verify_detects_a_changed_record(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET body = replace(body, '\"i\":2}', '\"i\":99}') WHERE seq = 3")
    report = verify_audit(db)
    assert not report.intact
    assert (report.first_broken_seq, report.count, report.reason) == (3, 2, "record content changed")


async def test_verify_detects_a_deleted_record(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE seq = 2")
    report = verify_audit(db)
    assert not report.intact and report.first_broken_seq == 2
    assert "missing" in report.reason


async def test_query_columns_are_derived_from_the_hashed_body(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db, 2)
    with closing(_raw(db)) as conn:
        with pytest.raises(sqlite3.OperationalError, match="generated column"):
            conn.execute("UPDATE audit SET agent = 'someone else' WHERE seq = 1")
        row = conn.execute("SELECT body, agent, conversation_id, decision FROM audit WHERE seq = 2").fetchone()
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a body must say where it sits
            conn.execute("INSERT INTO audit (seq, body, hash) VALUES (9, ?, 'x')", (row[0],))
    assert (json.loads(row[0])["agent"], row[1], row[2], row[3]) == ("payment", "payment", "conv-1", "allow")


async def test_verify_names_swapped_records(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("PRAGMA ignore_check_constraints = ON")  # a tamperer with the file can do this too
        (b2, h2), (b3, h3) = conn.execute("SELECT body, hash FROM audit WHERE seq IN (2, 3) ORDER BY seq")
        conn.execute("UPDATE audit SET body = '{}' WHERE seq = 2")  # ids are unique: make room first
        conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = 3", (b2, h2))
        conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = 2", (b3, h3))
    report = verify_audit(db)
    assert (report.intact, report.first_broken_seq, report.count) == (False, 2, 1)
    assert report.reason == "previous-hash link broken"


async def test_verify_detects_a_rewritten_tail(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    await _fill(db)
    with closing(_raw(db)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET hash = ? WHERE seq = 2", ("0" * 64,))
    report = verify_audit(db)
    assert not report.intact and report.first_broken_seq == 2


def test_verify_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no audit log"):
        verify_audit(tmp_path / "nope.db")


def test_redaction_masks_codes_contacts_and_keeps_the_rest() -> None:
    args = {
        "code": "123456",
        "msisdn": "+15550100123",
        "hint": "I am ana@example.com, call +447700900123",
        "issued_on": "2024-05-01",
        "account_number": "ACC-1234567",
        "amount": 12.5,
        "nested": [{"password": "hunter2"}, None],
    }
    assert redact(args) == {
        "code": "***",
        "msisdn": "+********123",
        "hint": "I am a***@example.com, call +*********123",
        "issued_on": "2024-05-01",
        "account_number": "ACC-***567",  # an identifier an erasure could not reach in the chain
        "amount": 12.5,
        "nested": [{"password": "***"}, None],
    }
