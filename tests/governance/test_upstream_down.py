"""A dead or slow enterprise system fails one call clearly; the gateway keeps running."""

from __future__ import annotations

from pathlib import Path

import httpx2

from gateway import read_audit, verify_audit
from tests.governance.conftest import ANA, Env, start_env, upstream_app
from tests.governance.test_calls import REFUND, text_of

NOT_ANSWERING = "the payments system is not answering right now; nothing was changed — try again or ask for a human"


async def _health(env: Env) -> dict:
    async with httpx2.AsyncClient() as http:
        return (await http.get(env.url + "/healthz")).json()


async def test_upstream_down_at_start_then_connected_on_first_use(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, down=("payments",)) as env:
        health = await _health(env)
        assert health["status"] == "degraded"
        assert health["upstreams"]["payments"]["status"] == "down"
        assert health["upstreams"]["support"]["status"] == "up"

        async with env.agent("payment") as agent:
            result = await agent.call_tool(
                "payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()}
            )
            assert result.is_error and text_of(result) == NOT_ANSWERING
            assert result.meta["switchboard/refusal"]["kind"] == "unavailable"
            [record] = read_audit(env.audit_db)
            assert record.decision == "deny" and record.reason.startswith("upstream unavailable")
            assert record.id == result.meta["switchboard/audit_id"]

            # The system comes up on the socket the gateway was told about: the next call connects.
            await env.servers.start(upstream_app(env.upstreams["payments"]), env.sockets["payments"])
            result = await agent.call_tool(
                "payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()}
            )
            assert not result.is_error, text_of(result)
        assert (await _health(env))["status"] == "ok"
        assert verify_audit(env.audit_db).intact


async def test_upstream_dies_after_start(env: Env) -> None:
    await env.servers.stop(env.upstream_servers["payments"])
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.list_charges",
            {"account_number": ANA.account_number},
            meta={"switchboard/envelope": env.envelope()},
        )
        assert result.is_error and text_of(result) == NOT_ANSWERING
        decision, outcome = read_audit(env.audit_db)
        assert decision.decision == "allow"
        assert outcome.outcome.startswith("error: payments unavailable")
        # Still down: the retry fails the same way and the other systems keep working.
        again = await agent.call_tool(
            "payments.list_charges",
            {"account_number": ANA.account_number},
            meta={"switchboard/envelope": env.envelope()},
        )
        assert again.is_error and text_of(again) == NOT_ANSWERING
    async with env.agent("billing") as agent:
        plans = await agent.call_tool("billing.list_plans", {}, meta={"switchboard/envelope": env.envelope()})
    assert not plans.is_error
    assert (await _health(env))["upstreams"]["payments"]["status"] == "down"


async def test_slow_write_times_out_without_claiming_nothing_changed(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, timeout=0.5) as env, env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.slow_refund",
            {"account_number": ANA.account_number},
            meta={"switchboard/envelope": env.envelope()},
        )
        env.upstreams["payments"].release_slow.set()
        assert result.is_error
        assert text_of(result).startswith("the payments system did not answer in time; the action may or may not")
        outcome = read_audit(env.audit_db)[-1]
        assert outcome.outcome == "error: payments unavailable (timed out)"
