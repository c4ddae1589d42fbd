"""What ``test_new_tool.py`` checks inside a scaffolded copy of the checkout, in a process of its own.

Run as ``python -m tests.commands.new_tool_child CHECK NAME WORK_DIR`` with ``PYTHONPATH`` set to the
copy, so its ``mcp_servers`` (with the scaffolded tool and revision) is the one imported. Prints one
JSON object: what the check saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from shared import migrations


async def through_the_gateway(name: str, work: Path) -> dict[str, Any]:
    """A granted agent reads a reference row; an agent without the grant is refused and audited."""
    from gateway import read_audit
    from orchestrator.launcher import Stack
    from shared.envelope import ContextEnvelope
    from shared.service_auth import audiences
    from shared.settings import Settings
    from tests.e2e.gateway_client import call_as, text_of

    stack = Stack(Settings(data_dir=work / "data", customers=40, host="127.0.0.1"), ephemeral_ports=True)
    topology = await stack.start()
    try:
        gateway = topology.gateway_mcp_url()
        envelope = ContextEnvelope(conversation_id=f"conv-new-tool-{name}")
        # The identity agent holds every identity tool (grant.identity.identity-system).
        token = await stack.service_auth("identity").tokens.token(audiences.GATEWAY)
        found = await call_as(gateway, token, f"identity.{name}", {"key": "extended"}, envelope)
        missing = await call_as(gateway, token, f"identity.{name}", {"key": "nothing-here"}, envelope)
        billing = await stack.service_auth("billing").tokens.token(audiences.GATEWAY)
        refused = await call_as(gateway, billing, f"identity.{name}", {"key": "extended"}, envelope)
    finally:
        await stack.stop()
    records = read_audit(work / "data" / "audit.db", conversation_id=envelope.conversation_id, limit=50)
    return {
        "found": {"error": found.is_error, "text": text_of(found)},
        "missing": {"error": missing.is_error, "text": text_of(missing)},
        "refused": text_of(refused),
        "decisions": sorted({f"{r.agent}:{r.decision}" for r in records if r.tool == f"identity.{name}"}),
        "head": migrations.head("identity"),
    }


async def on_postgresql(name: str, work: Path) -> dict[str, Any]:
    """Every identity revision on a fresh PostgreSQL schema, the new one last, and its rows."""
    import asyncpg

    from shared.database import DatabaseURL
    from tests.storage.pg import BASE_URL

    schema = f"nt_{uuid.uuid4().hex[:12]}"
    db = DatabaseURL.parse(f"{BASE_URL}?schema={schema}", default_sqlite=work / "unused.db")
    done = await migrations.migrate(db, "identity")
    conn = await asyncpg.connect(BASE_URL)
    try:
        rows = await conn.fetch(f'SELECT key FROM "{schema}".{name} ORDER BY key')
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
    return {"applied": list(done.applied), "keys": [r["key"] for r in rows]}


def prepare(name: str, work: Path) -> dict[str, Any]:
    """``switchboard prepare`` on a data directory of the previous release: it gains the new table."""
    import contextlib
    import io

    from orchestrator.cli import main
    from tests.migrations.test_upgrade import data_dir_rows

    data_dir = work / "previous"
    before = data_dir_rows(data_dir)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["prepare", "--data-dir", str(data_dir)])
    return {"code": code, "printed": printed.getvalue(), "before": before, "after": data_dir_rows(data_dir)}


def main(check: str, name: str, work: str) -> None:
    where = Path(work)
    if check == "gateway":
        seen = asyncio.run(through_the_gateway(name, where))
    elif check == "postgresql":
        seen = asyncio.run(on_postgresql(name, where))
    elif check == "prepare":
        seen = prepare(name, where)
    else:
        raise SystemExit(f"unknown check {check!r}")
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:])
