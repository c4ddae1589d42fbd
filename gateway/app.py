"""The governance gateway as an ASGI app: an MCP server in front of every enterprise system.

Start-up (lifespan) opens the audit log, loads and validates the policies and connects to
every upstream; an upstream that is down does not stop start-up. ``GET /healthz`` reports
each upstream. The MCP endpoint itself (listing, ``tools/call``) is ``gateway.mcp_endpoint``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from gateway.agent_auth import AgentAuthMiddleware
from gateway.approval_flow import ApprovalDesk
from gateway.approvals import ApprovalStore
from gateway.audit_api import build_audit_routes
from gateway.audit_export import write_public_key
from gateway.audit_guard import verify_before_start
from gateway.audit_store import open_audit_store
from gateway.catalog import Catalog
from gateway.cedar_engine import CedarPolicyEngine
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.enforcement import HoldExplainingPolicy, start_enforcement
from gateway.facts import UpstreamFacts
from gateway.gateway import DEFAULT_DAILY_REFUND_LIMIT, DEFAULT_SIM_SWAP_WINDOW_HOURS, Gateway
from gateway.mcp_endpoint import build_mcp_server, mcp_routes
from gateway.open_cases import OpenCaseReader
from gateway.policy_files import DEFAULT_POLICY_DIR
from gateway.projection import DEFAULT_MAX_LAG_SECONDS, GatewayProjection
from gateway.ratelimit import RateLimiter
from gateway.resource_auth import METADATA_PATH, protected_resource_routes, refusal_routes, service_caller
from gateway.retention import AuditRetention, apply
from gateway.staff_api import build_staff_routes
from gateway.state import GovernanceState
from gateway.upstream import UpstreamLink
from gateway.weakening import WeakeningDesk
from gateway.witness_http import HttpWitness
from gateway.witness_pg import PostgresWitness
from shared.authcontext import AuthContextVerifier, public_pem_from_private
from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.events import EventBus
from shared.service_auth import BearerAuth, ServiceAuth, audiences
from shared.settings import MCP_PATH

logger = logging.getLogger(__name__)


def build_gateway_app(
    *,
    upstreams: dict[str, str],
    auth: ServiceAuth,
    agents: Iterable[str],
    identity_public_pem: str,
    audit_db: Path,
    policy_dir: Path = DEFAULT_POLICY_DIR,
    mcp_timeout_seconds: float = 10.0,
    allowed_hosts: list[str] | None = None,
    staff_tokens: Mapping[str, Mapping[str, str]] | None = None,
    orchestrator_url: str | None = None,
    public_url: str = "http://127.0.0.1",
    checkpoint_private_pem: str | None = None,
    checkpoint_every: int = 256,
    approval_ttl_seconds: float = 900.0,
    max_approvals_per_conversation: int = 3,
    calls_per_minute: int = 120,
    clock: Callable[[], float] = time.time,
    bus: EventBus | None = None,
    database_url: str | None = None,
    daily_refund_limit: Decimal = DEFAULT_DAILY_REFUND_LIMIT,
    sim_swap_window_hours: int = DEFAULT_SIM_SWAP_WINDOW_HOURS,
    audit_witness_dir: Path | None = None,
    projection_max_lag_seconds: float = DEFAULT_MAX_LAG_SECONDS,
    audit_witness_url: str | None = None,
    audit_witness_token: str | None = None,
    audit_witness_database_url: str | None = None,
    audit_retention: AuditRetention | None = None,
    retention_interval_seconds: float = 3600.0,
) -> Starlette:
    """The gateway app; the MCP endpoint is ``/mcp``, the staff API is under ``/governance``.

    ``upstreams`` maps system name to upstream MCP URL. ``allowed_hosts`` are Host header
    values to accept (``"gateway:8710"``, ``"10.0.0.5:*"``); None keeps the SDK's loopback-only default.
    ``staff_tokens`` maps a staff name to ``{"token", "role"}``. Callers of ``/mcp`` present a
    token from the token service for the ``gateway`` audience, issued to one of ``agents``;
    ``auth`` also gets the gateway its own tokens (for each system, and for posting approval
    outcomes to ``orchestrator_url``). ``public_url`` is where agents reach the gateway (its
    protected-resource metadata names it). With ``checkpoint_private_pem`` the audit head
    is signed into ``<audit_db folder>/audit-checkpoints.jsonl`` and the same file in
    ``audit_witness_dir``, and the chain must verify against both before the gateway starts.
    ``audit_witness_url`` adds an HTTP witness (``witness_http``) that also gets every line, or
    ``audit_witness_database_url`` a PostgreSQL one with its own login (``witness_pg``).
    ``audit_retention`` prunes raw values and old records every ``retention_interval_seconds``.
    A ``postgresql://`` ``database_url`` (``SWITCHBOARD_DATABASE_URL``) moves the audit log,
    approvals and governance switches into PostgreSQL, shared by every gateway replica; without
    one they stay in ``audit_db`` (SQLite). Consent and open tickets are answered from the
    gateway's projection of the ``bus`` events while it is no more than
    ``projection_max_lag_seconds`` behind, and read live otherwise (``gateway.projection``).
    """
    agent_names = frozenset(agents)
    if not agent_names:
        raise ConfigurationError("the gateway needs at least one agent", hint="check the deployment's agents")
    verifier = AuthContextVerifier(identity_public_pem.encode())
    state: dict[str, Any] = {}
    # Only PostgreSQL moves the log: a SQLite URL names the orchestrator's file, not the gateway's.
    database = DatabaseURL.parse(database_url, default_sqlite=audit_db)
    pg_url = database_url if database.is_postgres else None

    def gateway() -> Gateway:
        gw: Gateway = state["gateway"]
        return gw

    server = build_mcp_server(gateway, lambda: "gateway" in state, auth.verifier)
    mcp = mcp_routes(server, allowed_hosts)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        policy = CedarPolicyEngine.load(policy_dir)
        policy.check_context_shape()
        catalog = Catalog(sorted(agent_names), policy)
        links = {
            system: UpstreamLink(
                system,
                url,
                auth=BearerAuth(auth.tokens, audiences.system(system)),
                timeout_seconds=mcp_timeout_seconds,
                on_tools=catalog.set_system,
            )
            for system, url in upstreams.items()
        }
        try:
            await auth.verifier.load()
        except ServiceUnavailable as exc:
            logger.warning("%s; the first call will try again", exc.message)
        writer = None
        remote: HttpWitness | PostgresWitness | None = None
        if audit_witness_url:
            remote = HttpWitness(audit_witness_url, audit_witness_token)
        elif audit_witness_database_url:
            remote = PostgresWitness(audit_witness_database_url, database_url=database_url)
        if checkpoint_private_pem:
            checkpoints = audit_db.parent / CHECKPOINTS_FILE
            # Before anything is signed: a chain rewritten while the gateway was stopped is not laundered.
            await verify_before_start(
                database if database.is_postgres else audit_db,
                checkpoints=checkpoints,
                private_pem=checkpoint_private_pem,
                witness=audit_witness_dir,
                remote=remote,
            )
            writer = CheckpointWriter(checkpoints, checkpoint_private_pem, witness=audit_witness_dir)
            if remote is not None:
                writer.witnesses.append(remote)
            # Published apart from the private key: what an auditor needs to check checkpoints and exports.
            public = public_pem_from_private(checkpoint_private_pem.encode()).decode()
            await asyncio.to_thread(write_public_key, audit_db.parent, public)
        store = await open_audit_store(
            pg_url, default_sqlite=audit_db, checkpoints=writer, checkpoint_every=checkpoint_every
        )
        try:
            governance = await GovernanceState.load(store)

            def apply_modes() -> None:
                for policy_id, mode in governance.policy_modes.items():
                    if policy_id in policy.modes():
                        policy.set_mode(policy_id, mode)

            async def follow_other_replicas() -> None:
                await governance.reload(store)
                apply_modes()

            apply_modes()
            store.watch(follow_other_replicas)
            approvals = await ApprovalStore.open(store)
            try:
                async with asyncio.TaskGroup() as tasks:
                    for link in links.values():
                        tasks.create_task(link.run(), name=f"upstream:{link.system}")
                    # Down upstreams only log here; calls to them retry the connection.
                    await asyncio.gather(*(link.connect() for link in links.values()), return_exceptions=True)
                    catalog.check_internal_tools()
                    if all(link.up for link in links.values()):
                        policy.check_arguments()
                    else:
                        # A policy reading an argument of a system that is down is checked when it lists.
                        logger.warning(
                            "a system is down, so policies reading context.args were not checked against its tools"
                        )
                    projection = GatewayProjection(UpstreamFacts(links), max_lag_seconds=projection_max_lag_seconds)
                    # With a network system, every money-moving write asks it about the line's SIM;
                    # a deployment without one has nobody to ask, and says so at start.
                    sim_window = sim_swap_window_hours if "network" in links else None
                    if sim_window is None:
                        logger.warning("no network system is configured: payments are not checked for SIM changes")
                    gw = Gateway(
                        catalog=catalog,
                        policy=HoldExplainingPolicy(policy, governance),
                        verifier=verifier,
                        store=store,
                        links=links,
                        facts=projection,
                        state=governance,
                        limiter=RateLimiter(limit=calls_per_minute, window_seconds=60.0),
                        clock=clock,
                        daily_refund_limit=daily_refund_limit,
                        sim_swap_window_hours=sim_window,
                    )
                    desk = ApprovalDesk(
                        gw,
                        approvals,
                        ttl_seconds=approval_ttl_seconds,
                        max_per_conversation=max_approvals_per_conversation,
                        orchestrator_url=orchestrator_url,
                        tokens=auth.tokens,
                        clock=clock,
                    )
                    gw.desk = desk
                    gw.projection = projection
                    gw.open_cases = open_cases = OpenCaseReader(
                        links,
                        approvals,
                        orchestrator_url=orchestrator_url,
                        tokens=auth.tokens,
                        ticket_ids=projection.open_tickets,
                    )
                    state["gateway"], state["desk"] = gw, desk
                    # Network signals (a SIM swap sets a fraud hold) arrive over the event bus.
                    signals = await start_enforcement(bus, gw) if bus is not None else None
                    await desk.resume()
                    notifier = tasks.create_task(desk.run(), name="approval-desk")
                    gw.weakening = await WeakeningDesk.open(gw, clock)
                    restorer = tasks.create_task(gw.weakening.run(), name="weakening-expiry")
                    gw.retention = audit_retention or AuditRetention()
                    pruner = tasks.create_task(
                        _prune_on_schedule(gw, retention_interval_seconds), name="audit-retention"
                    )
                    try:
                        async with server.session_manager.run():
                            yield
                    finally:
                        notifier.cancel()
                        restorer.cancel()
                        pruner.cancel()
                        await open_cases.close()
                        if signals is not None:
                            await signals.stop()
                        for link in links.values():
                            link.close()
            except* ConfigurationError as group:
                # A start-up check failed inside the task group: say what is wrong, not 'unhandled errors'.
                raise group.exceptions[0] from None
        finally:
            state.pop("gateway", None)
            state.pop("desk", None)
            await store.close()
            if remote is not None:
                await asyncio.to_thread(remote.close)  # the last lines (the one signed at close) go out

    async def healthz(request: Request) -> JSONResponse:
        if "gateway" not in state:
            return JSONResponse({"status": "starting"}, status_code=503)
        links = state["gateway"].links
        report = {system: link.health() for system, link in links.items()}
        status = "ok" if all(link.up for link in links.values()) else "degraded"
        projection = state["gateway"].projection
        return JSONResponse(
            {"status": status, "upstreams": report, "projection": projection.report() if projection else None}
        )

    async def metrics(request: Request) -> PlainTextResponse:
        projection = state["gateway"].projection if "gateway" in state else None
        body = projection.metrics_text() if projection is not None else ""
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def audit_unauthenticated(name: str, arguments: Any, meta: Any, caller: str, why: str) -> None:
        if "gateway" in state:
            await state["gateway"].record_unauthenticated(name, arguments, meta, caller, why)

    async def audit_rejected(agent: str, name: str, reason: str) -> None:
        if "gateway" in state:
            await state["gateway"].record_refused(agent, name, reason)

    def holder() -> tuple[Gateway, ApprovalDesk]:
        if "gateway" not in state:
            raise ServiceUnavailable("the gateway is starting", hint="retry in a moment")
        return state["gateway"], state["desk"]

    is_agent = service_caller(auth.verifier, agent_names)
    staff_routes = build_staff_routes(holder, staff_tokens or {}, is_agent)
    staff_routes += build_audit_routes(  # compliance reads: traces, chain status, explain, export
        holder,
        staff_tokens or {},
        is_agent,
        audit_db=audit_db,
        checkpoint_private_pem=checkpoint_private_pem,
        location=database if database.is_postgres else None,
        witness=audit_witness_dir,
    )
    token_service = auth.verifier.issuer
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *protected_resource_routes(public_url, token_service),
            *refusal_routes(gateway, auth.verifier),
            *staff_routes,
            *mcp,
        ],
        middleware=[
            Middleware(
                AgentAuthMiddleware,
                verifier=auth.verifier,
                agents=agent_names,
                resource_metadata=public_url.rstrip("/") + METADATA_PATH + MCP_PATH,
                on_unauthenticated_call=audit_unauthenticated,
                # The staff API, the refusal intake and the metadata authenticate (or need not) on their own.
                open_paths=frozenset({"/healthz", "/metrics"}),
                open_prefixes=("/governance/", "/audit/", "/.well-known/"),
                on_rejected=audit_rejected,
            )
        ],
        lifespan=lifespan,
    )


async def _prune_on_schedule(gateway: Gateway, interval: float) -> None:
    """Audit retention at start and then every ``interval`` seconds, while configured."""
    while gateway.retention is not None and gateway.retention.due():
        try:
            await apply(gateway.store, gateway.retention)
        except Exception:
            logger.exception("audit retention failed; will try again")
        await asyncio.sleep(interval)
