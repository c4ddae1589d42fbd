"""Retention of a PostgreSQL audit log: raw values and records 1..N go under a signed segment, and
the kept chain still verifies (as on SQLite, ``test_retention``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from gateway import verify_audit
from gateway.audit_store_pg import PostgresAuditStore
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.retention import AuditRetention, apply
from shared.database import DatabaseURL
from tests.governance.test_retention import PRIVATE, PUBLIC, _append
from tests.storage.pg import private_schema


async def test_a_pruned_postgres_audit_log_still_verifies_and_refuses_unsigned_deletes(tmp_path: Path) -> None:
    async with private_schema("ret") as url:
        db = DatabaseURL.parse(url, default_sqlite=tmp_path / "unused.db")
        writer = CheckpointWriter(tmp_path / CHECKPOINTS_FILE, PRIVATE)
        store = await PostgresAuditStore.open(db, checkpoints=writer, checkpoint_every=3)
        try:
            for i in range(10):
                await _append(store, i)  # type: ignore[arg-type]  # the same interface on both backends
            later = datetime.now(UTC) + timedelta(days=1)
            pruned = await apply(store, AuditRetention(raw_arguments_days=0.5, audit_days=0.5), now=later)
            assert pruned.records == 9 and pruned.first_kept == 10 and pruned.raw_arguments >= 9
            for i in range(10, 14):
                await _append(store, i)  # type: ignore[arg-type]
        finally:
            await store.close()
        report = await asyncio.to_thread(verify_audit, db, checkpoints=tmp_path / CHECKPOINTS_FILE, public_pem=PUBLIC)
        assert report.intact and report.count == 6, report
        assert db.dsn is not None
        conn = await asyncpg.connect(db.dsn, server_settings=db.server_settings())
        try:
            assert await conn.fetchval("SELECT min(seq) FROM audit") == 10
            assert await conn.fetchval("SELECT count(*) FROM audit_raw") == 4
            # The delete guard is back on once the pruning committed.
            try:
                await conn.execute("DELETE FROM audit WHERE seq = 10")
            except asyncpg.PostgresError as exc:
                assert "append-only" in str(exc) or "refuse" in str(exc).lower(), exc
            else:
                raise AssertionError("a plain DELETE on the audit log was allowed")
        finally:
            await conn.close()
