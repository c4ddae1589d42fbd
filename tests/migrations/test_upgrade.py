"""``switchboard prepare`` upgrades a data directory, or a database, written by the previous release.

The starting points are real: files and a dump the release before versioned migrations wrote
while holding three conversations (see previous_release.md). After the upgrade every row of
every table is still there, unchanged, the audit chain still verifies, and a second run finds
nothing to do.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import sqlite3
import tarfile
import uuid
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from gateway import verify_audit
from orchestrator.cli import main
from shared.migrations import STORES, head
from tests.storage.pg import BASE_URL, require_postgres

HERE = Path(__file__).parent


# Tables the wider action catalog added after the previous release: created empty on upgrade.
CATALOG_TABLES = (
    ("billing", "contracts"),
    ("billing", "credits"),
    ("billing", "billing_contacts"),
    ("billing", "invoice_copies"),
    ("billing", "payment_arrangements"),
    ("billing", "account_closures"),
    ("identity", "sign_in_links"),
    ("identity", "postal_addresses"),
    ("network", "sim_blocks"),
    ("network", "sim_orders"),
    ("network", "roaming_settings"),
    ("network", "roaming_rates"),
    ("network", "line_locks"),
    ("network", "porting_codes"),
    ("network", "sim_activations"),
    ("network", "outage_records"),
    ("network", "port_in_requests"),
    ("network", "donor_porting_codes"),
    ("payments", "payment_methods"),
    ("support", "orders"),
    ("support", "devices"),
)


def _sqlite_tables(path: Path) -> dict[str, str]:
    """Each table's name and a digest of all its rows (in primary-key order)."""
    found = {}
    with closing(sqlite3.connect(path)) as db:
        names = [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        for name in names:
            if name.startswith("alembic_version"):
                continue
            rows = db.execute(f'SELECT * FROM "{name}" ORDER BY 1, 2').fetchall()
            found[name] = f"{len(rows)}:{hashlib.sha256(repr(rows).encode()).hexdigest()}"
    return found


def data_dir_rows(data_dir: Path) -> dict[str, str]:
    return {
        f"{db.relative_to(data_dir)}:{table}": digest
        for db in sorted(data_dir.rglob("*.db"))
        for table, digest in _sqlite_tables(db).items()
    }


def _prepare(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["prepare", *args]) == 0
    return capsys.readouterr().out


def test_prepare_upgrades_the_previous_release_data_directory_keeping_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    with tarfile.open(HERE / "previous_release.tar.gz") as archive:
        archive.extractall(data_dir, filter="data")
    before = data_dir_rows(data_dir)
    assert sum(int(d.split(":")[0]) for d in before.values()) > 5_000  # a real dataset, not an empty shell
    assert int(before["audit.db:audit"].split(":")[0]) > 10
    assert int(before["conversations.db:transcript"].split(":")[0]) > 5

    printed = _prepare(capsys, "--data-dir", str(data_dir))

    for store in ("gateway", "conversations", "signals", "channels", "billing", "support", "identity"):
        assert f"{store}: no version (created or adopted) -> {head(store)}" in printed, printed
    after = data_dir_rows(data_dir)
    assert {k: v for k, v in after.items() if k in before} == before  # every row, unchanged
    channels = ("link_codes", "voice_calls", "voice_heard", "voice_call_info", "voice_steps")
    added = {f"channels.db:{t}" for t in channels} | {"audit.db:control_changes"}
    added |= {f"systems/{system}.db:{table}" for system, table in CATALOG_TABLES}
    assert set(after) - set(before) <= added
    report = verify_audit(data_dir / "audit.db")
    assert report.intact and report.count == int(before["audit.db:audit"].split(":")[0]), report

    again = _prepare(capsys, "--data-dir", str(data_dir))
    assert "applied" not in again and again.count(": current at ") == 11, again
    assert data_dir_rows(data_dir) == after


async def _pg_rows(conn: asyncpg.Connection, prefix: str) -> dict[str, str]:
    tables = await conn.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE' AND (table_schema = $1 OR table_schema LIKE $1 || '\\_%')"
        " AND table_name NOT LIKE 'alembic_version%'",
        prefix,
    )
    found = {}
    for t in tables:
        rows = await conn.fetch(f'SELECT * FROM "{t["table_schema"]}"."{t["table_name"]}" ORDER BY 1')
        values = sorted(repr(tuple(r.values())) for r in rows)
        found[f"{t['table_schema'][len(prefix) :]}.{t['table_name']}"] = (
            f"{len(rows)}:{hashlib.sha256(repr(values).encode()).hexdigest()}"
        )
    return found


async def test_prepare_upgrades_the_previous_release_postgresql_database_keeping_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await require_postgres()
    prefix = f"up_{uuid.uuid4().hex[:12]}"
    dump = gzip.decompress((HERE / "previous_release_pg.sql.gz").read_bytes()).decode()
    conn = await asyncpg.connect(BASE_URL)
    try:
        await conn.execute(dump.replace("prevrel", prefix))
        await conn.execute("SELECT pg_catalog.set_config('search_path', 'public', false)")
        before = await _pg_rows(conn, prefix)
        assert int(before[".audit"].split(":")[0]) > 10 and int(before["_payments.charges"].split(":")[0]) > 100

        url = f"{BASE_URL}?schema={prefix}"
        monkeypatched = {"SWITCHBOARD_DATABASE_URL": url}
        printed = await asyncio.to_thread(_prepare_with_env, capsys, monkeypatched, tmp_path / "data")

        for store in STORES:
            assert f"{store}: no version (created or adopted) -> {head(store)}" in printed, printed
        after = await _pg_rows(conn, prefix)
        assert {k: v for k, v in after.items() if k in before} == before
        added = {".link_codes", ".voice_calls", ".voice_heard", ".voice_call_info", ".voice_steps"}
        added |= {".console_sessions", ".control_changes"} | {f"_{s}.{t}" for s, t in CATALOG_TABLES}
        assert set(after) - set(before) <= added

        again = await asyncio.to_thread(_prepare_with_env, capsys, monkeypatched, tmp_path / "data")
        assert "applied" not in again and again.count(": current at ") == len(STORES), again
    finally:
        schemas = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $1 || '\\_%'", prefix
        )
        for s in schemas:
            await conn.execute(f'DROP SCHEMA "{s["nspname"]}" CASCADE')
        await conn.close()


def _prepare_with_env(capsys: pytest.CaptureFixture[str], env: dict[str, str], data_dir: Path) -> str:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        return _prepare(capsys, "--data-dir", str(data_dir))
