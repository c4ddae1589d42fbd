"""Amounts around every refund threshold (property-based): deny, allow, hold for approval, deny.

Runs ``Gateway.authorize`` in-process on a real audit store: every example leaves a record,
and no upstream exists to reach.
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from mcp_types import Tool

from gateway.audit_store import AuditStore
from gateway.catalog import Catalog
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from gateway.ratelimit import RateLimiter
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope
from shared.tools import FACTS_META_KEY, PURPOSES, SUBJECT_META_KEY, RefundFacts
from tests.governance.conftest import ANA

APPROVAL, HARD_LIMIT = Decimal("40.00"), Decimal("500.00")


class AllConsent:
    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        return frozenset(PURPOSES)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return 0

    async def refund_facts(self, system: str, tool: str, arguments: dict, conversation_id: str) -> RefundFacts:
        # A duplicate with room left and nothing refunded today: only the amount decides.
        return RefundFacts(
            charge_id=arguments["charge_id"],
            duplicate=True,
            flagged_error=False,
            refunded_on_charge=0.0,
            refundable_amount=10_000.0,
            refunded_today=0.0,
        )


def expected(amount: Decimal) -> str:
    if amount <= 0 or amount > HARD_LIMIT:
        return "deny"
    return "approval-required" if amount > APPROVAL else "allow"


def near(threshold: str) -> st.SearchStrategy[Decimal]:
    base = Decimal(threshold)
    return st.integers(min_value=-300, max_value=300).map(lambda cents: base + Decimal(cents) / 10_000)


AMOUNTS = st.one_of(
    near("0"),
    near("40.00"),
    near("500.00"),
    st.decimals(min_value=-1000, max_value=2000, places=4, allow_nan=False, allow_infinity=False),
)


def test_refund_amounts_around_every_threshold() -> None:
    private = generate_private_key_pem()
    token = AuthContextSigner(private).issue(ANA, method="otp-sms", assurance="AAL2", conversation_id="conv-prop")
    meta = {"switchboard/envelope": ContextEnvelope(conversation_id="conv-prop", auth_context=token).model_dump_json()}
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(["payment"], policy)
    catalog.set_system(
        "payments",
        [
            Tool(
                name="issue_refund",
                input_schema={"type": "object", "required": ["account_number"]},
                _meta={
                    SUBJECT_META_KEY: {"arg": "account_number", "kind": "account_number"},
                    FACTS_META_KEY: {"tool": "refund_facts", "args": ["account_number", "charge_id"]},
                },
            )
        ],
    )
    with tempfile.TemporaryDirectory() as tmp, asyncio.Runner() as runner:
        store = runner.run(AuditStore.open(Path(tmp) / "audit.db"))
        gateway = Gateway(
            catalog=catalog,
            policy=policy,
            verifier=AuthContextVerifier(public_pem_from_private(private)),
            store=store,
            links={},
            facts=AllConsent(),
            limiter=RateLimiter(limit=10**9, window_seconds=60),
        )

        class Desk:  # records the hold the way the real desk does, without its tables
            async def request(self, call, tool, decision):
                from gateway.call import Verdict

                record = await store.append(
                    kind="decision", decision="approval-required", policy_ids=decision.policy_ids, **call.audit_fields()
                )
                return Verdict(False, record)

        gateway.desk = Desk()  # type: ignore[assignment]

        @settings(max_examples=300, deadline=None)
        @given(amount=AMOUNTS)
        def check(amount: Decimal) -> None:
            args = {"account_number": ANA.account_number, "charge_id": "CH-1", "amount": str(amount), "reason": "x"}
            verdict = runner.run(gateway.authorize("payment", "payments.issue_refund", args, meta))
            assert verdict.record.decision == expected(amount.quantize(Decimal("0.0001"))), amount
            assert verdict.allowed == (verdict.record.decision == "allow")

        try:
            check()
        finally:
            runner.run(store.close())
