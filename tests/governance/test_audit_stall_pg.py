"""A locked PostgreSQL audit store makes the gateway deny within its budget, without freezing anything else."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx2
import pytest

from tests.governance.conftest import Env, start_env
from tests.governance.test_calls import REFUND, text_of
from tests.storage.pg import BASE_URL, private_schema

BUDGET = "0.2"  # SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS for this test: a short one, so the bound is tight
BOUND = 2.0  # generous against a loaded machine


async def _call(env: Env, key: str):
    async with env.agent("payment") as agent:
        return await agent.call_tool(
            "payments.issue_refund", {**REFUND, "idempotency_key": key}, meta={"switchboard/envelope": env.envelope()}
        )


async def test_a_locked_pg_audit_table_denies_with_503_while_health_checks_answer(
    tmp_path: Path, identity_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS", BUDGET)
    async with private_schema() as url, start_env(tmp_path, identity_key, database_url=url) as env:
        assert not (await _call(env, "before")).is_error  # the tables exist and calls pass
        schema = url.rsplit("schema=", 1)[1]
        locker = await asyncpg.connect(BASE_URL)
        answered: list[int] = []
        try:
            tx = locker.transaction()
            await tx.start()
            await locker.execute(f'LOCK TABLE "{schema}".audit IN ACCESS EXCLUSIVE MODE')
            async with env.agent("payment") as agent, httpx2.AsyncClient(base_url=env.url) as http:
                async with asyncio.timeout(BOUND):
                    started = time.perf_counter()
                    call = asyncio.create_task(
                        agent.call_tool(
                            "payments.issue_refund",
                            {**REFUND, "idempotency_key": "locked"},
                            meta={"switchboard/envelope": env.envelope()},
                        )
                    )
                    while not call.done():
                        answered.append((await http.get("/healthz")).status_code)
                    result = await call
                    took = time.perf_counter() - started
            await tx.rollback()
        finally:
            await locker.close()
        assert result.is_error and text_of(result).startswith("unavailable:"), text_of(result)
        assert result.meta["switchboard/refusal"]["status"] == 503
        assert answered and set(answered) == {200}, answered
        assert took < BOUND
        assert [c for c in env.upstreams["payments"].calls if c["args"].get("idempotency_key") == "locked"] == []
        assert not (await _call(env, "after")).is_error  # once the lock is gone, calls pass again
