"""Allowed calls reach the upstream with the gateway's call context; denied calls do not."""

from __future__ import annotations

from mcp_types import TextContent

from gateway import read_audit, verify_audit
from shared.envelope import ContextEnvelope
from tests.governance.conftest import ANA, Env


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


REFUND = {
    "account_number": ANA.account_number,
    "charge_id": "CH-1",
    "amount": 12.5,
    "reason": "charged twice, mail ana@example.com or +15550100123",
    "idempotency_key": "k-1",
}


async def test_allowed_call_reaches_upstream_and_is_audited_twice(env: Env) -> None:
    envelope = env.envelope()
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta={"switchboard/envelope": envelope})

    assert not result.is_error, text_of(result)
    assert result.structured_content == {"refund_id": "RF-1", "charge_id": "CH-1", "amount": 12.5}
    decision, outcome = read_audit(env.audit_db)
    audit_id = result.meta["switchboard/audit_id"]

    [call] = env.upstreams["payments"].calls
    assert call["call"]["agent"] == "payment"
    assert call["call"]["audit_id"] == audit_id == decision.id
    assert call["call"]["customer_id"] == ANA.customer_id
    trace_id = ContextEnvelope.model_validate_json(envelope).trace.trace_id
    assert call["call"]["traceparent"].split("-")[1] == trace_id

    assert (decision.kind, decision.decision, decision.agent, decision.tool) == (
        "decision",
        "allow",
        "payment",
        "payments.issue_refund",
    )
    assert decision.policy_ids == ["grant.payment.payments-system"]
    assert decision.conversation_id == "conv-1" and decision.trace_id == trace_id
    assert decision.customer_id == ANA.customer_id
    assert decision.arguments["reason"] == "charged twice, mail a***@example.com or +********123"
    assert decision.arguments_digest == __import__("shared.audit").audit.digest(REFUND)
    assert (outcome.kind, outcome.outcome, outcome.prev_hash) == ("outcome", "ok", decision.hash)
    assert outcome.latency_ms is not None and outcome.latency_ms >= 0
    assert decision.id in outcome.reason
    assert verify_audit(env.audit_db).intact


async def test_tool_outside_the_grant_is_denied_and_never_forwarded(env: Env) -> None:
    async with env.agent("billing") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()})

    assert result.is_error
    assert text_of(result).startswith("DENIED: no policy lets agent 'billing' call payments.issue_refund")
    assert result.structured_content is None
    assert result.meta["switchboard/refusal"]["kind"] == "denied"
    assert result.meta["switchboard/refusal"]["policy_ids"] == []
    assert env.upstreams["payments"].calls == []
    [record] = read_audit(env.audit_db)
    assert (record.decision, record.agent, record.id) == (
        "deny",
        "billing",
        result.meta["switchboard/refusal"]["audit_id"],
    )


async def test_upstream_tool_error_passes_back_and_is_recorded(env: Env) -> None:
    async with env.agent("support") as agent:
        result = await agent.call_tool(
            "support.open_ticket",
            {"email": ANA.email, "summary": "no signal"},
            meta={"switchboard/envelope": env.envelope()},
        )
    assert result.is_error
    assert "Error executing tool open_ticket" in text_of(result)
    decision, outcome = read_audit(env.audit_db)
    assert decision.decision == "allow"
    assert outcome.outcome.startswith("error: Error executing tool open_ticket")


async def test_unknown_tool_is_a_tool_error(env: Env) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.launch_rocket", {}, meta={"switchboard/envelope": env.envelope()})
    assert result.is_error and "unknown tool 'payments.launch_rocket'" in text_of(result)
    assert read_audit(env.audit_db)[0].decision == "deny"
