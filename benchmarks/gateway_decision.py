"""How long the governance gateway takes to decide one tool call, without the network.

Measures ``Gateway.authorize``: envelope parsing, auth-context verification, customer
binding, the Cedar decision and the durable (committed) audit write, on a temporary SQLite
file. Usage: ``python benchmarks/gateway_decision.py [calls]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp_types import Tool, ToolAnnotations

from orchestrator.governance.audit_store import AuditStore
from orchestrator.governance.catalog import Catalog
from orchestrator.governance.gateway import Gateway
from orchestrator.governance.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine, PolicyRequest
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope, CustomerKeys
from shared.settings import AGENTS
from shared.tools import SUBJECT_META_KEY

TARGET_P50_MS, TARGET_P99_MS = 1.0, 10.0
KEYS = CustomerKeys(
    customer_id="CUST-00001", email="ana@example.com", msisdn="+15550100123", account_number="ACC-1234567"
)
ARGS = {
    "account_number": KEYS.account_number,
    "charge_id": "CH-1",
    "amount": 12.5,
    "reason": "duplicate",
    "idempotency_key": "k-1",
}


def _tool(name: str, subject: str | None, read_only: bool) -> Tool:
    meta = {SUBJECT_META_KEY: {"arg": subject, "kind": subject}} if subject else {}
    return Tool(
        name=name,
        input_schema={"type": "object", "required": [subject] if subject else []},
        _meta=meta,
        annotations=ToolAnnotations(read_only_hint=read_only),
    )


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[98]


async def main(calls: int) -> int:
    private = generate_private_key_pem()
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(AGENTS, policy)
    catalog.set_system(
        "payments", [_tool("issue_refund", "account_number", False), _tool("list_charges", "account_number", True)]
    )
    catalog.set_system("billing", [_tool("list_plans", None, True), _tool("list_invoices", "msisdn", True)])
    token = AuthContextSigner(private).issue(KEYS, method="otp-sms", assurance="AAL2")
    meta = {"switchboard/envelope": ContextEnvelope(conversation_id="conv-1", auth_context=token).model_dump_json()}

    with tempfile.TemporaryDirectory() as tmp:
        store = await AuditStore.open(Path(tmp) / "audit.db")
        gateway = Gateway(
            catalog=catalog,
            policy=policy,
            verifier=AuthContextVerifier(public_pem_from_private(private)),
            store=store,
            links={},
        )
        try:
            for _ in range(200):
                await gateway.authorize("payment", "payments.issue_refund", ARGS, meta)
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                verdict = await gateway.authorize("payment", "payments.issue_refund", ARGS, meta)
                samples.append((time.perf_counter() - started) * 1000)
                assert verdict.allowed
        finally:
            await store.close()

    policy_samples = []
    request = PolicyRequest(
        agent="payment",
        tool="payments.issue_refund",
        customer_scoped=True,
        customer_verified=True,
        assurance="AAL2",
        customer_id=KEYS.customer_id,
    )
    for _ in range(calls):
        started = time.perf_counter()
        policy.decide(request)
        policy_samples.append((time.perf_counter() - started) * 1000)

    p50, p99 = _percentiles(samples)
    c50, c99 = _percentiles(policy_samples)
    print(f"gateway decision (auth context + policy + durable audit write), {calls} calls")
    print(f"  p50 {p50:7.3f} ms   target <= {TARGET_P50_MS:g} ms   {'ok' if p50 <= TARGET_P50_MS else 'MISSED'}")
    print(f"  p99 {p99:7.3f} ms   target <= {TARGET_P99_MS:g} ms   {'ok' if p99 <= TARGET_P99_MS else 'MISSED'}")
    print(f"  of which the Cedar decision alone: p50 {c50:.3f} ms, p99 {c99:.3f} ms")
    return 0 if p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)))
