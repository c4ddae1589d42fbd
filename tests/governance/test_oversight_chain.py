"""Human oversight in the hash chain: every person's decision is a chained record that names them,
their note and what they saw; rewriting it, or the approvals table's copy of it, is caught."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg

from gateway import read_audit, verify_audit
from gateway.explain import explain, render
from shared.database import DatabaseURL
from tests.governance.conftest import ANA, Env, start_env
from tests.governance.test_adversarial import _hold
from tests.storage.pg import BASE_URL, private_schema


def _sql(env: Env, *statements: str) -> None:
    with closing(sqlite3.connect(env.audit_db, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)


async def _approve(env: Env, note: str = "duplicate confirmed on the statement") -> tuple[str, dict]:
    approval_id = await _hold(env)
    shown = (await env.staff("alice", "GET", f"/approvals/{approval_id}")).json()
    decided = await env.staff(
        "alice", "POST", f"/approvals/{approval_id}/approve", {"note": note, "seen": shown["view_digest"]}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "executed", decided.text
    return approval_id, shown


async def test_an_approval_is_one_chained_record_naming_the_person_note_and_what_they_saw(env: Env) -> None:
    approval_id, shown = await _approve(env)
    records = [r for r in read_audit(env.audit_db, limit=1000) if r.tool == "payments.issue_refund"]
    approved = [r for r in records if r.decision == "approved"]
    assert len(approved) == 1  # the run that follows cites it as an allow, it is not a second approval
    person = approved[0].oversight
    assert person is not None
    assert (person.action, person.person, person.role, person.target) == ("approve", "alice", "approver", approval_id)
    assert person.note == "duplicate confirmed on the statement" and person.seen == shown["view_digest"]
    run = next(r for r in records if r.kind == "decision" and r.decision == "allow")
    assert approval_id in run.reason and "approved by alice" in run.reason

    explained = explain(env.audit_db, approved[0].id)
    human = explained["human"]
    assert human["decided_by"] == "alice" and human["note"] == person.note and human["source"] == "audit chain"
    assert "approve by alice as approver" in render(explained)
    assert verify_audit(env.audit_db).intact


async def test_rewriting_the_approver_or_note_in_the_table_fails_verify_naming_the_record(env: Env) -> None:
    approval_id, _ = await _approve(env)
    decided = next(r for r in read_audit(env.audit_db, limit=1000) if r.decision == "approved")
    _sql(env, f"UPDATE approvals SET decided_by = 'mallory', note = 'all fine' WHERE id = '{approval_id}'")
    report = verify_audit(env.audit_db)
    assert not report.intact and report.first_broken_seq == decided.seq
    assert "approvals table was rewritten" in report.reason and "mallory" in report.reason
    # explain shows the chain's person, and says the table disagrees
    human = explain(env.audit_db, decided.id)["human"]
    assert human["decided_by"] == "alice"
    outcome = next(r for r in read_audit(env.audit_db, limit=1000) if r.kind == "outcome")
    assert explain(env.audit_db, outcome.id)["human"]["table_agrees"] is False


async def test_rewriting_the_chained_decision_fails_verify_naming_the_record(env: Env) -> None:
    await _approve(env)
    decided = next(r for r in read_audit(env.audit_db, limit=1000) if r.decision == "approved")
    with closing(sqlite3.connect(env.audit_db)) as conn:
        body = json.loads(conn.execute("SELECT body FROM audit WHERE seq = ?", (decided.seq,)).fetchone()[0])
    body["oversight"]["person"], body["oversight"]["note"] = "mallory", "all fine"
    forged = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("'", "''")
    _sql(env, "DROP TRIGGER audit_no_update", f"UPDATE audit SET body = '{forged}' WHERE seq = {decided.seq}")
    report = verify_audit(env.audit_db)
    assert not report.intact and report.first_broken_seq == decided.seq and report.reason == "record content changed"


async def test_a_stale_screen_decides_nothing(env: Env) -> None:
    approval_id = await _hold(env)
    refused = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {"seen": "0" * 64})
    assert refused.status_code == 409 and "not what your screen showed" in refused.json()["error"]["message"]
    assert (await env.staff("alice", "GET", f"/approvals/{approval_id}")).json()["status"] == "pending"
    bad = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {"seen": "not a digest"})
    assert bad.status_code == 400


async def test_switches_holds_erasure_and_case_decisions_are_chained_with_the_person(env: Env) -> None:
    assert (await env.staff("carol", "POST", "/fraud-holds/CUST-00001", {"reason": "card reported"})).status_code == 200
    assert (await env.staff("carol", "POST", "/policies/consent.marketing/mode", {"mode": "enforce"})).status_code in (
        200,
        404,
    )
    assert (await env.staff("root", "POST", "/kill-switch", {"scope": "all", "on": True, "reason": "drill"})).is_success
    assert (await env.staff("carol", "POST", f"/customers/{ANA.customer_id}/erase")).status_code == 200
    case = {"action": "take-over", "conversation_id": "conv-9", "customer_id": ANA.customer_id, "seen": "a" * 64}
    assert (await env.staff("alice", "POST", "/oversight", case)).status_code == 200
    back = {**case, "action": "hand-back", "note": "refund explained, customer happy"}
    assert (await env.staff("alice", "POST", "/oversight", back)).status_code == 200
    assert (await env.staff("alice", "POST", "/oversight", {**case, "action": "delete-everything"})).status_code == 400

    people = [
        (r.oversight.action, r.oversight.person, r.oversight.role) for r in read_audit(env.audit_db) if r.oversight
    ]
    assert ("fraud-hold", "carol", "compliance") in people
    assert ("kill-switch", "root", "admin") in people
    assert ("erase-customer", "carol", "compliance") in people
    assert ("take-over", "alice", "approver") in people and ("hand-back", "alice", "approver") in people
    hand_back = next(r for r in read_audit(env.audit_db) if r.oversight and r.oversight.action == "hand-back")
    assert hand_back.oversight.note == "refund explained, customer happy" and hand_back.conversation_id == "conv-9"
    assert verify_audit(env.audit_db).intact


async def test_on_postgresql_a_rewritten_approver_fails_verify_too(tmp_path: Path, identity_key: bytes) -> None:
    async with private_schema("o") as url, start_env(tmp_path, identity_key, database_url=url) as env:
        approval_id = await _hold(env)
        assert (await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {"note": "ok"})).is_success
        db = DatabaseURL.parse(url, default_sqlite=tmp_path / "unused.db")
        assert (await asyncio.to_thread(verify_audit, db)).intact
        schema = url.rsplit("schema=", 1)[1]
        conn = await asyncpg.connect(BASE_URL)
        try:
            await conn.execute(f"UPDATE \"{schema}\".approvals SET note = 'all fine' WHERE id = $1", approval_id)
        finally:
            await conn.close()
        report = await asyncio.to_thread(verify_audit, db)
        decided = next(r for r in await asyncio.to_thread(read_audit, db, limit=1000) if r.decision == "approved")
        assert not report.intact and report.first_broken_seq == decided.seq and "rewritten" in report.reason
