"""The reference dataset in PostgreSQL: each system's schema is seeded once, with the SQLite rows.

The writers in ``_write`` run unchanged against a stand-in connection that collects their
statements; those run on PostgreSQL inside one transaction per system, under the advisory
lock that also guards creating the system's tables, so replicas starting together seed once
and a backend never sees a half-loaded schema.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, cast

from mcp_servers._pg_database import SEEDED_MARKER, tables_lock
from mcp_servers._sql import system_database, to_postgres
from mcp_servers.dataset._generate import Dataset, generate
from mcp_servers.dataset._write import WRITERS
from shared.database import DatabaseURL, Retry, connection_errors
from shared.errors import ServiceUnavailable
from shared.migrations import Upgrade, migrate

MARKER_DDL = f"""
CREATE TABLE IF NOT EXISTS {SEEDED_MARKER} (
    version INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    reference_date TEXT NOT NULL
);
"""


class _Collect:
    """Stands in for the sqlite3 connection the writers expect: keeps what they insert."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Sequence[Any]]]] = []

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.statements.append((sql, list(rows)))


async def _connect(db: DatabaseURL) -> Any:
    import asyncpg

    assert db.dsn is not None
    return await asyncpg.connect(db.dsn, server_settings=db.server_settings())


class _Generated:
    """The dataset, generated on first need only: schemas already seeded need none."""

    def __init__(self, customers: int, seed: int) -> None:
        self._args = (customers, seed)
        self._dataset: Dataset | None = None

    async def get(self) -> Dataset:
        if self._dataset is None:
            self._dataset = await asyncio.to_thread(generate, *self._args)
        return self._dataset


async def _seed_system(
    target: DatabaseURL, system: str, dataset: _Generated, version: int, upgrades: list[Upgrade]
) -> bool:
    schema = target.schema or ""
    writer = WRITERS[system]
    upgrades.append(await migrate(target, system))
    conn = await _connect(target)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", tables_lock(schema))
            await conn.execute(MARKER_DDL)
            if await conn.fetchval(f"SELECT 1 FROM {SEEDED_MARKER} LIMIT 1"):
                return False
            generated = await dataset.get()
            collected = _Collect()
            writer(cast(Any, collected), generated)
            for sql, rows in collected.statements:
                await conn.executemany(to_postgres(sql), rows)
            customers, seed = len(generated.customers), generated.seed
            await conn.execute(
                f"INSERT INTO {SEEDED_MARKER} VALUES ($1, $2, $3, $4)",
                version,
                seed,
                customers,
                generated.reference_date.isoformat(),
            )
            return True
    finally:
        await conn.close()


async def seed_postgres(
    db: DatabaseURL, *, customers: int, seed: int, version: int, upgrades: list[Upgrade] | None = None
) -> list[str]:
    """Upgrade every system's schema, and load the dataset into those that hold none yet; returns those it seeded.

    A schema that already holds a dataset keeps every row (with whatever was written since):
    PostgreSQL is shared by running replicas, so it is never re-seeded under them. New tables and
    reference rows reach it by the system's revisions. What each upgrade did goes to ``upgrades``.
    """
    upgrades = [] if upgrades is None else upgrades
    dataset = _Generated(customers, seed)
    seeded: list[str] = []
    for system in WRITERS:
        target = system_database(db, system)
        # A dropped connection rolled the system's transaction back: running it again is safe.

        def seed_one(_: object, target: DatabaseURL = target, system: str = system) -> Coroutine[Any, Any, bool]:
            return _seed_system(target, system, dataset, version, upgrades)

        if await Retry(f"seeding {target.schema}").run(seed_one):
            seeded.append(system)
    return seeded


async def fetch_rows(
    db: DatabaseURL, queries: dict[str, tuple[str, str]], optional: frozenset[str] = frozenset()
) -> dict[str, list[dict[str, Any]]]:
    """Run each named (system, SQL) query in that system's schema; an ``optional`` one whose table
    does not exist yet answers no rows."""
    import asyncpg

    found: dict[str, list[dict[str, Any]]] = {}
    by_system: dict[str, list[tuple[str, str]]] = {}
    for name, (system, sql) in queries.items():
        by_system.setdefault(system, []).append((name, sql))
    for system, named in by_system.items():
        try:
            conn = await _connect(system_database(db, system))
        except connection_errors() as exc:
            raise ServiceUnavailable(f"cannot reach PostgreSQL at {db.redacted()}: {exc}") from exc
        try:
            for name, sql in named:
                try:
                    found[name] = [dict(r) for r in await conn.fetch(sql)]
                except asyncpg.UndefinedTableError:
                    if name not in optional:
                        raise
                    found[name] = []
        finally:
            await conn.close()
    return found


async def has_dataset(db: DatabaseURL) -> bool:
    import asyncpg

    conn = await _connect(system_database(db, "identity"))
    try:
        return bool(await conn.fetchval(f"SELECT 1 FROM {SEEDED_MARKER} LIMIT 1"))
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()


def run_sync[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even under a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
