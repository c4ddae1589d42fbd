"""A SIM changed recently in the network system pauses money-moving writes, signal or no signal.

The gateway asks the network system itself (``network.check_sim_swap``) before each payments
write, so a swap whose signal never arrived still holds the money, whatever the agent says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway import read_audit
from tests.governance.conftest import ANA, Env, start_env
from tests.governance.test_calls import REFUND, text_of

SYSTEMS = ("payments", "support", "billing", "consent", "crm", "network")


@pytest.fixture
async def net(tmp_path: Path, identity_key: bytes) -> AsyncIterator[Env]:
    async with start_env(tmp_path, identity_key, systems=SYSTEMS) as running:
        yield running


def _meta(env: Env) -> dict[str, object]:
    return {"switchboard/envelope": env.envelope()}


async def test_a_recent_sim_change_pauses_a_refund(net: Env) -> None:
    net.upstreams["network"].sim_changed[ANA.msisdn] = "2026-05-01T09:15:00Z"
    async with net.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(net))
    assert text_of(result).startswith("DENIED"), text_of(result)
    last = read_audit(net.audit_db)[-1]
    assert last.decision == "deny" and "guard.fraud-hold-pauses-payments" in last.policy_ids
    assert "SIM change on the line at 2026-05-01T09:15:00Z" in (last.reason or "")
    assert net.upstreams["payments"].calls == []  # nothing moved
    assert net.upstreams["network"].sim_reads == [ANA.msisdn]


async def test_a_steady_line_lets_the_refund_through(net: Env) -> None:
    async with net.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(net))
    assert not result.is_error, text_of(result)
    assert [c["tool"] for c in net.upstreams["payments"].calls] == ["issue_refund"]
    assert net.upstreams["network"].sim_reads == [ANA.msisdn]


async def test_reads_are_not_paused_and_do_not_ask_the_network(net: Env) -> None:
    net.upstreams["network"].sim_changed[ANA.msisdn] = "2026-05-01T09:15:00Z"
    async with net.agent("payment") as agent:
        result = await agent.call_tool("payments.list_charges", {"account_number": ANA.account_number}, meta=_meta(net))
    assert not result.is_error, text_of(result)
    assert net.upstreams["network"].sim_reads == []


async def test_a_failing_network_system_denies_the_refund(net: Env) -> None:
    net.upstreams["network"].down = True
    async with net.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(net))
    assert text_of(result).startswith("DENIED"), text_of(result)
    assert "network system could not answer check_sim_swap" in (read_audit(net.audit_db)[-1].reason or "")
    assert net.upstreams["payments"].calls == []


async def test_a_dead_network_system_denies_the_refund(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, systems=SYSTEMS, down=("network",), timeout=1.0) as env:
        async with env.agent("payment") as agent:
            result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert text_of(result).startswith("DENIED"), text_of(result)
        assert "network system is not answering" in (read_audit(env.audit_db)[-1].reason or "")
        assert env.upstreams["payments"].calls == []
