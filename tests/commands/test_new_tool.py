"""``switchboard new-tool`` writes a tool that works through the gateway, on a fresh data directory.

The scaffold writes into the source tree this test runs from (that is where the system finds
its tools and revisions) and everything it wrote is removed afterwards. The generated code is
held to the house rules (ruff, mypy --strict), the revision builds the table it defines, and a
granted agent reads the reference rows through the real gateway over HTTP while an agent
without the grant is refused and audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from gateway import read_audit
from orchestrator.cli import main
from orchestrator.commands.new_tool import Scaffold, default_root, new_tool
from orchestrator.launcher import Stack
from shared import migrations
from shared.database import DatabaseURL
from shared.envelope import ContextEnvelope
from shared.errors import InvalidRequest
from shared.service_auth import audiences
from shared.settings import Settings
from tests.e2e.gateway_client import call_as, text_of
from tests.migrations.test_upgrade import HERE as MIGRATION_FIXTURES
from tests.migrations.test_upgrade import data_dir_rows
from tests.storage.pg import BASE_URL, require_postgres

RUFF = Path(sys.executable).parent / "ruff"
PREVIOUS_RELEASE = MIGRATION_FIXTURES / "previous_release.tar.gz"


@pytest.fixture
def scaffolded() -> Iterator[tuple[str, Scaffold]]:
    name = f"probe_{uuid.uuid4().hex[:8]}"
    tables = default_root() / "mcp_servers" / "identity" / "tables.py"
    tools = tables.parent / "tools"
    before, had_tools = tables.read_text(), tools.exists()
    made = new_tool("identity", name, 'Tier names: what each "tier" gives', root=default_root())
    try:
        _forget_revisions()
        yield name, made
    finally:
        tables.write_text(before)
        made.tool.unlink(missing_ok=True)
        made.revision.unlink(missing_ok=True)
        if not had_tools:
            for leftover in tools.rglob("*"):
                if leftover.is_file():
                    leftover.unlink()
            for folder in sorted(tools.rglob("*"), reverse=True):
                folder.rmdir()
            tools.rmdir()
        for module in [m for m in sys.modules if m.startswith("mcp_servers.identity.tools")]:
            del sys.modules[module]
        _forget_revisions()


def _forget_revisions() -> None:
    migrations.reread_revisions()


def test_the_generated_code_passes_ruff_and_strict_mypy(scaffolded: tuple[str, Scaffold]) -> None:
    _, made = scaffolded
    files = [str(made.tool), str(made.revision), str(made.tables)]
    checked = subprocess.run([str(RUFF), "check", *files], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run([str(RUFF), "format", "--check", *files], capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *files], capture_output=True, text=True, cwd=default_root()
    )
    assert typed.returncode == 0, typed.stdout


def test_a_second_scaffold_of_the_same_tool_or_a_bad_name_is_refused(scaffolded: tuple[str, Scaffold]) -> None:
    name, _ = scaffolded
    with pytest.raises(InvalidRequest, match="exists already"):
        new_tool("identity", name, "again", root=default_root())
    with pytest.raises(InvalidRequest, match="not a lower-case identifier"):
        new_tool("identity", "Bad-Name", "x", root=default_root())
    with pytest.raises(InvalidRequest, match="unknown system"):
        new_tool("nowhere", "fine_name", "x", root=default_root())


@pytest.mark.e2e
async def test_the_new_tool_answers_through_the_gateway(scaffolded: tuple[str, Scaffold], tmp_path: Path) -> None:
    name, made = scaffolded
    stack = Stack(Settings(data_dir=tmp_path / "data", customers=40, host="127.0.0.1"), ephemeral_ports=True)
    topology = await stack.start()
    try:
        gateway = topology.gateway_mcp_url()
        envelope = ContextEnvelope(conversation_id=f"conv-new-tool-{name}")
        # The identity agent holds every identity tool (grant.identity.identity-system).
        token = await stack.service_auth("identity").tokens.token(audiences.GATEWAY)
        result = await call_as(gateway, token, f"identity.{name}", {"key": "extended"}, envelope)
        assert not result.is_error, text_of(result)
        assert json.loads(text_of(result)) == {"key": "extended", "value": f"the extended {name}"}
        missing = await call_as(gateway, token, f"identity.{name}", {"key": "nothing-here"}, envelope)
        assert missing.is_error and "no " + name in text_of(missing)
        # Billing has no grant for it: denied, and the denial is audited like any other.
        billing = await stack.service_auth("billing").tokens.token(audiences.GATEWAY)
        refused = await call_as(gateway, billing, f"identity.{name}", {"key": "extended"}, envelope)
        assert text_of(refused).startswith("DENIED"), text_of(refused)

        records = read_audit(tmp_path / "data" / "audit.db", conversation_id=envelope.conversation_id, limit=50)
        decisions = {(r.agent, r.decision) for r in records if r.tool == f"identity.{name}"}
        assert decisions >= {("identity", "allow"), ("billing", "deny")}, decisions
        assert migrations.head("identity") == made.revision_id
    finally:
        await stack.stop()


def test_the_new_revision_adds_its_rows_to_an_existing_data_directory_keeping_the_rest(
    scaffolded: tuple[str, Scaffold], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, made = scaffolded
    data_dir = tmp_path / "data"
    with tarfile.open(PREVIOUS_RELEASE) as archive:
        archive.extractall(data_dir, filter="data")
    before = data_dir_rows(data_dir)
    assert main(["prepare", "--data-dir", str(data_dir)]) == 0
    assert f"identity: no version (created or adopted) -> {made.revision_id}" in capsys.readouterr().out
    after = data_dir_rows(data_dir)
    assert {k: v for k, v in after.items() if k in before} == before
    assert after[f"systems/identity.db:{name}"].startswith("3:")


async def test_the_new_revision_adds_its_table_and_rows_on_postgresql(scaffolded: tuple[str, Scaffold]) -> None:
    name, made = scaffolded
    await require_postgres()
    schema = f"nt_{uuid.uuid4().hex[:12]}"
    db = DatabaseURL.parse(f"{BASE_URL}?schema={schema}", default_sqlite=Path("unused.db"))
    done = await migrations.migrate(db, "identity")
    conn = await asyncpg.connect(BASE_URL)
    try:
        # Every earlier identity revision runs first, the new one last.
        assert done.applied[0] == "0001" and done.applied[-1] == made.revision_id
        rows = await conn.fetch(f'SELECT key, value FROM "{schema}".{name} ORDER BY key')
        assert [r["key"] for r in rows] == ["extended", "legacy", "standard"]
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
