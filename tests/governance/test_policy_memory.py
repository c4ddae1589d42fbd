"""The Cedar engine remembers its answers only while the policies, their modes and the tools stay the same."""

from __future__ import annotations

from gateway.cedar_engine import CedarPolicyEngine
from gateway.policy_files import DEFAULT_POLICY_DIR
from gateway.policy_interface import PolicyRequest, ToolFacts

CONSENT = "guard.consent-required"
INVOICE = ToolFacts("billing.get_invoice", "billing", read_only=True, customer_scoped=True)
WITHOUT_CONSENT = PolicyRequest(
    agent="billing",
    tool=INVOICE.name,
    customer_scoped=True,
    customer_verified=True,
    assurance="aal2",
    customer_id="CUST-00001",
    consent_purposes=(),
)


def _engine() -> CedarPolicyEngine:
    engine = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    engine.set_tools([INVOICE])
    return engine


def test_a_question_asked_again_gets_the_same_answer_which_the_caller_cannot_change() -> None:
    engine = _engine()
    first = engine.decide(WITHOUT_CONSENT)
    assert not first.allowed and first.policy_ids == [CONSENT]
    first.policy_ids.append("tampered")
    assert engine.decide(WITHOUT_CONSENT) == engine.decide(WITHOUT_CONSENT)
    assert engine.decide(WITHOUT_CONSENT).policy_ids == [CONSENT]


def test_a_mode_switch_and_new_tools_are_decided_afresh() -> None:
    engine = _engine()
    assert engine.decide(WITHOUT_CONSENT).policy_ids == [CONSENT]
    engine.set_mode(CONSENT, "log-only")
    assert CONSENT not in engine.decide(WITHOUT_CONSENT).policy_ids
    engine.set_mode(CONSENT, "enforce")
    assert engine.decide(WITHOUT_CONSENT).policy_ids == [CONSENT]
    # The same tool, now about consent itself: the guard no longer applies to it.
    engine.set_tools(
        [ToolFacts(INVOICE.name, "billing", read_only=True, customer_scoped=True, purpose="consent-management")]
    )
    assert CONSENT not in engine.decide(WITHOUT_CONSENT).policy_ids
