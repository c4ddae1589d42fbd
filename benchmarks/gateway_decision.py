"""How long the governance gateway takes to decide one tool call, without the network.

Two figures, each against the target the governance issue sets:
- the Cedar policy decision alone (``PolicyEngine.decide`` with a full call context):
  p50 <= 0.2 ms, p99 <= 1 ms;
- the full gateway check (``Gateway.authorize``: envelope parsing, auth-context signature,
  customer binding, rate limit, kill switch, policy, and the *committed* audit record on a
  SQLite file in WAL mode): p50 <= 1 ms, p99 <= 10 ms, first with the customer's consent given
  (what the decision alone costs), then with the live consent read the gateway makes before
  every customer-scoped call: one MCP round trip to the reference consent registry, served
  on loopback (what a governed call cost before the gateway kept a projection), and last with
  consent answered by the gateway's projection in front of that registry, its feed fresh (what
  a governed call costs now; the first call per customer still reads the registry).

The other facts policy reads (open cases, the refund facts of the payments system) come from an
in-memory double here: over the network a refund's fact reads run at the same time as the consent
read, so they cost one MCP round trip, measured by ``benchmarks/refund_turn.py``.
Usage: ``python benchmarks/gateway_decision.py [calls]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from mcp_types import Tool, ToolAnnotations

from gateway.audit_store import AuditStore
from gateway.catalog import Catalog
from gateway.facts import CustomerFacts, UpstreamFacts
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine, PolicyRequest
from gateway.projection import GatewayProjection
from gateway.ratelimit import RateLimiter
from gateway.upstream import UpstreamLink
from mcp_servers import build_app
from mcp_servers.dataset import prepare_dataset, sample_customers, system_db_path
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope, CustomerKeys
from shared.events import FEED_WATERMARK, new_event
from shared.service_auth import BearerAuth, ServiceAuth, StaticJwks, TokenVerifier
from shared.serving import serving
from shared.settings import AGENTS
from shared.tools import FACTS_META_KEY, PURPOSES, SUBJECT_META_KEY, RefundFacts
from token_service import KeyRing, TokenIssuer

ISSUER = "http://tokens.benchmark"


class _Minted:
    """The gateway's tokens, minted in-process (the benchmark has no token service to ask)."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer

    async def token(self, audience: str) -> str:
        return self._issuer.mint("gateway", audience)


POLICY_P50_MS, POLICY_P99_MS = 0.2, 1.0
CHECK_P50_MS, CHECK_P99_MS = 1.0, 10.0
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


class _GivenFacts:
    """Every purpose consented, no open case: the decision alone, without the read."""

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        return frozenset(PURPOSES)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return 0

    async def refund_facts(
        self, system: str, tool: str, arguments: dict[str, object], conversation_id: str
    ) -> RefundFacts:
        return RefundFacts(
            charge_id="CH-1",
            duplicate=True,
            flagged_error=False,
            refunded_on_charge=0.0,
            refundable_amount=12.5,
            refunded_today=0.0,
        )

    async def recent_sim_change(self, msisdn: str, max_age_hours: int, conversation_id: str) -> str | None:
        return None


class _LiveConsent:
    """Consent from ``consent`` (the registry, or the projection in front of it); the payments
    system's refund facts as given (they are read at the moment of acting, never projected)."""

    def __init__(self, consent: CustomerFacts) -> None:
        self._consent = consent
        self._given = _GivenFacts()

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        return await self._consent.consent_purposes(customer_id, conversation_id)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return 0

    async def refund_facts(
        self, system: str, tool: str, arguments: dict[str, object], conversation_id: str
    ) -> RefundFacts:
        return await self._given.refund_facts(system, tool, arguments, conversation_id)

    async def recent_sim_change(self, msisdn: str, max_age_hours: int, conversation_id: str) -> str | None:
        return None


@contextlib.asynccontextmanager
async def _watermarks(projection: GatewayProjection) -> AsyncIterator[None]:
    """The consent registry's feed as its outbox relay sends it: a watermark every 0.25 s."""

    async def feed() -> None:
        while True:
            data = {"system": "consent", "drained_at": time.time()}
            projection.apply(new_event(FEED_WATERMARK, "/systems/consent", data))
            await asyncio.sleep(0.25)

    task = asyncio.create_task(feed())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _tool(name: str, subject: str | None, read_only: bool, facts: bool = False) -> Tool:
    meta: dict[str, object] = {SUBJECT_META_KEY: {"arg": subject, "kind": subject}} if subject else {}
    if facts:
        meta[FACTS_META_KEY] = {"tool": "refund_facts", "args": ["account_number", "charge_id"]}
    return Tool(
        name=name,
        input_schema={"type": "object", "required": [subject] if subject else []},
        _meta=meta,
        annotations=ToolAnnotations(read_only_hint=read_only),
    )


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[98]


def _line(label: str, value: float, target: float) -> str:
    return f"  {label} {value:7.3f} ms   target <= {target:g} ms   {'ok' if value <= target else 'MISSED'}"


