"""``switchboard new-tool`` writes a tool that works through the gateway, on a fresh data directory.

The scaffold writes into a copy of this checkout (``tests/scaffold/tree.py``), never into the
source tree, so two runs on one checkout cannot see each other's files. What needs the new tool
imported (the gateway, the revisions) runs in a process whose ``PYTHONPATH`` is the copy
(``new_tool_child.py``). The generated code is held to the house rules (ruff, mypy --strict), the
revision builds the table it defines, and a granted agent reads the reference rows through the
real gateway over HTTP while an agent without the grant is refused and audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.new_tool import Scaffold, new_tool
from shared.errors import InvalidRequest
from tests.migrations.test_upgrade import HERE as MIGRATION_FIXTURES
from tests.scaffold.tree import copy_tree, run
from tests.storage.pg import require_postgres

RUFF = Path(sys.executable).parent / "ruff"
PREVIOUS_RELEASE = MIGRATION_FIXTURES / "previous_release.tar.gz"


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Scaffold]:
    tree = copy_tree(tmp_path_factory.mktemp("new-tool") / "checkout")
    name = f"probe_{uuid.uuid4().hex[:8]}"
    return tree, name, new_tool("identity", name, 'Tier names: what each "tier" gives', root=tree)


def in_the_copy(tree: Path, check: str, name: str, work: Path) -> dict[str, Any]:
    done = run(tree, sys.executable, "-m", "tests.commands.new_tool_child", check, name, str(work), timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_it_writes_into_the_tree_it_is_given_only(scaffolded: tuple[Path, str, Scaffold]) -> None:
    tree, name, made = scaffolded
    for path in (made.tool, made.revision, made.tables):
        assert path.is_relative_to(tree), path
    source = Path(__file__).resolve().parents[2] / "mcp_servers" / "identity"
    assert not (source / "tools" / f"{name}.py").exists()
    assert name not in (source / "tables.py").read_text()


def test_the_generated_code_passes_ruff_and_strict_mypy(scaffolded: tuple[Path, str, Scaffold]) -> None:
    tree, _, made = scaffolded
    files = [str(made.tool), str(made.revision), str(made.tables)]
    checked = subprocess.run([str(RUFF), "check", *files], capture_output=True, text=True, cwd=tree)
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run([str(RUFF), "format", "--check", *files], capture_output=True, text=True, cwd=tree)
    assert formatted.returncode == 0, formatted.stdout
    # The checkout's own mypy cache: the copy's unchanged modules have the same sources and times.
    cache = Path(__file__).resolve().parents[2] / ".mypy_cache"
    typed = run(tree, sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), *files)
    assert typed.returncode == 0, typed.stdout


def test_a_second_scaffold_of_the_same_tool_or_a_bad_name_is_refused(scaffolded: tuple[Path, str, Scaffold]) -> None:
    tree, name, _ = scaffolded
    with pytest.raises(InvalidRequest, match="exists already"):
        new_tool("identity", name, "again", root=tree)
    with pytest.raises(InvalidRequest, match="not a lower-case identifier"):
        new_tool("identity", "Bad-Name", "x", root=tree)
    with pytest.raises(InvalidRequest, match="unknown system"):
        new_tool("nowhere", "fine_name", "x", root=tree)


@pytest.mark.e2e
def test_the_new_tool_answers_through_the_gateway(scaffolded: tuple[Path, str, Scaffold], tmp_path: Path) -> None:
    tree, name, made = scaffolded
    seen = in_the_copy(tree, "gateway", name, tmp_path)
    assert not seen["found"]["error"], seen["found"]["text"]
    assert json.loads(seen["found"]["text"]) == {"key": "extended", "value": f"the extended {name}"}
    assert seen["missing"]["error"] and "no " + name in seen["missing"]["text"]
    # Billing has no grant for it: denied, and the denial is audited like any other.
    assert seen["refused"].startswith("DENIED"), seen["refused"]
    assert {"identity:allow", "billing:deny"} <= set(seen["decisions"]), seen["decisions"]
    assert seen["head"] == made.revision_id


def test_the_new_revision_adds_its_rows_to_an_existing_data_directory_keeping_the_rest(
    scaffolded: tuple[Path, str, Scaffold], tmp_path: Path
) -> None:
    tree, name, made = scaffolded
    with tarfile.open(PREVIOUS_RELEASE) as archive:
        archive.extractall(tmp_path / "previous", filter="data")
    seen = in_the_copy(tree, "prepare", name, tmp_path)
    assert seen["code"] == 0
    assert f"identity: no version (created or adopted) -> {made.revision_id}" in seen["printed"]
    before, after = seen["before"], seen["after"]
    assert {k: v for k, v in after.items() if k in before} == before
    assert after[f"systems/identity.db:{name}"].startswith("3:")


async def test_the_new_revision_adds_its_table_and_rows_on_postgresql(
    scaffolded: tuple[Path, str, Scaffold], tmp_path: Path
) -> None:
    tree, name, made = scaffolded
    await require_postgres()
    seen = in_the_copy(tree, "postgresql", name, tmp_path)
    # Every earlier identity revision runs first, the new one last.
    assert seen["applied"][0] == "0001" and seen["applied"][-1] == made.revision_id
    assert seen["keys"] == ["extended", "legacy", "standard"]
