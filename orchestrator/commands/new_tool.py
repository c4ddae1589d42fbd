"""``switchboard new-tool <system> <name>``: scaffold a governed MCP tool on a reference system.

It writes, without touching any existing module but the system's ``tables.py`` (one table
appended):

- ``mcp_servers/<system>/tools/<name>.py``: the tool's typed input and output models, its
  reference-backend read and ``register(server, backend)`` (found at start-up);
- ``mcp_servers/<system>/migrations/<NNNN>_<name>.py``: a revision that creates the tool's
  table and loads its reference rows, on SQLite and PostgreSQL, keeping every existing row;
- the table's definition, appended to ``mcp_servers/<system>/tables.py``.

The tool is reached through the gateway as ``<system>.<name>``; an agent needs a grant for it
(printed at the end). Run ``switchboard prepare`` (or restart) to apply the revision.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.commands import add_command
from shared.errors import InvalidRequest
from shared.settings import SYSTEMS

_NAME = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


@dataclass(frozen=True)
class Scaffold:
    """What ``new_tool`` wrote, relative to the root it wrote under."""

    tool: Path
    revision: Path
    tables: Path
    revision_id: str
    grant: str


def default_root() -> Path:
    """The source tree this installation runs from (the folder holding ``mcp_servers``)."""
    import mcp_servers

    return Path(mcp_servers.__file__).resolve().parents[1]


def new_tool(system: str, name: str, description: str, *, root: Path | None = None) -> Scaffold:
    """Write the tool, its revision and its table definition; refuse to overwrite anything."""
    if system not in SYSTEMS:
        raise InvalidRequest(f"unknown system {system!r}", hint=f"use one of {', '.join(SYSTEMS)}")
    if not _NAME.match(name):
        raise InvalidRequest(
            f"tool name {name!r} is not a lower-case identifier",
            hint="use 3 to 41 letters, digits and underscores, starting with a letter (e.g. contract_terms)",
        )
    base = (root or default_root()) / "mcp_servers" / system
    tables = base / "tables.py"
    tools = base / "tools"
    tool = tools / f"{name}.py"
    if tool.exists() or f'"{name}",\n' in tables.read_text():
        raise InvalidRequest(f"{system}.{name} exists already", hint="choose another name")
    numbers = sorted(int(m.group(1)) for f in (base / "migrations").iterdir() if (m := _REVISION_FILE.match(f.name)))
    previous, revision_id = f"{numbers[-1]:04d}", f"{numbers[-1] + 1:04d}"
    revision = base / "migrations" / f"{revision_id}_{name}.py"
    words = _sentence(description)
    model = "".join(part.capitalize() for part in name.split("_"))

    tools.mkdir(exist_ok=True)
    init = tools / "__init__.py"
    if not init.exists():
        init.write_text(f'"""Tools added to the {system} system (``switchboard new-tool``); found at start-up."""\n')
    tool.write_text(_TOOL.format(system=system, name=name, model=model, words=words))
    revision.write_text(_REVISION.format(name=name, words=words, revision=revision_id, previous=previous))
    tables.write_text(tables.read_text().rstrip("\n") + "\n" + _TABLE.format(name=name))
    grant = (
        f'@id("grant.<agent>.{system}-{name.replace("_", "-")}")\n'
        f'permit (principal == Agent::"<agent>", action in Action::"use", resource == Tool::"{system}.{name}");'
    )
    return Scaffold(tool, revision, tables, revision_id, grant)


def _sentence(text: str) -> str:
    """One line safe inside a docstring and a string literal."""
    line = " ".join(text.split()).replace("\\", "/").replace('"', "'").strip() or "A reference lookup"
    return line if line.endswith(".") else line + "."


_TOOL = '''"""{system}.{name}: {words}

Added with ``switchboard new-tool``: typed input and output, the reference backend's read,
and ``register``, which the {system} server calls at start-up. Its table and reference rows
come with the revision of the same name in ``../migrations/``.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._tooling import READ_ONLY, act, tool_meta
from shared.errors import NotFound

Key = Annotated[str, Field(min_length=1, max_length=60, description="the {name} entry to read")]


class {model}Request(BaseModel):
    """What a caller asks for."""

    key: Key


class {model}(BaseModel):
    """One {name} entry, as the system of record holds it."""

    key: str
    value: str


async def read(backend: ReferenceBackend, request: {model}Request) -> {model}:
    """The reference backend's read: one row of the {name} table."""
    row = await backend.fetchone("SELECT key, value FROM {name} WHERE key = ?", (request.key,))
    if row is None:
        raise NotFound(f"no {name} entry {{request.key!r}}", hint="check the key")
    return {model}(key=row["key"], value=row["value"])


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="{name}", annotations=READ_ONLY, meta=tool_meta())
    async def {name}(key: Key) -> {model}:
        """{words}"""
        return await act(read(backend, {model}Request(key=key)))
'''

_REVISION = '''"""The {name} table and its reference rows: {words}

Revision ID: {revision}
Revises: {previous}

Adds a table and rows only: every existing row stays, and a data directory or database that
already holds the reference dataset gets these rows on upgrade (nothing is re-seeded).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{previous}"
branch_labels = None
depends_on = None

# Reference rows: replace them with the system's real reference data.
ROWS = [
    {{"key": "standard", "value": "the standard {name}"}},
    {{"key": "extended", "value": "the extended {name}"}},
    {{"key": "legacy", "value": "the legacy {name}"}},
]


def upgrade() -> None:
    table = op.create_table(
        "{name}",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(table, ROWS)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
'''

_TABLE = """
{name} = sa.Table(
    "{name}",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)
"""


def cmd_new_tool(args: argparse.Namespace) -> int:
    made = new_tool(args.system, args.name, args.description or "", root=args.root)
    print(f"wrote {made.tool}\nwrote {made.revision} (revision {made.revision_id})\nadded the table to {made.tables}")
    grant = made.grant.replace("\n", "\n    ")
    print(
        f"\nnext:\n  switchboard prepare      # applies revision {made.revision_id}: the table and its rows\n"
        f"  grant it to an agent in gateway/policies/foundation.cedar, e.g.\n    {grant}\n"
        f"  list {args.system}.{args.name} in docs/action-catalog.md"
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "new-tool")
    p.add_argument("system", choices=SYSTEMS, help="the reference system that gets the tool")
    p.add_argument("name", help="the tool's name, a lower-case identifier (called as <system>.<name>)")
    p.add_argument("--description", help="one sentence: what the tool returns")
    p.add_argument("--root", type=Path, help="the source tree to write into (default: this installation's)")
    p.set_defaults(func=cmd_new_tool)
