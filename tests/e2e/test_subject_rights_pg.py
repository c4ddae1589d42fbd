"""Data-subject rights with the stores on PostgreSQL (the compose layout): subject access reaches
every system there, erasure leaves the erased values in no table, and retention purges expired
conversations while the audit chain still verifies."""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from gateway import verify_audit
from gateway.audit_traces import TraceFilter, read_traces
from mcp_servers.dataset import sample_customers
from orchestrator.cli import main
from orchestrator.launcher import Stack
from orchestrator.privacy.postgres import schemas
from orchestrator.retention import Retention, purge_everywhere
from shared.database import DatabaseURL
from shared.settings import Settings
from tests.e2e.conftest import Chat, RunningStack
from tests.storage.pg import private_schema

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

CUSTOMERS = 30


class PgStack(RunningStack):
    database_url: str = ""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pg(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PgStack]:
    data_dir = tmp_path_factory.mktemp("switchboard-pg")
    async with private_schema("dsr") as url:
        settings = Settings(data_dir=data_dir, customers=CUSTOMERS, host="127.0.0.1", database_url=url)
        stack = Stack(settings, ephemeral_ports=True)
        topology = await stack.start()
        try:
            running = PgStack(stack, topology, data_dir)
            running.database_url = url
            yield running
        finally:
            await stack.stop()


def _customer(pg: PgStack, index: int) -> dict:
    return sample_customers(pg.data_dir, CUSTOMERS, database_url=pg.database_url)[index]


def _cli(pg: PgStack, monkeypatch: pytest.MonkeyPatch, *argv: str, gateway: bool = True) -> int:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", pg.database_url)
    where = ["--gateway-url", pg.topology.gateway] if gateway else []
    return main([*argv, "--data-dir", str(pg.data_dir), *where])


async def _talk(pg: PgStack, customer: dict, *lines: str) -> str:
    async with httpx.AsyncClient(base_url=pg.topology.orchestrator, timeout=30) as http:
        chat = await Chat(http, pg).start()
        await chat.verify(customer, "I was charged twice, please refund the duplicate")
        for line in lines:
            await chat.say(line)
        return chat.conversation_id


async def _tables_holding(url: str, values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text, JSON or binary column of the deployment holding a value."""
    db = DatabaseURL.parse(url, default_sqlite=Path("unused.db"))
    assert db.dsn is not None
    conn = await asyncpg.connect(db.dsn)
    try:
        columns = await conn.fetch(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'",
            list(schemas(db)),
        )
        found = []
        for schema, table, column, kind in columns:
            cell = f'"{column}"' if kind == "bytea" else f"convert_to(\"{column}\"::text, 'UTF8')"
            for value in values:
                hit = await conn.fetchval(
                    f'SELECT count(*) FROM "{schema}"."{table}" WHERE position($1::bytea IN {cell}) > 0',
                    value.encode(),
                )
                if hit:
                    found.append((f"{schema}.{table}", column, value))
        return found
    finally:
        await conn.close()


async def test_subject_access_on_postgres_returns_every_system(
    pg: PgStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = _customer(pg, -1)
    await _talk(pg, customer, f"also, my email is {customer['email']}")
    code = await asyncio.to_thread(
        _cli, pg, monkeypatch, "subject-access", customer["customer_id"], "--out", str(tmp_path), "--reason", "DSAR-9"
    )
    assert code == 0
    (archive,) = await asyncio.to_thread(lambda: list(tmp_path.glob("subject-access-*.zip")))
    with zipfile.ZipFile(archive) as opened:
        document = json.loads(opened.read("data.json"))
    systems = set(document["systems"])
    for expected in ("conversations", "audit decisions", "crm", "billing", "payments", "identity", "consent"):
        assert expected in systems, (expected, sorted(systems))
    assert "outbox (messages sent)" in systems  # the one-time code, in the data directory
    audit = document["systems"]["audit decisions"]["audit"]
    tools = {json.loads(r["body"])["tool"] for r in audit}
    assert {"identity.verify_code", "governance.subject-access"} <= tools, tools
    # Filtered by customer, the PostgreSQL log finds the identity calls made before they were known.
    db = DatabaseURL.parse(pg.database_url, default_sqlite=Path("unused.db"))
    page = await asyncio.to_thread(
        read_traces, db, TraceFilter(customer=customer["customer_id"]), before=None, limit=500
    )
    unnamed = {t.tool for t in page.traces if t.customer_id is None}
    assert {"identity.start_verification", "identity.verify_code"} <= unnamed, page.traces


async def test_erasure_on_postgres_leaves_no_value_in_any_table(pg: PgStack, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = _customer(pg, -2)
    db = DatabaseURL.parse(pg.database_url, default_sqlite=Path("unused.db"))
    identity = next(s for s, system in schemas(db).items() if system == "identity")
    assert db.dsn is not None
    conn = await asyncpg.connect(db.dsn)
    try:
        full_name = await conn.fetchval(
            f'SELECT full_name FROM "{identity}".customers WHERE customer_id = $1', customer["customer_id"]
        )
    finally:
        await conn.close()
    said = f"this is {full_name.split()[0]}"
    await _talk(pg, customer, f"my account is {customer['account_number']}", said)
    erased = [customer["email"], customer["msisdn"], customer["account_number"], full_name, said]
    before = await _tables_holding(pg.database_url, erased)
    assert {v for *_, v in before} == set(erased), before  # the test can fail

    assert await asyncio.to_thread(_cli, pg, monkeypatch, "erase-customer", customer["customer_id"]) == 0
    assert await _tables_holding(pg.database_url, erased) == []
    held = [p for p in pg.data_dir.rglob("*") if p.is_file() and any(v.encode() in p.read_bytes() for v in erased)]
    assert held == [], held
    report = await asyncio.to_thread(verify_audit, db)
    assert report.intact, report


async def test_retention_on_postgres_purges_expired_conversations_and_the_chain_verifies(
    pg: PgStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = await _talk(pg, _customer(pg, 0))
    db = DatabaseURL.parse(pg.database_url, default_sqlite=Path("unused.db"))
    assert db.dsn is not None and db.schema is not None
    later = time.time() + 2 * 86400  # two days on, everything said now has expired
    purged = await asyncio.to_thread(
        purge_everywhere,
        pg.data_dir,
        pg.database_url,
        Retention(transcripts_days=1, outbox_days=1, signals_days=1),
        later,
    )
    assert purged.counts.get("conversations", 0) >= 1 and purged.counts.get("transcript entries", 0) >= 1
    assert purged.counts.get("outbox messages", 0) >= 1, purged.counts
    conn = await asyncpg.connect(db.dsn)
    try:
        left = await conn.fetchval(
            f'SELECT count(*) FROM "{db.schema}".transcript WHERE conversation_id = $1', conversation
        )
    finally:
        await conn.close()
    assert left == 0
    assert await asyncio.to_thread(_cli, pg, monkeypatch, "audit", "verify", gateway=False) == 0
