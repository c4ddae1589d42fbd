"""``switchboard chat`` shows what the web chat shows, as it happens: a human joining and
replying, and an approval's outcome, none of which is the answer to a turn the customer typed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchestrator.commands._chat import NOTICES, WAITING_FOR_APPROVAL
from tests.consoles.agent_helpers import held_refund_customer
from tests.consoles.conftest import StaffFactory
from tests.e2e.conftest import RunningStack
from tests.e2e.test_up_and_chat import Lines

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class Terminal:
    """``switchboard chat`` in its own process; the stack it talks to runs in this test's loop."""

    def __init__(self, running: RunningStack) -> None:
        command = [sys.executable, "-m", "orchestrator.cli", "chat", "--url", running.topology.orchestrator]
        command += ["--data-dir", str(running.data_dir)]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines = Lines(self.proc)
        self.conversation_id = ""

    async def until(self, text: str) -> str:
        """The first line from here on that contains ``text`` (the waits are bounded)."""
        seen = await asyncio.to_thread(self.lines.until, text, 60.0)
        return seen[-1]

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    async def close(self) -> int:
        if self.proc.poll() is None:
            self.type("/quit")
        code = await asyncio.to_thread(self.proc.wait, 30)
        self.proc.communicate()
        self.lines.drain()
        return code


@pytest_asyncio.fixture(loop_scope="session")
async def terminal(running: RunningStack) -> AsyncIterator[Terminal]:
    term = Terminal(running)
    try:
        first = await term.until("[conversation ")
        term.conversation_id = first.split()[1].rstrip("]")
        yield term
    finally:
        if term.proc.poll() is None and await term.close() != 0:
            raise AssertionError("the chat did not end cleanly on /quit")


async def test_a_human_joining_and_replying_is_shown_without_a_turn(
    terminal: Terminal, staff_client: StaffFactory
) -> None:
    terminal.type("I want to talk to a person")
    await terminal.until("escalation> ")
    agent = await staff_client("agent")
    case = f"/api/console/escalations/{terminal.conversation_id}"

    assert (await agent.post(f"{case}/take-over")).status_code == 200
    assert await terminal.until(NOTICES["human-joined"])
    sent = await agent.post(f"{case}/replies", json={"text": "Hi, I'm from the team. How can I help?"})
    assert sent.status_code == 201, sent.text
    shown = await terminal.until("I'm from the team")
    assert shown.endswith(f"{agent.name} (our team)> Hi, I'm from the team. How can I help?"), shown
    assert (await agent.post(f"{case}/hand-back")).status_code == 200
    assert (await terminal.until("-- ")).startswith("-- ")  # the hand-back notice
    assert await terminal.close() == 0


async def test_an_approval_outcome_arrives_after_the_turn_that_waited_for_it(
    terminal: Terminal, running: RunningStack, staff_client: StaffFactory
) -> None:
    customer = held_refund_customer(running.data_dir, 0)
    terminal.type("I was charged twice, please refund the duplicate")
    await terminal.until("identity> ")
    terminal.type(f"it's {customer['email']}")
    await terminal.until("identity> ")
    terminal.type(await asyncio.to_thread(running.latest_code, customer["customer_id"]))
    await terminal.until("payment> ")
    terminal.type("yes")
    await terminal.until(WAITING_FOR_APPROVAL)

    agent = await staff_client("agent")
    pending = (await agent.get("/api/console/approvals")).json()["approvals"]
    (approval,) = [a for a in pending if a["conversation_id"] == terminal.conversation_id]
    decided = await agent.post(f"/api/console/approvals/{approval['id']}/approve", json={"note": "checked"})
    assert decided.status_code == 200, decided.text
    assert "approved and issued" in await terminal.until("approved and issued")
    assert await terminal.close() == 0


async def test_a_refused_turn_is_one_line_and_the_chat_goes_on(terminal: Terminal) -> None:
    terminal.type("x" * 2_001)
    refused = await terminal.until("! ")
    assert "2001 characters" in refused and "Traceback" not in refused
    terminal.type("I want to talk to a person")
    await terminal.until("escalation> ")
    assert await terminal.close() == 0
