"""Opt-in: a whole conversation with a real model, through the HTTP API as a customer uses it.

Routing, a tool loop, a refund with its confirmation, and a request for a person, on the whole
stack configured the way ``docs/llm.md`` says for a CPU-only machine. A model too small to follow
instructions still ends in true answers: whatever it gets wrong falls back to the procedures, and
governance decides every call. If the model server crashes or goes away, the test says so, with
its log tail. Runs only when a model is configured (``tests/llm/local_server.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing

import httpx
import pytest
import pytest_asyncio

from mcp_servers.dataset import system_db_path
from orchestrator.launcher import Stack
from tests.e2e.conftest import Chat, RunningStack, stack_settings
from tests.llm.local_server import MODEL_NAME, LocalServer, configured, start

pytestmark = [
    pytest.mark.local_llm,
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(configured() is not None, reason=str(configured())),
]

TURN_SECONDS = 150.0
# The CPU-only settings docs/llm.md gives: short answers, a time-out that follows from them.
CPU_SETTINGS = {
    "SWITCHBOARD_MODEL_RETRIES": "0",
    "SWITCHBOARD_MODEL_MAX_TOKENS": "96",
    "SWITCHBOARD_MODEL_TIMEOUT_SECONDS": "60",
    "SWITCHBOARD_MODEL_TOKENS_PER_SECOND": "15",
    "SWITCHBOARD_MODEL_FIRST_TOKEN_SECONDS": "20",  # a 1,650-token routing prompt takes 12-30 s to read
    "SWITCHBOARD_MAX_TOOL_STEPS": "3",
    "SWITCHBOARD_STRUCTURED_OUTPUT": "json_object",
    # llama-cpp-python's server cannot stream an automatic tool choice (docs/llm.md).
    "SWITCHBOARD_MODEL_STREAM_TOOLS": "false",
    "SWITCHBOARD_TURN_DEADLINE_SECONDS": str(TURN_SECONDS),
}


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    yield from start(tmp_path_factory.mktemp("model"))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def model_stack(
    local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp("switchboard-real-model")
    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
    with pytest.MonkeyPatch.context() as env:
        for name in ("SWITCHBOARD_ROUTER_MODEL", "SWITCHBOARD_SPECIALIST_MODEL", "SWITCHBOARD_SUMMARY_MODEL"):
            env.delenv(name, raising=False)
        env.setenv("SWITCHBOARD_MODEL", MODEL_NAME)
        env.setenv("SWITCHBOARD_MODEL_API_BASE", local_server.base)
        env.setenv("SWITCHBOARD_MODEL_API_KEY", "local")
        for name, value in CPU_SETTINGS.items():
            env.setenv(name, value)
        topology = await stack.start()
    try:
        yield RunningStack(stack, topology, data_dir)
    finally:
        await stack.stop()


def _refunds(data_dir, account: str) -> int:
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        return int(db.execute("SELECT COUNT(*) FROM refunds WHERE account_number = ?", (account,)).fetchone()[0])


async def test_a_whole_conversation_with_a_real_model(
    model_stack: RunningStack, local_server: LocalServer, model_calls_allowed: None
) -> None:
    customer = model_stack.customers(1, has_duplicate_charge=True)[0]
    before = _refunds(model_stack.data_dir, customer["account_number"])
    async with httpx.AsyncClient(base_url=model_stack.topology.orchestrator, timeout=TURN_SECONDS + 30) as http:
        chat = await Chat(http, model_stack).start()

        async def say(text: str) -> dict:
            try:
                return await chat.say(text)
            except (httpx.HTTPError, AssertionError):
                local_server.assert_alive(f"the turn {text!r}")  # a crashed server is named as such
                raise

        # Routing (the model, or the offline brain when the model is unsure), then verification.
        await say("I was charged twice this month")
        await say(f"it's {customer['email']}")
        proposal = await say(model_stack.latest_code(customer["customer_id"]))
        local_server.assert_alive("routing and verification")
        assert (proposal["agent"], proposal["status"]) == ("payment", "input-required"), proposal
        assert _refunds(model_stack.data_dir, customer["account_number"]) == before  # nothing before the yes

        done = await say("yes")
        assert done["agent"] == "payment", done
        assert _refunds(model_stack.data_dir, customer["account_number"]) == before + 1, done

        # A tool loop: the model reads the payments through the gateway (or the procedure does).
        history = await say("show me my payment history")
        assert history["agent"] == "payment" and history["reply"].strip(), history

        human = await say("I want to talk to a real person")
        assert human["status"] == "escalated", human

        state = await chat.state()
    local_server.assert_alive("the conversation")
    assert _refunds(model_stack.data_dir, customer["account_number"]) == before + 1  # once, whatever the model said
    usage = state.get("llm_usage") or {}
    assert usage and sum(int(u.get("calls", 0)) for u in usage.values()) >= 1, state  # the model was used
    for outcome in chat.outcomes:
        assert "<<SYS>>" not in outcome["reply"] and "[INST]" not in outcome["reply"], outcome
