"""A conversation parked on an approval survives a restart of every process; audit verify catches truncation.

The payment agent's task waiting for the approval survives too (its record and checkpoint are
files in the data directory): the decision resumes that task, which reports the outcome.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from a2a.client import AuthInterceptor, ClientConfig, create_client
from a2a.types import GetTaskRequest, Task, TaskState

from orchestrator.launcher import Stack
from shared.handoff import RESULT_META_KEY, SpecialistResult
from shared.service_auth import AudienceCredentials, audiences
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
            task_id = _parked_task(data_dir, conversation)
            assert (await _payment_task(stack, topology.agents["payment"], task_id)).status.state == (
                TaskState.TASK_STATE_INPUT_REQUIRED
            )
            waiting = await chat.say("is my refund approved yet?")
            assert "waiting for approval" in waiting["reply"], waiting
            approved = await staff(topology.gateway, data_dir, "approver", "POST", f"/approvals/{approval_id}/approve")
            assert approved.json()["status"] == "executed", approved.text
            await wait_for_text(chat.state, "approved and issued")
            # The outcome came through the task the agent kept across the restart, read from payments.
            done = await _payment_task(stack, topology.agents["payment"], task_id)
            assert done.status.state == TaskState.TASK_STATE_COMPLETED
            result = SpecialistResult.model_validate_json(done.status.message.metadata[RESULT_META_KEY])
            assert result.data["refunded"] is True and result.data["approval_id"] == approval_id
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


def _parked_task(data_dir: Path, conversation_id: str) -> str:
    with closing(sqlite3.connect(data_dir / "conversations.db")) as db:
        (task_id,) = db.execute(
            "SELECT json_extract(state, '$.parked.task_id') FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
    assert task_id, "the parked approval names no task"
    return str(task_id)


async def _payment_task(stack: Stack, url: str, task_id: str) -> Task:
    """GetTask at the payment agent, as the orchestrator (the task's owner)."""
    credentials = AudienceCredentials(stack.service_auth(audiences.ORCHESTRATOR).tokens, audiences.agent("payment"))
    async with await create_client(
        url, client_config=ClientConfig(streaming=False), interceptors=[AuthInterceptor(credentials)]
    ) as client:
        return await client.get_task(GetTaskRequest(id=task_id))