def bench_policy(policy: CedarPolicyEngine, calls: int) -> list[float]:
    request = PolicyRequest(
        agent="payment",
        tool="payments.issue_refund",
        conversation_id="conv-1",
        channel="chat",
        customer_scoped=True,
        customer_verified=True,
        assurance="AAL2",
        customer_id=KEYS.customer_id,
        consent_purposes=tuple(PURPOSES),
        amount=Decimal("12.5000"),
        hour_utc=9,
        charge_refundable=True,
        refunds_today=Decimal("12.5000"),
        daily_refund_limit=Decimal("100.0000"),
    )
    for _ in range(200):
        assert policy.decide(request).allowed
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        policy.decide(request)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@contextlib.asynccontextmanager
async def live_consent(catalog: Catalog) -> AsyncIterator[tuple[UpstreamFacts, CustomerKeys]]:
    """The reference consent registry on loopback, read through the gateway's own upstream link."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        await prepare_dataset(data_dir, None, customers=40, seed=7)
        customer = next(c for c in sample_customers(data_dir, 40) if _consents_to_payments(data_dir, c["customer_id"]))
        keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
        ring = KeyRing.load_or_create(data_dir, max_token_ttl=300)
        minted = _Minted(TokenIssuer(ring, issuer=ISSUER))
        verifier = TokenVerifier(StaticJwks(ring.jwks), issuer=ISSUER)
        app = build_app("consent", data_dir=data_dir, auth=ServiceAuth("mcp:consent", minted, verifier))
        async with serving(app, name="consent") as url:
            auth = BearerAuth(minted, "mcp:consent")
            link = UpstreamLink("consent", url + "/mcp", auth=auth, timeout_seconds=10, on_tools=catalog.set_system)
            owner = asyncio.create_task(link.run())
            try:
                await link.connect()
                yield UpstreamFacts({"consent": link}), keys
            finally:
                link.close()
                await owner


def _consents_to_payments(data_dir: Path, customer_id: str) -> bool:
    with contextlib.closing(sqlite3.connect(system_db_path(data_dir, "consent"))) as db:
        rows: list[tuple[str, int]] = db.execute(
            "SELECT purpose, granted FROM consents WHERE customer_id = ?", (customer_id,)
        ).fetchall()
    return dict(rows).get("payments", 0) == 1


async def bench_gateway(
    policy: CedarPolicyEngine, catalog: Catalog, calls: int, facts: CustomerFacts, keys: CustomerKeys
) -> list[float]:
    private = generate_private_key_pem()
    token = AuthContextSigner(private).issue(keys, method="otp-sms", assurance="AAL2", conversation_id="conv-1")
    args = {**ARGS, "account_number": keys.account_number}
    meta = {"switchboard/envelope": ContextEnvelope(conversation_id="conv-1", auth_context=token).model_dump_json()}
    with tempfile.TemporaryDirectory() as tmp:
        store = await AuditStore.open(Path(tmp) / "audit.db")
        gateway = Gateway(
            catalog=catalog,
            policy=policy,
            verifier=AuthContextVerifier(public_pem_from_private(private)),
            store=store,
            links={},
            facts=facts,
            limiter=RateLimiter(limit=10**9, window_seconds=60.0),
        )
        try:
            for _ in range(200):
                await gateway.authorize("payment", "payments.issue_refund", args, meta)
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                verdict = await gateway.authorize("payment", "payments.issue_refund", args, meta)
                samples.append((time.perf_counter() - started) * 1000)
                assert verdict.allowed, verdict.record.reason
        finally:
            await store.close()
    return samples


async def main(calls: int) -> int:
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(AGENTS, policy)
    catalog.set_system(
        "payments",
        [_tool("issue_refund", "account_number", False, facts=True), _tool("list_charges", "account_number", True)],
    )
    catalog.set_system("billing", [_tool("list_plans", None, True), _tool("list_invoices", "msisdn", True)])

    # Wall-clock percentiles: on a machine busy with other work the p99 mostly measures the scheduler.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    p50, p99 = _percentiles(bench_policy(policy, calls))
    print(f"policy decision alone (Cedar, full call context), {calls} decisions")
    print(_line("p50", p50, POLICY_P50_MS))
    print(_line("p99", p99, POLICY_P99_MS))
    g50, g99 = _percentiles(await bench_gateway(policy, catalog, calls, _GivenFacts(), KEYS))
    print(f"full gateway check with durable audit write, consent given, {calls} calls")
    print(_line("p50", g50, CHECK_P50_MS))
    print(_line("p99", g99, CHECK_P99_MS))
    async with live_consent(catalog) as (facts, keys):
        l50, l99 = _percentiles(await bench_gateway(policy, catalog, calls, _LiveConsent(facts), keys))
        projection = GatewayProjection(facts)
        async with _watermarks(projection):
            p_samples = await bench_gateway(policy, catalog, calls, _LiveConsent(projection), keys)
        report = projection.report()
    print(f"full gateway check with the live consent read (MCP on loopback), {calls} calls")
    print(f"  p50 {l50:7.3f} ms   p99 {l99:7.3f} ms   (of which the read: p50 about {l50 - g50:.3f} ms)")
    r50, r99 = _percentiles(p_samples)
    reads = report["reads"]
    print(f"full gateway check with consent from the gateway's projection (feed fresh), {calls} calls")
    print(
        f"  p50 {r50:7.3f} ms   p99 {r99:7.3f} ms   (projection answered {reads['hits']}, "
        f"read live {reads['misses']} first-seen + {reads['stale']} behind)"
    )
    met = p50 <= POLICY_P50_MS and p99 <= POLICY_P99_MS and g50 <= CHECK_P50_MS and g99 <= CHECK_P99_MS
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)))
