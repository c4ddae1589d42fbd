"""``gateway.read_batch``: several reads in one round trip, each governed and audited on its own."""

from __future__ import annotations

from mcp_types import CallToolResult, TextContent

from gateway import read_audit
from shared.tools import READ_BATCH_TOOL
from tests.governance.conftest import ANA, Env


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def slots(result: CallToolResult) -> list[CallToolResult]:
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    return [CallToolResult.model_validate(r) for r in result.structured_content["results"]]


async def test_each_read_in_a_batch_is_decided_and_audited_and_answered_in_order(env: Env) -> None:
    calls = [
        {"tool": "billing.list_invoices", "arguments": {"msisdn": ANA.msisdn}},
        {"tool": "billing.list_plans", "arguments": {}},
        {"tool": "payments.list_charges", "arguments": {"account_number": ANA.account_number}},
    ]
    async with env.agent("billing") as agent:
        listed = {t.name for t in (await agent.list_tools()).tools}
        assert READ_BATCH_TOOL in listed
        result = await agent.call_tool(READ_BATCH_TOOL, {"calls": calls}, meta={"switchboard/envelope": env.envelope()})
    invoices, plans, charges = slots(result)
    assert not invoices.is_error and not plans.is_error
    assert plans.structured_content == {"plans": ["basic-10"]}
    # Outside the billing agent's grant: denied in its own slot, and never forwarded.
    assert charges.is_error and text_of(charges).startswith("DENIED")
    assert env.upstreams["payments"].calls == []
    decisions = [r for r in read_audit(env.audit_db) if r.kind == "decision"]
    assert sorted((r.tool, r.decision) for r in decisions) == [
        ("billing.list_invoices", "allow"),
        ("billing.list_plans", "allow"),
        ("payments.list_charges", "deny"),
    ]


async def test_a_write_cannot_ride_in_a_batch(env: Env) -> None:
    refund = {
        "account_number": ANA.account_number,
        "charge_id": "CH-1",
        "amount": 12.5,
        "reason": "charged twice",
        "idempotency_key": "batch-1",
    }
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            READ_BATCH_TOOL,
            {"calls": [{"tool": "payments.issue_refund", "arguments": refund}]},
            meta={"switchboard/envelope": env.envelope()},
        )
    [slot] = slots(result)
    assert slot.is_error and "only reads can be batched" in text_of(slot)
    assert env.upstreams["payments"].calls == []
    [record] = read_audit(env.audit_db)
    assert (record.tool, record.decision) == ("payments.issue_refund", "deny")


async def test_a_malformed_batch_is_refused_with_a_clear_error(env: Env) -> None:
    async with env.agent("billing") as agent:
        empty = await agent.call_tool(READ_BATCH_TOOL, {"calls": []}, meta={"switchboard/envelope": env.envelope()})
        many = [{"tool": "billing.list_plans", "arguments": {}}] * 9
        too_many = await agent.call_tool(
            READ_BATCH_TOOL, {"calls": many}, meta={"switchboard/envelope": env.envelope()}
        )
    for result in (empty, too_many):
        assert result.is_error and "calls" in text_of(result)
    assert env.upstreams["billing"].calls == []
