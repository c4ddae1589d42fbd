"""A dropped connection to a system is reconnected at once; only safe calls are made again.

The proxy in front of the upstream lets each call through and then cuts the connection before
the answer comes back, as a crashed process or a dead network would: the system did the work,
the gateway saw a dead socket.
"""

from __future__ import annotations

from pathlib import Path

from gateway import read_audit, verify_audit
from tests.governance.conftest import ANA, Env, start_env
from tests.governance.test_calls import REFUND, text_of


def _charges(env: Env) -> list[dict]:
    return [c for c in env.upstreams["payments"].calls if c["tool"] == "list_charges"]


async def test_a_read_survives_a_dropped_connection(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, cut=("payments",)) as env, env.agent("payment") as agent:
        args, meta = {"account_number": ANA.account_number}, {"switchboard/envelope": env.envelope()}
        assert not (await agent.call_tool("payments.list_charges", args, meta=meta)).is_error
        env.proxies["payments"].cut_next_response()
        result = await agent.call_tool("payments.list_charges", args, meta=meta)
        assert not result.is_error, text_of(result)
        assert result.structured_content == {"account_number": ANA.account_number, "charges": ["CH-1"]}
        assert env.proxies["payments"].cut == 1 and len(_charges(env)) == 3
        assert read_audit(env.audit_db)[-1].outcome == "ok"
        # Retried once, not forever: two drops in a row reach the caller, who may try again.
        env.proxies["payments"].cut_next_response(2)
        result = await agent.call_tool("payments.list_charges", args, meta=meta)
        assert result.is_error and "not answering" in text_of(result)
        assert not (await agent.call_tool("payments.list_charges", args, meta=meta)).is_error
    assert verify_audit(env.audit_db).intact


async def test_a_write_is_made_again_only_with_its_idempotency_key(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, cut=("payments", "support")) as env:
        async with env.agent("payment") as agent:
            # The refund's own answer is lost, not that of the facts read the gateway makes first.
            env.proxies["payments"].cut_next_response(matching=b"issue_refund")
            result = await agent.call_tool(
                "payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()}
            )
            assert not result.is_error, text_of(result)
            # Sent twice with one key: the system answers the second with the first refund.
            refunds = [c for c in env.upstreams["payments"].calls if c["tool"] == "issue_refund"]
            assert len(refunds) == 2
            assert [c["args"]["key"] for c in refunds] == [REFUND["idempotency_key"]] * 2

        async with env.agent("escalation") as agent:
            env.proxies["support"].cut_next_response()
            result = await agent.call_tool(
                "support.request_human",
                {"conversation_id": "conv-1", "reason": "wants a person", "email": None},
                meta={"switchboard/envelope": env.envelope(None)},
            )
            # No key: the handoff is not made a second time, and the agent is told it may have happened.
            assert result.is_error and "may or may not have been carried out" in text_of(result)
            assert [c["tool"] for c in env.upstreams["support"].calls] == ["request_human"]
