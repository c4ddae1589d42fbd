"""A developer adds a specialist with one command; the running system routes to it unchanged."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orchestrator.commands.new_agent import scaffold
from orchestrator.launcher import Stack
from shared.errors import InvalidRequest
from tests.e2e.conftest import Chat, RunningStack, stack_settings

pytestmark = [pytest.mark.e2e]

# The scaffold writes into the source checkout it is run from.
REPO_ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = [
    "will my phone work when I travel to Spain",
    "how much is roaming in France",
    "going on holiday abroad, can I use my mobile there",
    "do I need to turn on roaming in Italy",
]


def test_scaffold_refuses_bad_names_and_too_few_examples(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="lowercase"):
        scaffold(tmp_path, "Travel!", "roaming-advice", "d", "d", EXAMPLES, False)
    with pytest.raises(InvalidRequest, match="three"):
        scaffold(tmp_path, "travel", "roaming-advice", "d", "d", EXAMPLES[:2], False)
    scaffold(tmp_path, "travel", "roaming-advice", "d", "d", EXAMPLES, False)
    with pytest.raises(InvalidRequest, match="already exists"):
        scaffold(tmp_path, "travel", "roaming-advice", "d", "d", EXAMPLES, False)


@pytest.mark.asyncio(loop_scope="session")
async def test_new_agent_is_started_carded_and_routed(tmp_path: Path) -> None:
    name, skill = "travelscaffold", "roaming-abroad-advice"
    command = [sys.executable, "-m", "orchestrator.cli", "new-agent", name, "--skill", skill]
    command += ["--description", "Helps customers who travel abroad."]
    for example in EXAMPLES:
        command += ["--example", example]
    created = [REPO_ROOT / "agents" / name, REPO_ROOT / "skills" / skill]
    generated_test = REPO_ROOT / "tests" / "agents" / f"test_{name}_scaffold.py"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)  # noqa: ASYNC221 - the CLI under test runs as its own process
        assert done.returncode == 0, done.stderr
        assert "created" in done.stdout
        stack = Stack(stack_settings(tmp_path), ephemeral_ports=True)
        assert name in stack.agents
        topology = await stack.start()
        try:
            async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
                card = (await http.get(f"{topology.agents[name]}/.well-known/agent-card.json")).json()
                assert [s["id"] for s in card["skills"]] == [skill]
                chat = await Chat(http, RunningStack(stack, topology, tmp_path)).start()
                reply = await chat.say("will my phone work when I travel to Portugal?")
                assert reply["agent"] == name and reply["status"] == "completed", reply
        finally:
            await stack.stop()
    finally:
        for path in created:
            shutil.rmtree(path, ignore_errors=True)
        generated_test.unlink(missing_ok=True)
