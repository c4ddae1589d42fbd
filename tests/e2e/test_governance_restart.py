"""A conversation parked on an approval survives a restart of every process; audit verify catches truncation."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from orchestrator.launcher import Stack
from tests.e2e.conftest import Chat, RunningStack, stack_settings
from tests.governance.e2e_helpers import big_refund_customers, refunds_for, staff, wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_parked_conversation_survives_a_full_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, data_dir)
        customer = big_refund_customers(data_dir)[3]
        async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
            chat = await Chat(http, running).start()
            await chat.verify(customer, "I was charged twice, please refund the duplicate")
            held = await chat.say("yes")
            approval_id = held["data"]["approval_id"]
            conversation, token = chat.conversation_id, chat.token
    finally:
        await stack.stop()

    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)  # every process anew, same data
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, data_dir)
        async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
            chat = Chat(http, running)
            chat.conversation_id, chat.token = conversation, token
            assert (await chat.state())["waiting_for_approval"] == approval_id
            waiting = await chat.say("is my refund approved yet?")
            assert "waiting for approval" in waiting["reply"], waiting
            approved = await staff(topology.gateway, data_dir, "approver", "POST", f"/approvals/{approval_id}/approve")
            assert approved.json()["status"] == "executed", approved.text
            await wait_for_text(chat.state, "approved and issued")
        assert len(refunds_for(data_dir, customer["account_number"])) == 1
    finally:
        await stack.stop()

    # Shutdown signed the chain head outside the database: cutting records off the end is detected.
    verify = _switchboard("audit", "verify", "--data-dir", str(data_dir))
    assert verify.returncode == 0 and "signed checkpoints match" in verify.stdout, verify.stdout + verify.stderr
    cut = tmp_path / "cut"
    shutil.copytree(data_dir, cut, ignore=shutil.ignore_patterns("systems"))
    with closing(sqlite3.connect(cut / "audit.db", isolation_level=None)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        (last,) = db.execute("SELECT MAX(seq) FROM audit").fetchone()
        db.execute("DELETE FROM audit WHERE seq > ?", (last - 3,))
    broken = _switchboard("audit", "verify", "--data-dir", str(cut))
    assert broken.returncode == 1 and "cut off the end" in broken.stdout, broken.stdout


def _switchboard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )
