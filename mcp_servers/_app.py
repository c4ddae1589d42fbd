"""The ASGI app around one system's MCP server: gateway-only access, health, lifespan.

MCP servers accept calls only from the governance gateway: every request to the MCP endpoint
must carry a token from the token service whose audience is this system (``mcp:<system>``)
and whose client is the gateway, checked by a pure ASGI middleware (``RequireToken``) before
the MCP transport sees the request. Refused callers are reported to the gateway's audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from mcp_servers._added_tools import register_added_tools
from mcp_servers._backend import ReferenceBackend
from mcp_servers.billing import server as billing_server
from mcp_servers.billing.backend import ReferenceBillingBackend
from mcp_servers.consent import server as consent_server
from mcp_servers.consent.backend import ReferenceConsentBackend
from mcp_servers.crm import server as crm_server
from mcp_servers.crm.backend import ReferenceCrmBackend
from mcp_servers.identity import server as identity_server
from mcp_servers.identity.backend import ReferenceIdentityBackend
from mcp_servers.network import server as network_server
from mcp_servers.network.backend import ReferenceNetworkBackend
from mcp_servers.payments import server as payments_server
from mcp_servers.payments.backend import ReferencePaymentsBackend
from mcp_servers.support import server as support_server
from mcp_servers.support.backend import ReferenceSupportBackend
from shared import telemetry
from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.events import SIGNAL_KINDS, WATERMARKED_FEEDS, EventBus, Subscription
from shared.outbox import OutboxRelay
from shared.service_auth import RequireToken, ServiceAuth, audiences
from shared.service_auth.guard import OnRefused
from shared.settings import MCP_PATH, SYSTEMS
from shared.telemetry_mcp import while_tracing

MAX_REQUEST_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


class Backend(Protocol):
    """What the app needs from any backend: it is opened at start-up and closed at shutdown."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class _Options:
    data_dir: Path
    database: DatabaseURL | None
    identity_private_pem: str | None
    auth_context_ttl_seconds: int


def _db(options: _Options, system: str) -> Path | DatabaseURL:
    """The system's own schema on PostgreSQL when configured, else its SQLite file."""
    if options.database is not None:
        return options.database
    return options.data_dir / "systems" / f"{system}.db"


def _identity(options: _Options) -> tuple[Backend, MCPServer]:
    if not options.identity_private_pem:
        raise ConfigurationError(
            "the identity system needs the private key that signs auth contexts",
            hint="pass identity_private_pem (from the service secrets)",
        )
    backend = ReferenceIdentityBackend(
        _db(options, "identity"),
        private_pem=options.identity_private_pem,
        ttl_seconds=options.auth_context_ttl_seconds,
        outbox_dir=options.data_dir,
    )
    return backend, identity_server.build_server(backend)


def _simple[B: Backend](
    system: str, make_backend: Callable[[Path | DatabaseURL], B], make_server: Callable[[B], MCPServer]
) -> Callable[[_Options], tuple[Backend, MCPServer]]:
    def factory(options: _Options) -> tuple[Backend, MCPServer]:
        backend = make_backend(_db(options, system))
        return backend, make_server(backend)

    return factory


_FACTORIES: dict[str, Callable[[_Options], tuple[Backend, MCPServer]]] = {
    "crm": _simple("crm", ReferenceCrmBackend, crm_server.build_server),
    "billing": _simple("billing", ReferenceBillingBackend, billing_server.build_server),
    "payments": _simple("payments", ReferencePaymentsBackend, payments_server.build_server),
    "support": _simple("support", ReferenceSupportBackend, support_server.build_server),
    "network": _simple("network", ReferenceNetworkBackend, network_server.build_server),
    "identity": _identity,
    "consent": _simple("consent", ReferenceConsentBackend, consent_server.build_server),
}
assert set(_FACTORIES) == set(SYSTEMS)


def _consumer(backend: Backend) -> tuple[Callable[[object], Awaitable[bool]], Collection[str] | None] | None:
    """The event handler of a system that reads other systems' events (CRM view, signals), and
    the kinds it reads (``event_kinds`` on the backend; None: every event)."""
    for name, kinds in (("apply_event", getattr(backend, "event_kinds", None)), ("apply_signal", SIGNAL_KINDS)):
        handler: Callable[[object], Awaitable[bool]] | None = getattr(backend, name, None)
        if handler is not None:
            return handler, kinds
    return None


@contextlib.asynccontextmanager
async def _events(system: str, backend: Backend, bus: EventBus | None) -> AsyncIterator[dict[str, object]]:
    """Relay the backend's outbox to the bus and feed the bus to its consumer, while the app runs."""
    status: dict[str, object] = {"bus": bus is not None}
    if bus is None or not isinstance(backend, ReferenceBackend):
        yield status
        return
    store = await backend.open_outbox()
    relay = OutboxRelay(store, bus, system=system if system in WATERMARKED_FEEDS else None)
    backend.on_commit(relay.notify)
    task = asyncio.create_task(relay.run(), name=f"outbox relay {system}")
    subscription: Subscription | None = None
    try:
        consumer = _consumer(backend)
        if consumer is not None:
            handler, kinds = consumer

            async def consume(event: object) -> None:
                await handler(event)

            subscription = await bus.subscribe(f"{system}-consumer", consume, kinds=kinds)
        status["relay"] = relay
        yield status
    finally:
        if subscription is not None:
            await subscription.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()


def _transport_security(allowed_hosts: list[str] | None) -> TransportSecuritySettings:
    hosts = ["127.0.0.1", "localhost", "[::1]", *(allowed_hosts or [])]
    with_ports = [h for host in hosts for h in (host, f"{host}:*")]
    origins = [f"http://{h}" for h in with_ports]
    return TransportSecuritySettings(allowed_hosts=with_ports, allowed_origins=origins)


def build_app(
    system: str,
    *,
    data_dir: Path,
    auth: ServiceAuth,
    on_refused: OnRefused | None = None,
    identity_private_pem: str | None = None,
    auth_context_ttl_seconds: int = 1800,
    allowed_hosts: list[str] | None = None,
    bus: EventBus | None = None,
    database_url: str | None = None,
) -> Starlette:
    """The ASGI app serving one enterprise system: MCP at ``/mcp`` and ``GET /healthz``.

    The lifespan opens the system's backend (the dataset must be seeded) and runs the MCP
    session manager; requests to ``/mcp`` without a gateway token for this system get HTTP 401
    (``auth.verifier`` checks them; ``on_refused`` records each refusal, e.g. in the gateway's audit).
    With ``bus``, the backend's outbox is relayed to it and the system consumes what it needs.
    A PostgreSQL ``database_url`` keeps the system's tables in its own schema there (replicas
    may share it); without one, or with a SQLite URL, they stay in ``data_dir/systems``.
    """
    factory = _FACTORIES.get(system)
    if factory is None:
        raise ConfigurationError(f"unknown system {system!r}", hint=f"use one of {', '.join(SYSTEMS)}")
    # A system served in its own process exports its spans when an OTLP endpoint is configured.
    telemetry.configure(f"switchboard-mcp-{system}")
    database = DatabaseURL.parse(database_url, default_sqlite=Path("unused.db")) if database_url else None
    options = _Options(
        Path(data_dir),
        database if database and database.is_postgres else None,
        identity_private_pem,
        auth_context_ttl_seconds,
    )
    backend, server = factory(options)
    while_tracing(server.middleware)
    register_added_tools(system, server, backend)
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_REQUEST_BYTES,
        transport_security=_transport_security(allowed_hosts),
    )
    health: dict[str, object] = {"status": "ok", "system": system, "tools": 0}
    events: dict[str, object] = {}

    async def healthz(_: Request) -> JSONResponse:
        relay = events.get("relay")
        if isinstance(relay, OutboxRelay):
            health["events"] = {"published": relay.published, "paused": relay.paused_reason or None}
        return JSONResponse(health)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            await auth.verifier.load()
        except ServiceUnavailable as exc:
            logger.warning("%s; the first call will try again", exc.message)
        await backend.open()
        health["tools"] = len(await server.list_tools())
        try:
            async with _events(system, backend, bus) as status, server.session_manager.run():
                events.update(status)
                yield
        finally:
            await backend.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Mount(
                "/",
                app=RequireToken(
                    mcp_app,
                    verifier=auth.verifier,
                    audience=audiences.system(system),
                    subjects={audiences.GATEWAY},
                    on_refused=on_refused,
                ),
            ),
        ],
        lifespan=lifespan,
    )
