"""Policy files are checked at start-up; a mistake stops the gateway and names the file."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from gateway import build_gateway_app
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine, PolicyRequest
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.errors import ConfigurationError
from tests.governance.conftest import AUTHORITY


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def test_shipped_policies_load_and_implement_the_grants_table() -> None:
    engine = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    engine.check_context_shape()
    from gateway.policy import ToolFacts

    engine.set_tools(
        [
            ToolFacts("payments.issue_refund", "payments", False, True, "payments"),
            ToolFacts("crm.get_profile", "crm", True, True),
        ]
    )
    verified = {
        "customer_scoped": True,
        "customer_verified": True,
        "assurance": "AAL2",
        "customer_id": "C",
        "consent_purposes": ("payments", "account-servicing"),
        "amount": Decimal("12.5"),
        "charge_refundable": True,
        "refunds_today": Decimal("12.5"),
        "daily_refund_limit": Decimal("100"),
    }
    allowed = engine.decide(PolicyRequest(agent="payment", tool="payments.issue_refund", **verified))
    assert allowed.allowed and allowed.policy_ids == ["grant.payment.payments-system"]
    assert not engine.decide(PolicyRequest(agent="billing", tool="payments.issue_refund", **verified)).allowed
    unverified = engine.decide(PolicyRequest(agent="payment", tool="payments.issue_refund", amount=Decimal("1")))
    assert not unverified.allowed
    # Without the payments system's facts the refund would also wait for a human (fails closed).
    assert set(unverified.policy_ids) == {
        "guard.refund-needs-verified-customer",
        "guard.refund-needs-aal2",
        "approval.refund-of-unflagged-charge",
        "approval.daily-refund-total",
    }
    assert engine.decide(PolicyRequest(agent="escalation", tool="crm.get_profile", action="list")).allowed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '@id("ok")\npermit (principal, action, resource);\n\n@id("bad")\npermit (principal, action, resource)\n'
            "  when { nonsense };\n",
            r"bad\.cedar:4: Cedar syntax error",
        ),
        ("permit (principal, action, resource);\n", r"bad\.cedar: a policy has no @id"),
        (
            '@id("typo")\npermit (principal, action == Action::"call", resource)\nwhen { context.amout == 1 };\n',
            r"bad\.cedar:1: policy 'typo' does not match the schema",
        ),
        (
            '@id("grant.payment.payments-system")\nforbid (principal, action, resource);\n',
            r"foundation\.cedar:\d+: policy id 'grant.payment.payments-system' is also used in .*bad\.cedar",
        ),
    ],
)
def test_bad_policy_file_is_a_configuration_error(policies: Path, text: str, expected: str) -> None:
    (policies / "bad.cedar").write_text(text)
    with pytest.raises(ConfigurationError, match=expected):
        CedarPolicyEngine.load(policies)


def test_missing_schema_is_a_configuration_error(policies: Path) -> None:
    (policies / "schema.cedarschema").unlink()
    with pytest.raises(ConfigurationError, match=r"schema\.cedarschema: the Cedar schema is missing"):
        CedarPolicyEngine.load(policies)


async def test_bad_policy_file_stops_gateway_start_up(policies: Path, tmp_path: Path) -> None:
    (policies / "bad.cedar").write_text("permit (principal, action, resource")
    app = build_gateway_app(
        upstreams={},
        auth=AUTHORITY.auth("gateway"),
        agents=["payment"],
        identity_public_pem=public_pem_from_private(generate_private_key_pem()).decode(),
        audit_db=tmp_path / "audit.db",
        policy_dir=policies,
    )
    with pytest.raises(ConfigurationError, match=r"bad\.cedar"):
        async with app.router.lifespan_context(app):
            pass


def test_a_call_sends_only_the_context_policies_read_and_a_new_policy_widens_it(policies: Path) -> None:
    """Pruning the context is invisible to policy authors: a policy on ``channel`` just works."""
    from gateway.policy import ToolFacts

    shipped = CedarPolicyEngine.load(policies)
    assert shipped._context_keys is not None and "channel" not in shipped._context_keys
    assert {"amount", "consent_purposes", "fraud_hold"} <= shipped._context_keys

    (policies / "channels.cedar").write_text(
        '@id("guard.no-refunds-by-voice")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"payments.issue_refund")\n'
        '  when { context.channel == "voice" };\n',
        encoding="utf-8",
    )
    engine = CedarPolicyEngine.load(policies)
    engine.set_tools([ToolFacts("payments.issue_refund", "payments", False, True, "payments")])
    call = {
        "agent": "payment",
        "tool": "payments.issue_refund",
        "customer_scoped": True,
        "customer_verified": True,
        "assurance": "AAL2",
        "customer_id": "C",
        "consent_purposes": ("payments",),
        "amount": Decimal("5"),
        "charge_refundable": True,
        "refunds_today": Decimal("5"),
        "daily_refund_limit": Decimal("100"),
    }
    assert engine.decide(PolicyRequest(channel="chat", **call)).allowed
    voice = engine.decide(PolicyRequest(channel="voice", **call))
    assert not voice.allowed and voice.policy_ids == ["guard.no-refunds-by-voice"]


def test_a_policy_reading_the_context_whole_keeps_every_attribute() -> None:
    import json

    import cedarpy

    from gateway.policy_files import context_attributes

    def parsed(text: str) -> list[dict]:
        return list(json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"].values())

    reads = parsed('permit (principal, action, resource) when { context.channel == "chat" && context has amount };')
    assert context_attributes(reads) == {"channel", "amount"}
    whole = parsed('forbid (principal, action, resource) when { context == {"channel": "never"} };')
    assert context_attributes(reads + whole) is None
