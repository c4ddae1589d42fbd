"""A private PostgreSQL schema per test, on the server this machine runs.

``SWITCHBOARD_TEST_POSTGRES_URL`` names the server (default: the local one, database ``test``).
Without a reachable server the PostgreSQL cases skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.services import service_missing

BASE_URL = os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _reachable() -> str | None:
    try:
        conn = await asyncpg.connect(BASE_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {BASE_URL} is not reachable: {exc}"
    await conn.close()
    return None


async def require_postgres() -> None:
    problem = await _reachable()
    if problem is None:
        return
    service_missing(problem)


@asynccontextmanager
async def private_schema(prefix: str = "t") -> AsyncIterator[str]:
    """Yields a database URL whose tables live in a fresh schema, dropped afterwards."""
    await require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{BASE_URL}?schema={schema}"
    finally:
        conn = await asyncpg.connect(BASE_URL)
        try:
            # The reference systems keep their tables in ``<schema>_<system>``: those go too.
            names = await conn.fetch(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1 OR schema_name LIKE $2",
                schema,
                f"{schema}\\_%",
            )
            for (name,) in names:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()


async def terminate_backends(schema_url: str) -> int:
    """Drop every server connection that uses this schema: a server restart as its clients see it."""
    conn = await asyncpg.connect(BASE_URL)
    try:
        schema = schema_url.rsplit("schema=", 1)[1]
        # Only this schema's connections (named by application_name), so other runs are not disturbed.
        return await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND application_name = $1",
            f"switchboard/{schema}",
        )
    finally:
        await conn.close()
