"""Policy files reload in a running gateway; files that fail validation leave the old set in force."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway import read_audit
from gateway.policy import DEFAULT_POLICY_DIR
from tests.governance.conftest import Env, start_env
from tests.governance.test_calls import REFUND, text_of

NO_BIG_REFUNDS = (
    '@id("limit.refund-over-100")\n'
    'forbid (principal, action == Action::"call", resource == Tool::"payments.issue_refund")\n'
    'when { context.args has amount && context.args.amount.greaterThan(decimal("100.0")) };\n'
)


async def _refund(env: Env, amount: str) -> str:
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", {**REFUND, "amount": amount}, meta={"switchboard/envelope": env.envelope()}
        )
    return text_of(result) if result.is_error else "ok"


async def _tools(env: Env, agent: str) -> set[str]:
    async with env.agent(agent) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_a_reload_applies_new_policies_and_a_bad_file_keeps_the_old_set(
    tmp_path: Path, identity_key: bytes
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    async with start_env(tmp_path, identity_key, policy_dir=policies) as env:
        assert (await _refund(env, "150.00")).startswith("APPROVAL_REQUIRED")
        before = (await env.staff("carol", "GET", "/policies")).json()["policies"]

        (policies / "limits.cedar").write_text(NO_BIG_REFUNDS, encoding="utf-8")
        reloaded = await env.staff("carol", "POST", "/policies/reload")
        assert reloaded.status_code == 200, reloaded.text
        assert set(reloaded.json()["policies"]) == {*before, "limit.refund-over-100"}
        denied = await _refund(env, "150.00")
        assert denied.startswith("DENIED: forbidden by ") and "limit.refund-over-100" in denied

        # A typo in an argument name: refused with the file and line, and the set in force stays.
        (policies / "limits.cedar").write_text(NO_BIG_REFUNDS.replace("args.amount", "args.amout"), encoding="utf-8")
        refused = await env.staff("carol", "POST", "/policies/reload")
        assert refused.status_code == 400
        message = refused.json()["error"]["message"]
        assert f"the {len(before) + 1} policies in force stay" in message
        assert "limits.cedar:1: policy 'limit.refund-over-100' reads context.args.amout" in message
        assert "limit.refund-over-100" in await _refund(env, "150.00")

        # A grant that would open an internal tool is refused too; the listing does not change.
        payment_tools = await _tools(env, "payment")
        (policies / "limits.cedar").write_text(NO_BIG_REFUNDS, encoding="utf-8")
        (policies / "foundation.cedar").write_text(
            (policies / "foundation.cedar").read_text(encoding="utf-8")
            + '\n@id("grant.billing.everything")\npermit (principal == Agent::"billing", action in Action::"use", '
            "resource);\n",
            encoding="utf-8",
        )
        (policies / "guards.cedar").write_text(
            (policies / "guards.cedar").read_text(encoding="utf-8").split('@id("guard.internal-tools")')[0],
            encoding="utf-8",
        )
        opened = await env.staff("carol", "POST", "/policies/reload")
        assert opened.status_code == 400
        assert "payments.record_payment is marked internal" in opened.json()["error"]["message"]
        assert await _tools(env, "payment") == payment_tools
        assert "payments.record_payment" not in await _tools(env, "billing")

        assert (await env.staff("alice", "POST", "/policies/reload")).status_code == 403
        records = [r for r in read_audit(env.audit_db) if r.tool == "governance.policy-reload"]
        assert [r.decision for r in records] == ["allow", "deny", "deny"]
        assert all(r.agent == "staff:carol" for r in records)
