"""Two gateway replicas on one PostgreSQL database: one chain, and switches that bite on both."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

from gateway import read_audit, verify_audit
from shared.database import DatabaseURL
from tests.governance.conftest import ANA, Env, start_env
from tests.governance.test_calls import REFUND, text_of
from tests.storage.pg import private_schema


async def _refund_text(env: Env, key: str) -> str:
    async with env.agent("payment") as agent:
        meta = {"switchboard/envelope": env.envelope()}
        return text_of(await agent.call_tool("payments.issue_refund", {**REFUND, "idempotency_key": key}, meta=meta))


async def test_a_switch_set_on_one_replica_bites_on_the_other(tmp_path: Path, identity_key: bytes) -> None:
    async with private_schema() as url, AsyncExitStack() as stack:
        one = await stack.enter_async_context(start_env(tmp_path / "one", identity_key, database_url=url))
        two = await stack.enter_async_context(start_env(tmp_path / "two", identity_key, database_url=url))
        assert "kill switch" not in await _refund_text(two, "k-0")

        on = await one.staff("root", "POST", "/kill-switch", {"scope": "all", "on": True})
        assert on.status_code == 200, on.text
        started, attempt = time.perf_counter(), 0
        while "kill switch" not in (text := await _refund_text(two, f"k-{attempt + 1}")):
            attempt += 1
            assert time.perf_counter() - started < 1.0, f"replica two still lets calls through: {text}"
        assert time.perf_counter() - started < 1.0
        assert (await two.staff("root", "GET", "/kill-switches")).json()["kill_switches"].keys() == {"all"}

        off = await two.four_eyes("root", "carol", "POST", "/kill-switch", {"scope": "all", "on": False})
        assert off.status_code == 200, off.text
        held = await two.staff("carol", "POST", f"/fraud-holds/{ANA.customer_id}", {"reason": "sim swap"})
        assert held.status_code == 200, held.text
        started, slipped = time.perf_counter(), 0
        while "guard.fraud-hold-pauses-payments" not in await _refund_text(one, f"k-hold-{slipped}"):
            slipped += 1
            assert time.perf_counter() - started < 1.0, "replica one does not see the hold"

        status = (await one.staff("carol", "GET", "/audit/verify")).json()
        db = DatabaseURL.parse(url, default_sqlite=tmp_path / "unused.db")
        report = await asyncio.to_thread(verify_audit, db)
        assert status["intact"] and report.intact and status["count"] == report.count
        # Both replicas' records are in the one chain, in the order they happened. A refund that
        # got through before a switch reached the other replica adds its allow and its outcome.
        records = await asyncio.to_thread(read_audit, db)
        refund = [("payments.issue_refund", "allow")] * 2  # the decision and its outcome
        assert [(r.tool, r.decision) for r in records] == [
            *refund,
            ("governance.kill-switch", "allow"),  # set on one ...
            *refund * attempt,
            ("payments.issue_refund", "deny"),  # ... refused on two
            ("governance.kill-switch-off", "approval-required"),  # turning it off takes two people
            ("governance.kill-switch-off", "approved"),
            ("governance.fraud-hold", "allow"),  # set on two ...
            *refund * slipped,
            ("payments.issue_refund", "deny"),  # ... pauses payments on one
        ]
