"""The verifiable export: an outside auditor proves it complete and unaltered with the standalone
verifier (standard library only, no Switchboard installed) and the published public key."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gateway
from gateway.audit_export import PUBLIC_KEY_FILE
from gateway.audit_verifier import ed25519_verify, public_key_from_pem
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from tests.governance.conftest import STAFF_TOKENS, WAIT, Env, start_env
from tests.governance.test_adversarial import _hold

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()
VERIFIER = Path(gateway.__file__).parent / "audit_verifier.py"


@pytest.fixture
async def signing_env(tmp_path: Path, identity_key: bytes) -> AsyncIterator[Env]:
    async with start_env(tmp_path, identity_key, checkpoint_private_pem=PRIVATE, checkpoint_every=3) as running:
        yield running


async def _export(env: Env, name: str = "carol") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {STAFF_TOKENS[name]['token']}"}
    async with httpx2.AsyncClient(base_url=env.url, timeout=WAIT) as http:
        got = await http.get("/governance/audit/export", params={"format": "chain"}, headers=headers)
    assert got.status_code == 200, got.text
    return json.loads(got.text)


def _run(folder: Path, export: Any) -> subprocess.CompletedProcess[str]:
    """The verifier as an auditor runs it: copied out, isolated (-I), no site-packages (-S), empty environment."""
    script = folder / "verify_audit_export.py"
    if not script.exists():
        shutil.copy(VERIFIER, script)
        (folder / "key.pem").write_text(PUBLIC)
    path = folder / "export.json"
    path.write_text(json.dumps(export))
    return subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(path), "--key", str(folder / "key.pem")],
        capture_output=True,
        text=True,
        env={},
        cwd=folder,
        timeout=120,
    )


def _rehash(export: dict[str, Any], start: int) -> None:
    """Rewrite the chain from record ``start`` on so it is consistent again (what a forger would do)."""
    records = export["records"]
    prev = records[start - 2]["hash"] if start > 1 else "0" * 64
    for entry in records[start - 1 :]:
        body = json.loads(entry["body"])
        body["prev_hash"] = prev
        entry["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entry["prev_hash"] = prev
        entry["hash"] = prev = hashlib.sha256(entry["body"].encode()).hexdigest()


async def test_an_export_verifies_without_switchboard_and_every_alteration_fails(
    signing_env: Env, tmp_path: Path
) -> None:
    env = signing_env
    approval_id = await _hold(env)
    assert (await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {"note": "ok"})).status_code == 200
    export = await _export(env)
    records = export["records"]
    assert len(records) >= 5 and export["seal"]["count"] == len(records)
    assert all({"seq", "hash", "prev_hash", "body"} <= set(r) for r in records) and export["checkpoints"]

    folder = tmp_path / "auditor"
    folder.mkdir()
    await asyncio.to_thread(_auditor_checks, folder, export)


def _auditor_checks(folder: Path, export: dict[str, Any]) -> None:
    records = export["records"]
    ok = _run(folder, export)
    assert ok.returncode == 0 and ok.stdout.startswith("VERIFIED:"), ok.stdout + ok.stderr
    assert f"{len(records)} records" in ok.stdout

    def altered(change: Any) -> subprocess.CompletedProcess[str]:
        copied = copy.deepcopy(export)
        change(copied)
        return _run(folder, copied)

    def edit_note(e: dict[str, Any]) -> int:
        entry = next(r for r in e["records"] if '"note":"ok"' in r["body"])
        entry["body"] = entry["body"].replace('"note":"ok"', '"note":"all fine"')
        return int(entry["seq"])

    cases: dict[str, Any] = {
        "edited body": (edit_note, "was changed"),
        "last record cut": (lambda e: e["records"].pop(), "records were removed"),
        "middle record removed": (lambda e: e["records"].pop(2), "missing or out of order"),
        "records swapped": (
            lambda e: e["records"].__setitem__(slice(1, 3), [e["records"][2], e["records"][1]]),
            "missing or out of order",
        ),
        "seal count lowered with the cut": (
            lambda e: (e["records"].pop(), e["seal"].update(count=len(e["records"]), last_seq=len(e["records"]))),
            "signature does not match",
        ),
        "seal removed": (lambda e: e.pop("seal"), "no seal"),
        "checkpoint edited": (lambda e: e["checkpoints"][0].update(time="2001-01-01T00:00:00+00:00"), "checkpoint 1"),
        "re-hashed rewrite": (lambda e: _rehash(e, edit_note(e)), "the end of the chain was changed"),
    }
    for name, (change, expected) in cases.items():
        failed = altered(change)
        assert failed.returncode == 1, (name, failed.stdout, failed.stderr)
        assert failed.stdout.startswith("FAILED:") and expected in failed.stdout, (name, failed.stdout)

    truncated = folder / "export.json"
    truncated.write_text(json.dumps(export)[:-200])
    cut = subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify_audit_export.py"), str(truncated), "--key", "key.pem"],
        capture_output=True,
        text=True,
        env={},
        cwd=folder,
        timeout=120,
    )
    assert cut.returncode == 2 and "cannot read" in cut.stderr


async def test_the_public_key_is_published_apart_and_exports_are_audited(signing_env: Env) -> None:
    env = signing_env
    async with httpx2.AsyncClient(base_url=env.url, timeout=WAIT) as http:
        key = await http.get("/governance/audit/public-key")  # no credentials: it is public
    assert key.status_code == 200 and key.text == PUBLIC
    assert (env.audit_db.parent / PUBLIC_KEY_FILE).read_text() == PUBLIC
    await _export(env)
    taken = gateway.read_audit(env.audit_db)[-1]
    assert taken.tool == "governance.audit-export" and taken.arguments == {"format": "chain"}
    headers = {"Authorization": f"Bearer {STAFF_TOKENS['alice']['token']}"}
    async with httpx2.AsyncClient(base_url=env.url, timeout=WAIT) as http:
        refused = await http.get("/governance/audit/export", params={"format": "chain"}, headers=headers)
        filtered = await http.get(
            "/governance/audit/export",
            params={"format": "chain", "agent": "payment"},
            headers={"Authorization": f"Bearer {STAFF_TOKENS['carol']['token']}"},
        )
    assert refused.status_code == 403 and filtered.status_code == 400


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=511))
def test_the_pure_python_ed25519_agrees_with_the_library(message: bytes, flip: int) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(PRIVATE.encode(), password=None)
    signature = key.sign(message)  # type: ignore[union-attr,call-arg]
    public = public_key_from_pem(PUBLIC)
    assert ed25519_verify(public, message, signature)
    bad = bytearray(signature)
    bad[flip // 8] ^= 1 << (flip % 8)
    assert not ed25519_verify(public, message, bytes(bad))
    assert not ed25519_verify(public, message + b"x", signature)
