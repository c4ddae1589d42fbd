"""The PostgreSQL audit witness: checkpoint lines in a database the gateway reaches with other credentials.

A witness the gateway can rewrite proves nothing, so this one must not be the gateway's own
database login: ``SWITCHBOARD_AUDIT_WITNESS_DATABASE_URL`` names a database (or a schema) and a
role of its own, and the gateway refuses to start when it is the same login and database as
``SWITCHBOARD_DATABASE_URL``. Give that role INSERT and SELECT on ``audit_witness`` only (see
docs/governance.md); the table's triggers refuse UPDATE, DELETE and TRUNCATE besides.

Lines are inserted in order from a thread of its own (``witness_queue``), so an audit write
never waits for the witness; ``lines`` reads them back for ``audit verify``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.witness_queue import LineQueue
from shared.database import DatabaseURL, connection_errors
from shared.errors import ConfigurationError, ServiceUnavailable

_NO_SQLITE = Path("/nonexistent/witness.db")  # a PostgreSQL URL is required; never used
DDL = """
CREATE TABLE IF NOT EXISTS audit_witness (
    id BIGSERIAL PRIMARY KEY,
    line TEXT NOT NULL,
    kept_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION audit_witness_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit witness is append-only: % is refused', TG_OP; END $$;
CREATE OR REPLACE TRIGGER audit_witness_no_update BEFORE UPDATE OR DELETE ON audit_witness
    FOR EACH ROW EXECUTE FUNCTION audit_witness_refuse();
CREATE OR REPLACE TRIGGER audit_witness_no_truncate BEFORE TRUNCATE ON audit_witness
    EXECUTE FUNCTION audit_witness_refuse();
"""


def _login(db: DatabaseURL) -> tuple[str | None, str | None, int | None, str]:
    parts = urlsplit(db.dsn or "")
    return (parts.username, parts.hostname, parts.port, parts.path)


def check_distinct(witness_url: str, database_url: str | None) -> DatabaseURL:
    """The witness's database URL, refused when it is the gateway's own login on the same database."""
    witness = DatabaseURL.parse(witness_url, default_sqlite=_NO_SQLITE)
    if not witness.is_postgres:
        raise ConfigurationError("the audit witness database must be PostgreSQL", hint="a postgresql:// URL")
    if database_url:
        gateway = DatabaseURL.parse(database_url, default_sqlite=_NO_SQLITE)
        if gateway.is_postgres and _login(gateway) == _login(witness):
            raise ConfigurationError(
                "the audit witness uses the gateway's own database login: whoever can rewrite the log could "
                "rewrite the witness too",
                hint="give the witness its own role (INSERT and SELECT on audit_witness only) and database",
            )
    return witness


class PostgresWitness:
    """Keeps checkpoint lines in the ``audit_witness`` table of its own database."""

    def __init__(self, witness_url: str, *, database_url: str | None = None) -> None:
        self._db = check_distinct(witness_url, database_url)
        self._sender = LineQueue("audit-witness-pg", self._deliver, self._db.redacted())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None

    def send(self, line: bytes) -> None:
        """Queue ``line``; never blocks the caller (the audit store's thread)."""
        self._sender.put(line)

    def lines(self) -> list[str]:
        """Every kept line, oldest first (blocking: a command-line tool, or a worker thread)."""
        import asyncpg

        failures: tuple[type[BaseException], ...] = (*connection_errors(), asyncpg.PostgresError)
        try:
            return asyncio.run(self._read())
        except failures as exc:
            raise ServiceUnavailable(
                f"the audit witness database {self._db.redacted()} could not be read ({type(exc).__name__})",
                hint="check that it runs and that the witness role may SELECT audit_witness",
            ) from exc

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (bounded by ``timeout``), then close the connection."""
        self._sender.close(timeout)
        if self._loop is not None:
            if self._conn is not None:
                self._loop.run_until_complete(self._conn.close(timeout=5))
            self._loop.close()

    async def _connect(self) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self._db.dsn, server_settings=self._db.server_settings(), timeout=10)
        # Created on first use when the role may; a restricted witness role finds it made by its owner.
        if not await conn.fetchval("SELECT to_regclass('audit_witness') IS NOT NULL"):
            if self._db.schema:  # a plain identifier: DatabaseURL checked it
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._db.schema}"')
            await conn.execute(DDL)
        return conn

    async def _read(self) -> list[str]:
        conn = await self._connect()
        try:
            return [str(r[0]) for r in await conn.fetch("SELECT line FROM audit_witness ORDER BY id")]
        finally:
            await conn.close()

    def _deliver(self, line: bytes) -> bool:
        """On the sender's thread, with its own event loop and connection (reopened after a failure)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        try:
            if self._conn is None:
                self._conn = self._loop.run_until_complete(self._connect())
            self._loop.run_until_complete(
                self._conn.execute("INSERT INTO audit_witness (line) VALUES ($1)", line.decode().strip())
            )
        except BaseException:
            self._conn = None
            raise
        return True
