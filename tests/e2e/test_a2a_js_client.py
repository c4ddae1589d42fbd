"""Any A2A client can hold a conversation: the official JavaScript SDK gets a refund for its customer."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_a2a_front import register
from tests.governance.e2e_helpers import refunds_for, small_refund_customers

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

CLIENT_DIR = Path(__file__).parent.parent / "a2a_clients"  # package.json: installed by scripts/node-test-deps
WAIT = 60.0


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (CLIENT_DIR / "node_modules" / "@a2a-js" / "sdk").is_dir():
        message = f"needs node and `npm ci` in {CLIENT_DIR} (scripts/node-test-deps, which `make test` runs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


class JsAgent:
    """The script speaks for a customer: one message in on stdin, one JSON reply out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def say(self, text: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()
        async with asyncio.timeout(WAIT):
            line = await self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            raise AssertionError((await self.process.stderr.read()).decode())
        return dict(json.loads(line))


async def test_the_javascript_sdk_drives_a_refund(running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[12]
    token = await register(running, "js-partner").get_credentials("switchboard", None)
    assert token
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(CLIENT_DIR / "a2a_conversation.mjs"),
        running.topology.orchestrator,
        token,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=CLIENT_DIR,
    )
    agent = JsAgent(process)
    try:
        asked = await agent.say("I think I was charged twice")
        assert asked["state"] == "TASK_STATE_INPUT_REQUIRED" and "email" in asked["text"].lower(), asked
        assert asked["contextId"].startswith("conv-")
        code_asked = await agent.say(f"it's {customer['email']}")
        assert code_asked["state"] == "TASK_STATE_INPUT_REQUIRED", code_asked
        proposal = await agent.say(running.latest_code(customer["customer_id"]))
        assert proposal["state"] == "TASK_STATE_INPUT_REQUIRED" and proposal["metadata"]["agent"] == "payment", proposal
        done = await agent.say("yes")
        assert done["state"] == "TASK_STATE_COMPLETED" and done["contextId"] == asked["contextId"], done
    finally:
        assert process.stdin is not None
        process.stdin.close()
        async with asyncio.timeout(WAIT):
            await process.wait()
    assert process.returncode == 0
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1
