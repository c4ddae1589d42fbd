"""The line-service writes under policy: credit limits, number moves at AAL2 only, and fraud holds.

Runs ``Gateway.authorize`` in-process on a real audit store with the shipped policies; no
upstream exists to reach.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_types import Tool

from gateway.audit_store import AuditStore
from gateway.call import Verdict
from gateway.catalog import Catalog
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from gateway.ratelimit import RateLimiter
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope
from tests.governance.conftest import ANA
from tests.governance.test_thresholds import AllConsent

BY_MSISDN = {"switchboard/subject": {"arg": "msisdn", "kind": "msisdn"}}
WRITES = {
    "billing": ["apply_credit"],
    "network": ["issue_porting_code", "request_port_in", "activate_sim", "set_roaming", "lock_line"],
}


class Bench:
    def __init__(self, runner: asyncio.Runner, gateway: Gateway, private: bytes) -> None:
        self.runner, self.gateway, self.private = runner, gateway, private

    def decide(self, tool: str, args: dict[str, Any], *, assurance: str = "AAL2", verified: bool = True) -> str:
        envelope = ContextEnvelope(conversation_id="conv-line")
        if verified:
            token = AuthContextSigner(self.private).issue(
                ANA, method="otp-sms", assurance=assurance, conversation_id="conv-line"
            )
            envelope = ContextEnvelope(conversation_id="conv-line", auth_context=token)
        meta = {"switchboard/envelope": envelope.model_dump_json()}
        call = self.gateway.authorize("support", tool, {"msisdn": ANA.msisdn, **args}, meta)
        verdict: Verdict = self.runner.run(call)
        return str(verdict.record.decision)


@pytest.fixture
def bench() -> Iterator[Bench]:
    private = generate_private_key_pem()
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(["support"], policy)
    for system, names in WRITES.items():
        catalog.set_system(
            system,
            [Tool(name=n, input_schema={"type": "object", "required": ["msisdn"]}, _meta=BY_MSISDN) for n in names],
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
            async def request(self, call: Any, tool: Any, decision: Any) -> Verdict:
                record = await store.append(
                    kind="decision", decision="approval-required", policy_ids=decision.policy_ids, **call.audit_fields()
                )
                return Verdict(False, record)

        gateway.desk = Desk()  # type: ignore[assignment]
        try:
            yield Bench(runner, gateway, private)
        finally:
            runner.run(store.close())


@pytest.mark.parametrize(
    ("amount", "decision"),
    [
        ("5.00", "allow"),
        ("10.00", "allow"),
        ("10.01", "approval-required"),
        ("60.00", "approval-required"),
        ("60.01", "deny"),
        ("500", "deny"),
    ],
)
def test_credits_up_to_10_pass_up_to_60_wait_for_a_person_and_no_more(bench: Bench, amount: str, decision: str) -> None:
    args = {"amount": amount, "reason": "outage", "reference": "OUT-101"}
    assert bench.decide("billing.apply_credit", args) == decision


def test_a_porting_code_needs_a_one_time_code_and_waits_for_a_person_under_a_fraud_hold(bench: Bench) -> None:
    assert bench.decide("network.issue_porting_code", {}) == "allow"
    assert bench.decide("network.issue_porting_code", {}, assurance="AAL1") == "deny"
    assert bench.decide("network.issue_porting_code", {}, verified=False) == "deny"
    bench.gateway.state.fraud_holds[ANA.customer_id] = {"reason": "SIM swap reported", "set_by": "signal:S-1"}
    assert bench.decide("network.issue_porting_code", {}) == "approval-required"
    assert bench.decide("network.activate_sim", {"sim_type": "esim"}) == "approval-required"
    # Protecting the line and switching roaming are not how a number is taken: they still run.
    assert bench.decide("network.lock_line", {"reason": "fraud"}) == "allow"
    assert bench.decide("network.set_roaming", {"enabled": True}) == "allow"


@pytest.mark.parametrize("tool", ["network.set_roaming", "network.activate_sim", "network.lock_line"])
def test_line_changes_need_a_verified_customer(bench: Bench, tool: str) -> None:
    assert bench.decide(tool, {}, verified=False) == "deny"


def test_bringing_a_number_in_needs_a_one_time_code_and_waits_for_a_person_under_a_fraud_hold(bench: Bench) -> None:
    move = {"number": "+447700901001", "porting_code": "VOD481273"}
    assert bench.decide("network.request_port_in", move) == "allow"
    assert bench.decide("network.request_port_in", move, assurance="AAL1") == "deny"
    assert bench.decide("network.request_port_in", move, verified=False) == "deny"
    bench.gateway.state.fraud_holds[ANA.customer_id] = {"reason": "staff: caller sounded unsure", "set_by": "staff"}
    assert bench.decide("network.request_port_in", move) == "approval-required"
