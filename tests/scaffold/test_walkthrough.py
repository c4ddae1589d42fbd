"""docs/adding-an-agent.md, run as written: the Retention agent is scaffolded with tools into a
copy of the checkout, and the suite's checks of agents, skills, tools, grants and routing pass.

Not the whole suite: it takes far longer than a test may, and a new agent changes only what these
checks read (the skill folders, the routing set, the policies, the derived catalog and compose
files); the agent's own tests run its scenarios through the real gateway on a fresh stack.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.scaffold.tree import ROOT, copy_tree, run

pytestmark = [pytest.mark.e2e]

DOC = ROOT / "docs" / "adding-an-agent.md"
WALKTHROUGH = DOC.read_text(encoding="utf-8").split("## The Retention example, end to end", 1)[1].split("\n## ", 1)[0]


def commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", WALKTHROUGH, re.DOTALL)


def test_the_walkthrough_has_its_steps() -> None:
    blocks = commands()
    assert len(blocks) >= 4
    assert any("switchboard new-agent retention" in b and "--tool" in b for b in blocks)
    assert any("switchboard skill test retention-offer" in b and "make test-registry" in b for b in blocks)


def test_the_walkthrough_runs_green(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path / "checkout")
    for block in commands():
        done = run(tree, "bash", "-euo", "pipefail", "-c", block, timeout=600)
        assert done.returncode == 0, f"$ {block}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (tree / "agents" / "retention" / "retention_offer.py").exists()
    assert not (tree / "retention-routing.txt").exists()
