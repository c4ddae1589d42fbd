"""Policies read any declared tool argument as ``context.args``, typed from the tool's input schema."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from mcp_types import Tool

from gateway.approval_flow import ApprovalDesk
from gateway.approvals import ApprovalStore
from gateway.audit_store import AuditStore
from gateway.catalog import Catalog
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine, PolicyRequest, ToolFacts
from gateway.ratelimit import RateLimiter
from gateway.tool_args import argument_types, merge
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope
from shared.errors import ConfigurationError
from shared.tools import PURPOSES, SUBJECT_META_KEY
from tests.governance.conftest import ANA

DISCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "msisdn": {"type": "string"},
        "percent": {"type": "integer", "minimum": 1, "maximum": 50},
        "months": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "reason": {"type": "string"},
    },
    "required": ["msisdn", "percent"],
}

DISCOUNT_POLICIES = """
@id("grant.retention.discount")
permit (principal == Agent::"retention", action in Action::"use", resource == Tool::"billing.apply_discount");

@id("approval.discount-above-20-percent")
@approval("required")
forbid (principal, action == Action::"call", resource == Tool::"billing.apply_discount")
when { context.args has percent && context.args.percent > 20 }
unless { context.approved };
"""


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    (target / "retention.cedar").write_text(DISCOUNT_POLICIES, encoding="utf-8")
    return target


def _discount_tool() -> ToolFacts:
    return ToolFacts.of("billing.apply_discount", "billing", DISCOUNT_SCHEMA, read_only=False, customer_scoped=True)


def _call(percent: object, **extra: Any) -> PolicyRequest:
    return PolicyRequest(
        agent="retention",
        tool="billing.apply_discount",
        customer_scoped=True,
        customer_verified=True,
        assurance="AAL2",
        customer_id="C",
        consent_purposes=("account-servicing",),
        arguments={"msisdn": "+447700900123", "percent": percent},
        **extra,
    )


def test_argument_types_follow_the_input_schema() -> None:
    assert argument_types(DISCOUNT_SCHEMA) == {
        "msisdn": "String",
        "percent": "Long",
        "months": "Long",
        "reason": "String",
    }
    merged = merge(
        [
            ("a.x", {"limit": "Long", "code": "String", "lines": None}),
            ("b.y", {"limit": "decimal", "code": "Long"}),
        ]
    )
    assert merged.types == {"limit": "decimal"}
    assert "different types" in merged.why_not("code") and "b.y (Long)" in merged.why_not("code")
    assert "cannot read" in merged.why_not("lines")
    assert merged.why_not("nothing") == "no tool declares an argument 'nothing'"


def test_a_policy_on_a_non_amount_argument_holds_the_call_for_approval(policies: Path) -> None:
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([_discount_tool()])
    engine.check_arguments()
    engine.check_context_shape()

    assert engine.decide(_call(20)).allowed
    held = engine.decide(_call(30))
    assert not held.allowed and held.approval_required
    assert held.policy_ids == ["approval.discount-above-20-percent"]
    approved = engine.decide(_call(30, approved=True))
    assert approved.allowed and approved.policy_ids == ["grant.retention.discount"]
    # An argument the tool's schema says is a whole number never reaches Cedar as anything else.
    wrong = engine.decide(_call("thirty"))
    assert not wrong.allowed and not wrong.approval_required and "'percent' must be a number" in wrong.reason
    assert not engine.decide(_call(20.5)).allowed


def test_a_policy_reading_an_undeclared_argument_fails_validation(policies: Path) -> None:
    (policies / "typo.cedar").write_text(
        '@id("approval.discount-typo")\n@approval("required")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"billing.apply_discount")\n'
        "when { context.args has percentage && context.args.percentage > 20 };\n",
        encoding="utf-8",
    )
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([_discount_tool()])
    with pytest.raises(
        ConfigurationError,
        match=r"typo\.cedar:1: policy 'approval.discount-typo' reads "
        r"context\.args\.percentage, but no tool declares an argument 'percentage'",
    ):
        engine.check_arguments()


def test_an_argument_read_with_the_wrong_type_fails_validation(policies: Path) -> None:
    (policies / "typed.cedar").write_text(
        '@id("guard.discount-reason")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"billing.apply_discount")\n'
        "when { context.args has reason && context.args.reason > 3 };\n",
        encoding="utf-8",
    )
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([_discount_tool()])
    with pytest.raises(ConfigurationError, match=r"typed\.cedar:1: policy 'guard.discount-reason' does not match"):
        engine.check_arguments()


class _Facts:
    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        return frozenset(PURPOSES)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return 0


async def test_the_gateway_holds_a_discount_above_twenty_percent(policies: Path, tmp_path: Path) -> None:
    """Through the gateway's own pipeline and approval desk: the catalog tool's schema types the argument."""
    private = generate_private_key_pem()
    token = AuthContextSigner(private).issue(ANA, method="otp-sms", assurance="AAL2", conversation_id="conv-d")
    meta = {"switchboard/envelope": ContextEnvelope(conversation_id="conv-d", auth_context=token).model_dump_json()}
    engine = CedarPolicyEngine.load(policies)
    catalog = Catalog(["retention"], engine)
    catalog.set_system(
        "billing",
        [
            Tool(
                name="apply_discount",
                input_schema=DISCOUNT_SCHEMA,
                _meta={SUBJECT_META_KEY: {"arg": "msisdn", "kind": "msisdn"}},
            )
        ],
    )
    engine.check_arguments()
    store = await AuditStore.open(tmp_path / "audit.db")
    try:
        gateway = Gateway(
            catalog=catalog,
            policy=engine,
            verifier=AuthContextVerifier(public_pem_from_private(private)),
            store=store,
            links={},
            facts=_Facts(),  # type: ignore[arg-type]
            limiter=RateLimiter(limit=100, window_seconds=60),
        )
        gateway.desk = ApprovalDesk(gateway, await ApprovalStore.open(store))
        args = {"msisdn": ANA.msisdn, "percent": 30}
        held = await gateway.authorize("retention", "billing.apply_discount", args, meta)
        assert not held.allowed and held.record.decision == "approval-required"
        assert held.record.policy_ids == ["approval.discount-above-20-percent"]
        small = await gateway.authorize("retention", "billing.apply_discount", {**args, "percent": 15}, meta)
        assert small.allowed and small.record.decision == "allow"
    finally:
        await store.close()


async def test_a_policy_on_an_undeclared_argument_stops_gateway_start_up(tmp_path: Path) -> None:
    from gateway import build_gateway_app
    from tests.governance.conftest import AUTHORITY

    policies = tmp_path / "shipped"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "typo.cedar").write_text(
        '@id("guard.typo")\nforbid (principal, action == Action::"call", resource)\n'
        "when { context.args has percentage && context.args.percentage > 20 };\n",
        encoding="utf-8",
    )
    app = build_gateway_app(
        upstreams={},
        auth=AUTHORITY.auth("gateway"),
        agents=["retention"],
        identity_public_pem=public_pem_from_private(generate_private_key_pem()).decode(),
        audit_db=tmp_path / "audit.db",
        policy_dir=policies,
    )
    with pytest.raises(ConfigurationError, match=r"typo\.cedar:1: policy 'guard.typo' reads context\.args\.percentage"):
        async with app.router.lifespan_context(app):
            pass


def test_a_tool_that_drops_an_argument_policies_read_is_denied_until_it_is_back(policies: Path) -> None:
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([_discount_tool()])
    engine.check_arguments()
    assert engine.decide(_call(20)).allowed
    renamed = {**DISCOUNT_SCHEMA, "properties": {"msisdn": {"type": "string"}, "percentage": {"type": "integer"}}}
    engine.set_tools(
        [ToolFacts.of("billing.apply_discount", "billing", renamed, read_only=False, customer_scoped=True)]
    )
    # The approval policy reads percent; without it "percentage=30" would go through unheld.
    refused = engine.decide(_call(20))
    assert not refused.allowed and not refused.approval_required
    assert refused.reason.startswith("billing.apply_discount no longer declares percent, which policies read")
    engine.set_tools([_discount_tool()])
    assert engine.decide(_call(20)).allowed


def test_dropping_an_argument_only_policies_of_other_tools_read_changes_nothing(policies: Path) -> None:
    engine = CedarPolicyEngine.load(policies)
    invoices = {"type": "object", "properties": {"msisdn": {"type": "string"}, "percent": {"type": "integer"}}}
    other = ToolFacts.of("billing.list_invoices", "billing", invoices, read_only=True, customer_scoped=True)
    engine.set_tools([_discount_tool(), other])
    engine.set_tools(
        [_discount_tool(), ToolFacts.of("billing.list_invoices", "billing", {}, read_only=True, customer_scoped=True)]
    )
    # The percent policy is scoped to billing.apply_discount: list_invoices losing percent is harmless.
    listed = engine.decide(
        PolicyRequest(
            agent="billing",
            tool="billing.list_invoices",
            customer_scoped=True,
            customer_verified=True,
            consent_purposes=("account-servicing",),
        )
    )
    assert listed.allowed, listed.reason


def test_arguments_named_like_cedar_keywords_are_readable(policies: Path) -> None:
    schema = {"type": "object", "properties": {**DISCOUNT_SCHEMA["properties"], "in": {"type": "integer"}}}
    schema["properties"]['odd "name"'] = {"type": "string"}
    (policies / "keywords.cedar").write_text(
        '@id("guard.in-limit")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"billing.apply_discount")\n'
        'when { context.args has "in" && context.args["in"] > 3 };\n',
        encoding="utf-8",
    )
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([ToolFacts.of("billing.apply_discount", "billing", schema, read_only=False, customer_scoped=True)])
    engine.check_arguments()
    call = {"agent": "retention", "tool": "billing.apply_discount"}
    assert engine.decide(PolicyRequest(**call, arguments={"in": 2, 'odd "name"': "x"})).allowed
    assert engine.decide(PolicyRequest(**call, arguments={"in": 4})).policy_ids == ["guard.in-limit"]
