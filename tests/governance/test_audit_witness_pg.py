"""The PostgreSQL witness: its own login (never the gateway's), append-only, and a rolled-back log
is caught against it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from gateway import verify_audit
from gateway.checkpoints import CHECKPOINTS_FILE
from gateway.witness_pg import PostgresWitness, check_distinct
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.errors import ConfigurationError
from tests.governance.conftest import start_env
from tests.governance.test_calls import REFUND
from tests.storage.pg import BASE_URL, private_schema

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()


def test_the_witness_may_not_be_the_gateway_s_own_login() -> None:
    with pytest.raises(ConfigurationError, match="own database login"):
        check_distinct(f"{BASE_URL}?schema=witness", f"{BASE_URL}?schema=gateway")
    other = BASE_URL.replace("//postgres", "//witness", 1)
    assert check_distinct(other, f"{BASE_URL}?schema=gateway").is_postgres


async def test_a_rolled_back_log_is_caught_by_the_postgres_witness(tmp_path: Path, identity_key: bytes) -> None:
    async with private_schema("w") as url:
        options = {"checkpoint_private_pem": PRIVATE, "audit_witness_database_url": url}
        async with (
            start_env(tmp_path, identity_key, checkpoint_every=2, **options) as env,
            env.agent("payment") as agent,
        ):
            for i in range(5):
                meta = {"switchboard/envelope": env.envelope()}
                await agent.call_tool("payments.issue_refund", {**REFUND, "idempotency_key": f"k-{i}"}, meta=meta)
        witness = PostgresWitness(url)
        kept = await asyncio.to_thread(witness.lines)
        assert len(kept) >= 3, kept
        schema = url.rsplit("schema=", 1)[1]
        conn = await asyncpg.connect(BASE_URL)
        try:
            with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only"):
                await conn.execute(f'DELETE FROM "{schema}".audit_witness')
        finally:
            await conn.close()

        db, local = tmp_path / "audit.db", tmp_path / CHECKPOINTS_FILE
        first = local.read_text().splitlines()[0]
        covered = int(json.loads(first)["seq"])
        local.write_text(first + "\n")
        with closing(sqlite3.connect(db, isolation_level=None)) as raw:
            raw.execute("DROP TRIGGER audit_no_delete")
            raw.execute("DELETE FROM audit WHERE seq > ?", (covered,))
        assert (await asyncio.to_thread(verify_audit, db, checkpoints=local, public_pem=PUBLIC)).intact
        caught = await asyncio.to_thread(verify_audit, db, checkpoints=local, public_pem=PUBLIC, remote=witness)
        assert not caught.intact and caught.first_broken_seq == covered + 1 and "the witness knows" in caught.reason
