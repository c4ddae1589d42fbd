"""tools/list follows the grants; custom policies can forbid with the call's context."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway import read_audit
from gateway.policy import DEFAULT_POLICY_DIR
from shared.tools import READ_BATCH_TOOL
from tests.governance.conftest import ANA, Env, start_env
from tests.governance.test_calls import REFUND, text_of


async def _names(env: Env, agent: str) -> set[str]:
    async with env.agent(agent) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_tools_list_is_filtered_per_agent(env: Env) -> None:
    assert await _names(env, "payment") == {
        "payments.issue_refund",
        "payments.list_charges",
        "payments.refund_facts",
        "payments.slow_refund",
        "billing.list_invoices",
        READ_BATCH_TOOL,
    }
    assert await _names(env, "billing") == {
        "billing.list_plans",
        "billing.list_invoices",
        "crm.send_offer",
        READ_BATCH_TOOL,
    }
    # No read among its tools: nothing to batch.
    assert await _names(env, "escalation") == {"support.request_human"}
    assert await _names(env, "identity") == {"consent.get_purposes", READ_BATCH_TOOL}


async def test_listed_tools_keep_upstream_schemas_and_meta(env: Env) -> None:
    async with env.agent("payment") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    refund = tools["payments.issue_refund"]
    assert refund.input_schema["required"] == ["account_number", "charge_id", "amount", "reason", "idempotency_key"]
    assert refund.output_schema is not None
    assert refund.meta["switchboard/subject"] == {"arg": "account_number", "kind": "account_number"}
    assert tools["payments.list_charges"].annotations.read_only_hint is True


async def test_forbid_on_amount_wins_over_the_grant(tmp_path: Path, identity_key: bytes) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "limits.cedar").write_text(
        '@id("limit.refund-over-100")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"payments.issue_refund")\n'
        'when { context has amount && context.amount.greaterThan(decimal("100.0")) };\n'
    )
    async with start_env(tmp_path, identity_key, policy_dir=policies) as env, env.agent("payment") as agent:
        small = await agent.call_tool("payments.issue_refund", REFUND, meta={"switchboard/envelope": env.envelope()})
        big = await agent.call_tool(
            "payments.issue_refund", {**REFUND, "amount": "250.00"}, meta={"switchboard/envelope": env.envelope()}
        )
        bad = await agent.call_tool(
            "payments.issue_refund", {**REFUND, "amount": "lots"}, meta={"switchboard/envelope": env.envelope()}
        )
        assert not small.is_error
        # A plain forbid wins over the approval policy that also matches: denied, not held.
        assert text_of(big).startswith("DENIED: forbidden by ")
        assert "limit.refund-over-100" in big.meta["switchboard/refusal"]["policy_ids"]
        assert text_of(bad).startswith("DENIED: amount must be a number")
        assert len(env.upstreams["payments"].calls) == 1
        assert [r.decision for r in read_audit(env.audit_db)] == ["allow", "allow", "deny", "deny"]
        assert [c["args"]["account_number"] for c in env.upstreams["payments"].calls] == [ANA.account_number]
