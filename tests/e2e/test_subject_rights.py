"""Data-subject rights on a running stack: subject access reaches every system and is audited;
erasure leaves no trace of the erased values in any file of the data directory, and the audit
chain still verifies."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from gateway import read_audit, verify_audit
from gateway.audit_traces import TraceFilter, read_traces
from gateway.explain import explain, render
from orchestrator.cli import main
from tests.e2e.conftest import CUSTOMERS, Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _cli(running: RunningStack, *argv: str) -> int:
    return main([*argv, "--data-dir", str(running.data_dir), "--gateway-url", running.topology.gateway])


def _grep(data_dir: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value) for every file of the data directory that holds one of ``values``, byte for byte."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [(str(path.relative_to(data_dir)), v) for v in values if v.encode() in data]
    return found


async def _talk(chat: Chat, customer: dict) -> None:
    await chat.verify(customer, "I was charged twice, please refund the duplicate")
    await chat.say(f"also, my email is {customer['email']} and my account is {customer['account_number']}")


async def test_subject_access_returns_every_system_and_is_audited(
    chat: Chat, running: RunningStack, tmp_path: Path
) -> None:
    customer = running.claim_customer()
    await _talk(chat, customer)
    code = await asyncio.to_thread(
        _cli, running, "subject-access", customer["customer_id"], "--out", str(tmp_path), "--reason", "DSAR-17"
    )
    assert code == 0
    (archive,) = await asyncio.to_thread(lambda: list(tmp_path.glob("subject-access-*.zip")))
    with zipfile.ZipFile(archive) as opened:
        document = json.loads(opened.read("data.json"))
        summary = opened.read("summary.txt").decode()
    systems = set(document["systems"])
    for expected in ("conversations", "audit decisions", "crm", "billing", "payments", "identity", "consent"):
        assert expected in systems, (expected, sorted(systems))
    assert "outbox (messages sent)" in systems  # the code sent to verify them
    assert customer["customer_id"] in summary and "data.json" in summary
    records = read_audit(running.data_dir / "audit.db", limit=2000)
    recorded = [r for r in records if r.tool == "governance.subject-access"]
    assert recorded and recorded[-1].customer_id == customer["customer_id"] and recorded[-1].oversight is not None
    assert recorded[-1].oversight.note == "DSAR-17"
    # The identity calls made before the customer was verified name them in their outcome, which
    # links (in the chain) every earlier record of the conversation that named no one.
    verified = [r for r in records if r.tool == "identity.verify_code" and r.kind == "outcome" and r.outcome == "ok"]
    mine = [r for r in verified if r.customer_id == customer["customer_id"]]
    assert mine and mine[-1].links, verified
    linked = {r.seq: r for r in records if r.seq in set(mine[-1].links)}
    assert {r.tool for r in linked.values()} >= {"identity.start_verification", "identity.verify_code"}, linked
    assert all(r.customer_id is None for r in linked.values())
    # Explaining one of them names the customer through the chained link.
    first = min(linked.values(), key=lambda r: r.seq)
    explained = explain(running.data_dir / "audit.db", first.id)
    assert explained["customer_link"]["customer_id"] == customer["customer_id"], explained
    assert f"{customer['customer_id']} (not known yet; linked by record {mine[-1].seq})" in render(explained)
    # Filtering the audit by customer finds those identity calls, though their records name no one.
    page = read_traces(
        running.data_dir / "audit.db", TraceFilter(customer=customer["customer_id"]), before=None, limit=500
    )
    found = {t.tool for t in page.traces if t.customer_id is None}
    assert {"identity.start_verification", "identity.verify_code"} <= found, page.traces


def _full_names(data_dir: Path) -> dict[str, str]:
    with closing(sqlite3.connect(data_dir / "systems" / "identity.db")) as conn:
        return dict(conn.execute("SELECT customer_id, full_name FROM customers").fetchall())


def _with_a_namesake(running: RunningStack, names: dict[str, str]) -> dict:
    """An unclaimed customer someone else shares a first name with: erasing theirs must not touch the other."""
    firsts = [n.split()[0] for n in names.values()]
    for customer in reversed(running.customers(CUSTOMERS)):
        cid = customer["customer_id"]
        if cid not in running.claimed and firsts.count(names[cid].split()[0]) > 1:
            running.claimed.add(cid)
            return customer
    raise AssertionError("no unclaimed customer shares a first name with another")


async def test_erasure_leaves_no_trace_in_any_file_and_the_chain_verifies(chat: Chat, running: RunningStack) -> None:
    names = _full_names(running.data_dir)
    customer = _with_a_namesake(running, names)
    full_name = names.pop(customer["customer_id"])
    first_name = full_name.split()[0]
    await _talk(chat, customer)
    # A first name alone, in the transcript only. Other customers may share it, so what must go
    # is every place it is about this customer: here, the sentence they said.
    said = f"this is {first_name}"
    await chat.say(said)
    erased = [customer["email"], customer["msisdn"], customer["account_number"], said]
    if full_name not in names.values():  # a full name others share stays in their records
        erased.append(full_name)

    before = await asyncio.to_thread(_grep, running.data_dir, erased)
    held = {v for _, v in before}
    assert held == set(erased) and len({f for f, _ in before}) >= 4, before  # the test can fail
    namesakes = [n for n in names.values() if n.split()[0] == first_name]
    assert namesakes  # someone else is called the same: their data must stay

    code = await asyncio.to_thread(_cli, running, "erase-customer", customer["customer_id"])
    assert code == 0
    after = await asyncio.to_thread(_grep, running.data_dir, erased)
    assert after == [], after
    # Someone else called the same is untouched: only what was about this customer went.
    assert [n for n in _full_names(running.data_dir).values() if n.split()[0] == first_name] == namesakes
    report = await asyncio.to_thread(verify_audit, running.data_dir / "audit.db")
    assert report.intact, report
    erasure = [
        r for r in read_audit(running.data_dir / "audit.db", limit=2000) if r.tool == "governance.erase-customer"
    ]
    assert erasure[-1].customer_id == customer["customer_id"] and erasure[-1].oversight is not None
    # The customer id stays as the pseudonymous reference: their records are still found by it.
    assert any(r.customer_id == customer["customer_id"] for r in read_audit(running.data_dir / "audit.db", limit=2000))


async def test_the_audit_export_command_writes_an_export_the_shipped_verifier_accepts(
    running: RunningStack, tmp_path: Path
) -> None:
    out = tmp_path / "audit.json"
    assert await asyncio.to_thread(_cli, running, "audit", "export", "--out", str(out)) == 0
    folder = tmp_path / "auditor"
    assert (
        await asyncio.to_thread(main, ["audit", "verifier", "--out", str(folder), "--data-dir", str(running.data_dir)])
        == 0
    )
    checked = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-I",
            "-S",
            str(folder / "verify_audit_export.py"),
            str(out),
            "--key",
            str(folder / "audit-public-key.pem"),
        ],
        capture_output=True,
        text=True,
        env={},
        timeout=300,
    )
    assert checked.returncode == 0 and checked.stdout.startswith("VERIFIED:"), checked.stdout + checked.stderr
