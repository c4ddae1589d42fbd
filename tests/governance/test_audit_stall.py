"""A write-locked audit store makes the gateway deny at once, without freezing anything else."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import httpx2
import pytest

from gateway import read_audit
from tests.governance.conftest import Env
from tests.governance.test_calls import REFUND, text_of

BOUND = 2.0  # generous: the point is "not stuck for 5-10 s", the figure is in benchmarks


@pytest.fixture(autouse=True)
def short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget well inside the bound (the default leaves a saturated machine more)."""
    monkeypatch.setenv("SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS", "0.2")


async def test_a_locked_audit_store_denies_while_health_checks_keep_answering(env: Env) -> None:
    answered: list[int] = []
    with closing(sqlite3.connect(env.audit_db, isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            async with env.agent("payment") as agent, httpx2.AsyncClient(base_url=env.url) as http:
                async with asyncio.timeout(BOUND):
                    call = asyncio.create_task(
                        agent.call_tool("payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()})
                    )
                    # While the call waits on the locked store, the same process keeps answering.
                    while not call.done():
                        answered.append((await http.get("/healthz")).status_code)
                    result = await call
        finally:
            locker.execute("ROLLBACK")
    # A gateway that waited on the event loop could answer none (or one sent before the call arrived).
    assert len(answered) >= 3 and set(answered) == {200}, answered
    assert result.is_error and text_of(result).startswith("unavailable:"), text_of(result)
    assert result.meta["switchboard/refusal"]["status"] == 503
    assert env.upstreams["payments"].calls == []  # nothing unrecorded went upstream

    # Once the lock is gone the gateway records and decides as before.
    async with env.agent("payment") as agent:
        again = await agent.call_tool(
            "payments.issue_refund",
            {**REFUND, "idempotency_key": "after"},
            meta={"switchboard/envelope": env.envelope()},
        )
    assert not again.is_error, text_of(again)
    assert read_audit(env.audit_db)[-1].kind == "outcome"
