"""Rolling the audit log back is detected: a witness outside the data directory, per-record hashes in
every checkpoint, and a gateway that will not sign a chain it cannot vouch for."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway import build_gateway_app, read_audit, verify_audit
from gateway.audit_guard import ACCEPT_TOOL, accept_chain, verify_before_start
from gateway.audit_store import AuditStore
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from shared.audit import GENESIS_HASH, AuditRecord, digest, record_body
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.errors import ConfigurationError

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()


async def _fill(data: Path, witness: Path, n: int, every: int = 4) -> Path:
    db = data / "audit.db"
    writer = CheckpointWriter(data / CHECKPOINTS_FILE, PRIVATE, witness=witness)
    store = await AuditStore.open(db, checkpoints=writer, checkpoint_every=every)
    try:
        for i in range(n):
            await store.append(
                agent="payment",
                tool="payments.issue_refund",
                decision="allow",
                reason=f"r{i}",
                policy_ids=[],
                arguments={"i": i},
                arguments_digest=digest({"i": i}),
            )
    finally:
        await store.close()
    return db


def _verify(data: Path, witness: Path | None):
    return verify_audit(data / "audit.db", checkpoints=data / CHECKPOINTS_FILE, public_pem=PUBLIC, witness=witness)


def _sql(db: Path, *statements: str) -> None:
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)


def _rehash_from(db: Path, first: int, change: dict[int, str]) -> None:
    """Rewrite records from ``first`` on with every hash recomputed: the chain itself stays consistent."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        rows = conn.execute("SELECT seq, body, hash FROM audit ORDER BY seq").fetchall()
        prev = GENESIS_HASH
        for seq, body, stored in rows:
            if seq >= first:
                record = AuditRecord.model_validate_json(body)
                update = {"prev_hash": prev, **({"reason": change[seq]} if seq in change else {})}
                body = record_body(record.model_copy(update=update))
                stored = hashlib.sha256(body.encode()).hexdigest()
                conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = ?", (body, stored, seq))
            prev = stored


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "data", tmp_path / "witness"


async def test_a_rolled_back_checkpoint_file_and_deleted_records_are_caught_by_the_witness(dirs) -> None:
    data, witness = dirs
    db = await _fill(data, witness, 12)
    local = data / CHECKPOINTS_FILE
    local.write_text(local.read_text().splitlines(keepends=True)[0])  # back to the checkpoint of record 1
    _sql(db, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq > 1")
    assert _verify(data, None).intact  # the data directory alone cannot tell
    report = _verify(data, witness)
    assert not report.intact and report.first_broken_seq == 2
    assert "the witness knows record 12" in report.reason and "cut off the end" in report.reason


async def test_a_deleted_tail_is_reported_naming_the_last_record_the_witness_knows(dirs) -> None:
    data, witness = dirs
    db = await _fill(data, witness, 10)
    _sql(db, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq > 9")
    (data / CHECKPOINTS_FILE).unlink()
    report = _verify(data, witness)
    assert not report.intact and report.first_broken_seq == 10
    assert "the chain ends at record 9 but the witness knows record 10" in report.reason


async def test_a_rehashed_rewrite_is_reported_at_the_first_record_changed(dirs) -> None:
    data, witness = dirs
    db = await _fill(data, witness, 12, every=8)  # checkpoints at 1, 8 and 12 (close)
    _rehash_from(db, 3, {3: "nothing happened here"})
    assert verify_audit(db).intact
    report = _verify(data, witness)
    assert not report.intact and report.first_broken_seq == 3, report
    assert "record 3 differs from its signed checkpoint" in report.reason


async def test_the_gateway_refuses_to_start_on_a_chain_swapped_while_it_was_stopped(dirs, tmp_path: Path) -> None:
    data, witness = dirs
    db = await _fill(data, witness, 8)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:  # swap two records' contents
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP INDEX audit_id")
        (b3, h3), (b4, h4) = conn.execute("SELECT body, hash FROM audit WHERE seq IN (3, 4) ORDER BY seq").fetchall()
        conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = 3", (b4.replace('"seq":4', '"seq":3'), h4))
        conn.execute("UPDATE audit SET body = ?, hash = ? WHERE seq = 4", (b3.replace('"seq":3', '"seq":4'), h3))
    lines_before = (data / CHECKPOINTS_FILE).read_text()
    app = build_gateway_app(
        upstreams={},
        gateway_token="g",
        agent_tokens={"payment": "t"},
        identity_public_pem=public_pem_from_private(generate_private_key_pem()).decode(),
        audit_db=db,
        checkpoint_private_pem=PRIVATE,
        audit_witness_dir=witness,
    )
    with pytest.raises(ConfigurationError, match=r"does not verify.*broken at record 3"):
        async with app.router.lifespan_context(app):
            pass
    assert (data / CHECKPOINTS_FILE).read_text() == lines_before  # nothing was signed

    # An operator accepts it explicitly; that acceptance is itself in the log, and the gateway starts.
    accepted = await accept_chain(
        None,
        default_sqlite=db,
        checkpoints=data / CHECKPOINTS_FILE,
        private_pem=PRIVATE,
        witness=witness,
        reason="swap investigated in INC-7",
    )
    assert accepted.first_broken_seq == 3
    operator = read_audit(db)[-1]
    assert operator.tool == ACCEPT_TOOL and "INC-7" in operator.reason and "record 3" in operator.reason
    report = await verify_before_start(db, checkpoints=data / CHECKPOINTS_FILE, private_pem=PRIVATE, witness=witness)
    assert report is not None and not report.intact  # still reported broken, but accepted
    async with app.router.lifespan_context(app):
        pass
