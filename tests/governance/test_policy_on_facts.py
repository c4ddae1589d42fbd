"""Rules that protect money are decided on what the systems of record say, never on an agent's word."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from mcp_types import Tool

from gateway import read_audit
from gateway.catalog import Catalog
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from shared.errors import ConfigurationError
from shared.tools import INTERNAL_META_KEY
from tests.governance.conftest import ANA, Env
from tests.governance.test_calls import text_of


def _refund(charge_id: str, amount: float, key: str) -> dict[str, Any]:
    return {
        "account_number": ANA.account_number,
        "charge_id": charge_id,
        "amount": amount,
        "reason": "the agent says it was charged twice",
        "idempotency_key": key,
    }


async def _call(env: Env, agent: str, tool: str, args: dict[str, Any], **envelope: Any) -> Any:
    async with env.agent(agent) as client:
        return await client.call_tool(tool, args, meta={"switchboard/envelope": env.envelope(**envelope)})


async def test_refund_of_a_charge_the_system_does_not_flag_waits_for_a_human(env: Env) -> None:
    # CH-9 is an ordinary payment: the agent's "charged twice" carries no weight.
    result = await _call(env, "payment", "payments.issue_refund", _refund("CH-9", 5.0, "k-1"))
    assert result.is_error and "APPROVAL_REQUIRED" in text_of(result), text_of(result)
    assert env.upstreams["payments"].calls == []
    assert env.upstreams["payments"].fact_reads == ["CH-9"]
    [record] = read_audit(env.audit_db)
    assert record.decision == "approval-required"
    assert "approval.refund-of-unflagged-charge" in record.policy_ids


async def test_split_refunds_past_the_daily_total_wait_for_a_human(env: Env) -> None:
    # Each refund is under the single-refund threshold (40); together they pass the daily total (100).
    decisions = []
    for number, charge in enumerate(("CH-1", "CH-2", "CH-1")):
        result = await _call(env, "payment", "payments.issue_refund", _refund(charge, 35.0, f"split-{number}"))
        decisions.append("held" if "APPROVAL_REQUIRED" in text_of(result) else "paid")
    assert decisions == ["paid", "paid", "held"]
    assert [c["args"]["amount"] for c in env.upstreams["payments"].calls] == [35.0, 35.0]
    held = read_audit(env.audit_db)[-1]
    assert held.decision == "approval-required" and held.policy_ids == ["approval.daily-refund-total"]


async def test_refunds_on_another_channel_count_towards_the_daily_total(env: Env) -> None:
    env.upstreams["payments"].refunded_today[ANA.account_number] = 90.0  # e.g. the voice line, earlier
    result = await _call(env, "payment", "payments.issue_refund", _refund("CH-1", 20.0, "late"))
    assert "APPROVAL_REQUIRED" in text_of(result)
    assert env.upstreams["payments"].calls == []


async def test_an_internal_tool_is_neither_listed_nor_callable(env: Env) -> None:
    args = {"account_number": ANA.account_number, "invoice_id": "INV-NONE", "amount": 40.0}
    async with env.agent("payment") as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("payments.record_payment", args, meta={"switchboard/envelope": env.envelope()})
    assert "payments.record_payment" not in listed
    assert result.is_error and "internal" in text_of(result)
    assert env.upstreams["payments"].calls == []
    assert read_audit(env.audit_db)[-1].decision == "deny"


def test_start_up_lint_fails_when_policy_grants_an_internal_tool(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    guards = (policies / "guards.cedar").read_text()
    cut = guards.index('@id("guard.internal-tools")')
    (policies / "guards.cedar").write_text(guards[:cut])
    catalog = Catalog(["payment", "billing"], CedarPolicyEngine.load(policies))
    tool = Tool(name="record_payment", input_schema={"type": "object"}, _meta={INTERNAL_META_KEY: True})
    catalog.set_system("payments", [tool])
    with pytest.raises(ConfigurationError, match=r"payments.record_payment is marked internal .* grants it to payment"):
        catalog.check_internal_tools()
    # With the shipped policies the same catalog passes the lint.
    shipped = Catalog(["payment", "billing"], CedarPolicyEngine.load(DEFAULT_POLICY_DIR))
    shipped.set_system("payments", [tool])
    shipped.check_internal_tools()


async def test_a_handoff_that_names_no_customer_once_one_is_verified_is_refused(env: Env) -> None:
    args = {"conversation_id": "conv-1", "reason": "wants a person"}
    result = await _call(env, "escalation", "support.request_human", args)
    assert result.is_error and "must name them" in text_of(result), text_of(result)
    assert env.upstreams["support"].calls == []


async def test_a_handoff_without_its_subject_or_for_another_conversation_is_refused(env: Env) -> None:
    missing = await _call(env, "escalation", "support.request_human", {"reason": "x"}, keys=None)
    other = await _call(
        env, "escalation", "support.request_human", {"conversation_id": "conv-2", "reason": "x"}, keys=None
    )
    assert missing.is_error and "'conversation_id' argument is required" in text_of(missing)
    assert other.is_error and "not this conversation" in text_of(other)
    assert env.upstreams["support"].calls == []
