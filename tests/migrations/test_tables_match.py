"""Each store's revisions build exactly the tables its ``tables.py`` defines, on SQLite and PostgreSQL.

A table added to ``tables.py`` without a revision (or a revision that drifts from the
definition) fails here, naming the difference; docs/migrations.md says how to add one.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.database import DatabaseURL
from shared.migrations import STORES, sync_engine, upgrade
from tests.storage.pg import BASE_URL, require_postgres

# Search indexes each dialect spells its own way; the revisions create them per dialect.
_PER_DIALECT = {"articles_fts"}


def _metadata(store: str, dialect: str) -> sa.MetaData:
    tables = importlib.import_module(STORES[store].rsplit(".", 1)[0] + ".tables")
    if dialect == "postgresql" and hasattr(tables, "postgres_metadata"):
        return tables.postgres_metadata
    metadata: sa.MetaData = tables.metadata
    return metadata


def _differences(db: DatabaseURL, store: str) -> list[Any]:
    upgrade(db, store)
    metadata = _metadata(store, db.kind)
    own = set(metadata.tables)

    def include(name: str | None, type_: str, parent: Any) -> bool:
        return type_ != "table" or (name in own and name not in _PER_DIALECT)

    engine = sync_engine(db)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include})
            found = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    # SQLite reports an INTEGER PRIMARY KEY (the rowid) as nullable although it never is.
    return [d for d in found if not (db.kind == "sqlite" and isinstance(d, list) and d[0][0] == "modify_nullable")]


@pytest.mark.parametrize("store", sorted(STORES))
def test_sqlite_revisions_build_the_defined_tables(store: str, tmp_path: Path) -> None:
    assert _differences(DatabaseURL("sqlite", path=tmp_path / f"{store}.db"), store) == []


@pytest.mark.parametrize("store", sorted(STORES))
async def test_postgresql_revisions_build_the_defined_tables(store: str) -> None:
    await require_postgres()
    schema = f"tm_{uuid.uuid4().hex[:12]}"
    try:
        db = DatabaseURL.parse(f"{BASE_URL}?schema={schema}", default_sqlite=Path("unused.db"))
        assert await asyncio.to_thread(_differences, db, store) == []
    finally:
        conn = await asyncpg.connect(BASE_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
