"""``switchboard audit verify`` as an auditor runs it: "intact" with the count, or the first broken record."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from gateway import read_audit
from gateway.audit_store import AuditStore
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.redact import redact
from shared.audit import digest
from shared.secrets import Secrets


def switchboard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


async def _log(data_dir: Path, n: int, *, signed: bool = True) -> None:
    secrets = Secrets.load_or_create(data_dir)
    writer = CheckpointWriter(data_dir / CHECKPOINTS_FILE, secrets.audit_private_pem) if signed else None
    store = await AuditStore.open(data_dir / "audit.db", checkpoints=writer, checkpoint_every=4)
    try:
        for i in range(n):
            args = {"account_number": "ACC-1234567", "amount": 10 + i}
            await store.append(
                agent="payment",
                tool="payments.issue_refund",
                arguments=redact(args),
                arguments_digest=digest(args),
                decision="allow",
                policy_ids=["grant.payment.payments-system"],
            )
    finally:
        await store.close()


def _tamper(src: Path, dst: Path, *statements: str) -> Path:
    shutil.copytree(src, dst)
    with closing(sqlite3.connect(dst / "audit.db", isolation_level=None)) as db:
        for sql in statements:
            db.execute(sql)
    return dst


async def test_verify_reports_intact_changed_and_truncated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await _log(data, 10)
    ok = switchboard("audit", "verify", "--data-dir", str(data))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("intact: 10 records") and "4 signed checkpoints match" in ok.stdout, ok.stdout

    changed = _tamper(
        data,
        tmp_path / "changed",
        "DROP TRIGGER audit_no_update",
        'UPDATE audit SET body = replace(body, \'"reason":""\', \'"reason":"nothing to see"\') WHERE seq = 5',
    )
    broken = switchboard("audit", "verify", "--data-dir", str(changed))
    assert broken.returncode == 1
    assert broken.stdout.startswith("BROKEN at record 5: record content changed (4 records verified"), broken.stdout

    cut = _tamper(data, tmp_path / "cut", "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq > 7")
    truncated = switchboard("audit", "verify", "--data-dir", str(cut))
    assert truncated.returncode == 1
    assert truncated.stdout.startswith("BROKEN at record 8:") and "cut off the end" in truncated.stdout


async def test_verify_reports_a_deleted_or_never_written_checkpoint_file(tmp_path: Path) -> None:
    """Every gateway run signs its first record, so records without any checkpoint mean the file went."""
    signed = tmp_path / "signed"
    await _log(signed, 3)
    (signed / CHECKPOINTS_FILE).unlink()
    unsigned = tmp_path / "unsigned"
    await _log(unsigned, 3, signed=False)
    for data in (signed, unsigned):
        done = switchboard("audit", "verify", "--data-dir", str(data))
        assert done.returncode == 1, done.stdout
        assert done.stdout.startswith(
            "BROKEN at record 1: the chain has 3 records but audit-checkpoints.jsonl holds no"
        )
        assert "deleted or emptied" in done.stdout


async def test_verify_uses_the_witness_and_accept_is_recorded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    witness = tmp_path / "witness"
    secrets = Secrets.load_or_create(data)
    writer = CheckpointWriter(data / CHECKPOINTS_FILE, secrets.audit_private_pem, witness=witness)
    store = await AuditStore.open(data / "audit.db", checkpoints=writer, checkpoint_every=4)
    try:
        for _ in range(10):
            await store.append(
                agent="payment", tool="t", arguments={}, arguments_digest=digest({}), decision="allow", policy_ids=[]
            )
    finally:
        await store.close()
    local = data / CHECKPOINTS_FILE
    local.write_text(local.read_text().splitlines(keepends=True)[0])
    with closing(sqlite3.connect(data / "audit.db", isolation_level=None)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE seq > 1")
    env = {"SWITCHBOARD_AUDIT_WITNESS_DIR": str(witness)}
    rolled_back = switchboard_env(env, "audit", "verify", "--data-dir", str(data))
    assert rolled_back.returncode == 1
    assert rolled_back.stdout.startswith("BROKEN at record 2:") and "witness knows record 10" in rolled_back.stdout

    accepted = switchboard_env(env, "audit", "accept", "--reason", "restored from backup", "--data-dir", str(data))
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted the chain broken at record 2" in accepted.stdout
    still = switchboard_env(env, "audit", "verify", "--data-dir", str(data))
    assert still.returncode == 1  # accepting does not make it intact; it is on the record
    assert "restored from backup" in read_audit(data / "audit.db")[-1].reason


def switchboard_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )
