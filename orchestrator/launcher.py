"""Starting the embedded default: every service on loopback, each its own HTTP server.

The services still talk real A2A and MCP over HTTP; ``Stack`` runs them all in one process and
one event loop (``switchboard up --workers 1``, and the tests), which keeps the footprint small.
Start order follows the dependencies (systems, gateway, specialists, orchestrator) and shutdown
runs in reverse. ``orchestrator.workers`` uses the same pieces (``prepare``, ``layout``,
``start_services``) to run groups of services in processes of their own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.shared_files import A2A_TASKS_DB, CONSOLE_SESSIONS_DB, sign_staff_out
from orchestrator.stack_topology import (
    bind_all,
    embedded_ports,
    gateway_allowed_hosts,
    host_of,
    port_of,
    service_names,
    service_urls,
    topology_of,
)
from shared import telemetry
from shared.errors import ConfigurationError
from shared.private import make_private
from shared.secrets import Secrets, load_or_create_secret
from shared.service_auth import audiences
from shared.settings import AGENTS, MCP_PATH, SYSTEMS, Settings, Topology
from shared.sockets import bind, url_of

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from orchestrator.api import OrchestratorConfig
    from orchestrator.signals import SignalService
    from shared.events import EventBus
    from shared.service_auth import RefusalReporter, ServiceAuth
    from shared.serving import RunningServer

# What a service needs (the HTTP server, the bus, the signal service, the token clients) is
# imported where it is started: the parent of ``up --workers`` only prepares the data directory
# and binds the sockets, and every import it makes delays the start of its children.

log = logging.getLogger("switchboard.launcher")


@dataclass
class Stack:
    """All Switchboard services, started together. Use ``async with Stack(settings) as topology``."""

    settings: Settings
    ephemeral_ports: bool = False
    log_level: str = "warning"
    agents: tuple[str, ...] = field(default_factory=lambda: tuple(_agent_names()))
    topology: Topology | None = None
    secrets: Secrets | None = None
    bus: EventBus | None = None
    signals: SignalService | None = None
    front_worker: int = 0
    front_workers: int = 1
    """This process's place among the orchestrator processes serving its port (``up --workers``):
    each takes its share of the admission limit and the signal refusal budget."""
    _stages: list[list[RunningServer]] = field(default_factory=list)
    """The running servers by the group they were started in, in start order."""

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    async def __aenter__(self) -> Topology:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> Topology:
        from shared.bus import open_bus

        await self.prepare()
        sockets = self.layout()
        assert self.topology is not None
        try:
            self.bus = await open_bus(
                self.settings.bus_url,
                deployment=self.settings.deployment,
                retention_seconds=self.settings.event_retention_seconds,
            )
            # Every other service gets its tokens here, so the token service comes first.
            await self._start_group({"tokens": self._tokens_app()}, sockets)
            await self._start_group({f"mcp:{s}": self._mcp_app(s) for s in SYSTEMS}, sockets)
            await self._start_group({"gateway": self._gateway_app()}, sockets)
            await self._start_group({f"agent:{a}": self._agent_app(a) for a in self.agents}, sockets)
            await self.start_signals(self.bus)
            await self._start_group({"orchestrator": self._orchestrator_app()}, sockets)
        except BaseException:
            await self.stop()
            raise
        return self.topology

    async def prepare(self) -> None:
        """Once per start: the reference dataset (seeded if missing) and the credentials."""
        from mcp_servers.dataset import prepare_dataset

        # Off unless an OTLP endpoint is configured; one provider serves every embedded service.
        telemetry.configure("switchboard")
        make_private(self.settings.data_dir)
        await prepare_dataset(
            self.settings.data_dir,
            self.settings.database_url,
            customers=self.settings.customers,
            seed=self.settings.dataset_seed,
        )
        self.secrets = Secrets.load_or_create(self.settings.data_dir, self.agents, demo_staff=self.settings.demo_staff)
        if not self.settings.signal_secret:
            # Here, before any process that checks signatures starts and might race to create it.
            load_or_create_secret(self.settings.data_dir)
        await asyncio.to_thread(sign_staff_out, self.settings.data_dir)

    def layout(self, reuse_port: frozenset[str] = frozenset()) -> dict[str, socket.socket]:
        """Bind every service's socket and set ``topology`` from the ports they got; the services
        named in ``reuse_port`` may have more sockets bound to their port (``shared.serving.bind``)."""
        sockets = self._bind(service_names(self.agents), reuse_port)
        url = {n: f"http://{self.settings.host}:{s.getsockname()[1]}" for n, s in sockets.items()}
        self.topology = topology_of(url, self.agents)
        return sockets

    async def start_signals(self, bus: EventBus | None) -> None:
        """The signal service; with ``bus`` it also relays signals and runs the reaction rules."""
        from orchestrator.signals import SignalService, SignalWindow
        from orchestrator.signals.limits import RefusalBudget

        assert self.topology is not None
        self.signals = await SignalService.start(
            data_dir=self.settings.data_dir,
            secret=self.settings.signal_secret or load_or_create_secret(self.settings.data_dir),
            bus=bus,
            gateway_mcp_url=self.topology.gateway_mcp_url(),
            # "reactions" is no A2A service: the rule engine that acts on network signals through the gateway.
            reactions_tokens=self.service_auth(audiences.REACTIONS).tokens,
            database_url=self.settings.database_url,
            window=SignalWindow(
                max_age_seconds=self.settings.signal_max_age_seconds,
                max_ahead_seconds=self.settings.signal_max_ahead_seconds,
            ),
            budget=RefusalBudget.share(self.front_workers),
        )

    async def start_services(self, sockets: dict[str, socket.socket]) -> None:
        """Serve the named services on their sockets, all at once (a process of ``up --workers``)."""
        await self._start_group({name: self.app_for(name) for name in sockets}, sockets)

    async def stop(self) -> None:
        # In reverse start order, a group's servers together: each waits up to the shutdown grace
        # for its open requests, and a server takes a few tenths of a second to stop even when
        # idle, which one after another added up to seconds of Ctrl+C (15 servers in one process).
        while self._stages:
            await asyncio.gather(*(running.stop() for running in self._stages.pop()))
        if self.signals is not None:
            await self.signals.stop()
            self.signals = None
        if self.bus is not None:
            await self.bus.close()
            self.bus = None

    async def stop_service(self, name: str) -> None:
        """Stop one service (e.g. ``mcp:billing``) as if it crashed; the rest keep running."""
        for stage in self._stages:
            for running in stage:
                if running.name == name:
                    await running.stop()
                    stage.remove(running)
                    return
        raise KeyError(name)

    async def restart_service(self, name: str) -> None:
        """Start a stopped service again on the port it had."""
        assert self.topology is not None
        url = service_urls(self.topology)[name]
        await self._start_group({name: self.app_for(name)}, {name: bind(self.settings.host, port_of(url))})

    def app_for(self, name: str) -> ASGIApp:
        """The app of one service (``tokens``, ``orchestrator``, ``gateway``, ``agent:<name>``, ``mcp:<system>``).

        Needs ``secrets`` and ``topology`` set; ``switchboard serve`` uses it to run one service per process.
        """
        kind, _, which = name.partition(":")
        builders = {
            "mcp": lambda: self._mcp_app(which),
            "agent": lambda: self._agent_app(which),
            "gateway": self._gateway_app,
            "orchestrator": self._orchestrator_app,
            "tokens": self._tokens_app,
        }
        if kind not in builders or (kind in ("mcp", "agent")) != bool(which):
            raise ConfigurationError(
                f"no service named {name!r}", hint="use tokens, orchestrator, gateway, agent:<name> or mcp:<system>"
            )
        return builders[kind]()

    def _bind(self, names: list[str], reuse_port: frozenset[str] = frozenset()) -> dict[str, socket.socket]:
        if self.ephemeral_ports:
            ports = dict.fromkeys(names, 0)
        else:
            ports = embedded_ports(self.settings.host, self.settings.base_port, self.agents)
        return bind_all(self.settings.host, ports, names, reuse_port)

    async def _start_group(self, apps: dict[str, ASGIApp], sockets: dict[str, socket.socket]) -> None:
        """Start services that do not depend on each other together; all must come up."""
        from shared.serving import start

        results = await asyncio.gather(
            *(
                start(name, app, sockets[name], log_level=self.log_level, timeout=self.settings.ready_timeout_seconds)
                for name, app in apps.items()
            ),
            return_exceptions=True,
        )
        failure: BaseException | None = None
        stage: list[RunningServer] = []
        self._stages.append(stage)
        for result in results:
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                stage.append(result)
                log.info("%s listening on %s", result.name, url_of(sockets[result.name]))
        if failure is not None:
            raise failure

    def service_auth(self, client_id: str) -> ServiceAuth:
        """The identity of one built-in service: its client credentials and the token service's keys."""
        from shared.service_auth import service_auth

        assert self.secrets is not None and self.topology is not None
        return service_auth(self.topology.tokens, client_id, self.secrets.client_secrets[client_id])

    def _refusals(self, auth: ServiceAuth) -> RefusalReporter:
        from shared.service_auth import RefusalReporter

        assert self.topology is not None
        return RefusalReporter(self.topology.gateway, auth.tokens)

    def _tokens_app(self) -> ASGIApp:
        from token_service import ClientRegistry, KeyRing, TokenIssuer, build_token_app

        assert self.secrets is not None and self.topology is not None
        keys = KeyRing.load_or_create(self.settings.data_dir, max_token_ttl=self.settings.token_ttl_seconds)
        registry = ClientRegistry.open(self.settings.data_dir)
        registry.sync_builtin(self.secrets.client_secrets, audiences.builtin_grants(self.agents, SYSTEMS))
        issuer = TokenIssuer(keys, issuer=self.topology.tokens.rstrip("/"), ttl_seconds=self.settings.token_ttl_seconds)
        return build_token_app(issuer, registry)

    def _mcp_app(self, system: str) -> ASGIApp:
        from mcp_servers import build_app

        assert self.secrets is not None
        auth = self.service_auth(audiences.system(system))
        return build_app(
            system,
            data_dir=self.settings.data_dir,
            auth=auth,
            on_refused=self._refusals(auth),
            identity_private_pem=self.secrets.identity_private_pem if system == "identity" else None,
            auth_context_ttl_seconds=self.settings.auth_context_ttl_seconds,
            bus=self.bus,
            allowed_hosts=[host_of(self.topology.systems[system])] if self.topology else None,
            database_url=self.settings.database_url,
        )

    def _gateway_app(self) -> ASGIApp:
        from gateway import build_gateway_app
        from gateway.checkpoints import default_witness_dir
        from gateway.retention import AuditRetention

        assert self.secrets is not None and self.topology is not None
        return build_gateway_app(
            upstreams={s: self.topology.systems[s] + MCP_PATH for s in SYSTEMS},
            auth=self.service_auth(audiences.GATEWAY),
            agents=(*self.agents, audiences.REACTIONS),
            public_url=self.topology.gateway,
            identity_public_pem=self.secrets.identity_public_pem,
            audit_db=self.settings.data_dir / "audit.db",
            mcp_timeout_seconds=self.settings.mcp_timeout_seconds,
            staff_tokens={
                name: cred.model_dump()
                for name, cred in self.secrets.people(demo_staff=self.settings.demo_staff).items()
            },
            orchestrator_url=self.topology.orchestrator,
            checkpoint_private_pem=self.secrets.audit_private_pem,
            bus=self.bus,
            database_url=self.settings.database_url,
            daily_refund_limit=self.settings.daily_refund_limit,
            sim_swap_window_hours=self.settings.sim_swap_window_hours,
            projection_max_lag_seconds=self.settings.projection_max_lag_seconds,
            audit_witness_dir=self.settings.audit_witness_dir or default_witness_dir(self.settings.data_dir),
            audit_witness_url=self.settings.audit_witness_url,
            audit_witness_token=self.settings.audit_witness_token,
            audit_witness_database_url=self.settings.audit_witness_database_url,
            audit_retention=AuditRetention(
                raw_arguments_days=self.settings.retention_raw_arguments_days,
                audit_days=self.settings.retention_audit_days,
            ),
            retention_interval_seconds=self.settings.retention_interval_seconds,
            # Scale-out: callers reach it by a service name, which the DNS-rebinding guard must accept.
            allowed_hosts=gateway_allowed_hosts(self.topology.gateway),
        )

    def _agent_app(self, agent: str) -> ASGIApp:
        from agents import build_app

        assert self.secrets is not None and self.topology is not None
        auth = self.service_auth(agent)
        return build_app(
            agent,
            public_url=self.topology.agents[agent],
            gateway_mcp_url=self.topology.gateway_mcp_url(),
            auth=auth,
            data_dir=self.settings.data_dir / "agents" / agent,
            on_refused=self._refusals(auth),
            mcp_timeout_seconds=self.settings.mcp_timeout_seconds,
            database_url=self.settings.database_url,
        )

    def _orchestrator_app(self) -> ASGIApp:
        from orchestrator.api import build_orchestrator_app

        return build_orchestrator_app(self.orchestrator_config())

    def orchestrator_config(self) -> OrchestratorConfig:
        """How this stack's orchestrator (or this orchestrator process of several) is configured."""
        from orchestrator.admission import AdmissionLimits, latency_target
        from orchestrator.api import OrchestratorConfig
        from orchestrator.channels.events import ticket_key
        from shared.llm import LLMSettings

        assert self.topology is not None
        auth = self.service_auth(audiences.ORCHESTRATOR)
        data = self.settings.data_dir
        limits = AdmissionLimits(
            self.settings.max_turns_in_flight,
            self.settings.retry_after_seconds,
            min_in_flight=self.settings.min_turns_in_flight,
            target_seconds=latency_target(self.settings.admission_target_seconds, model=LLMSettings().any_model),
        )
        return OrchestratorConfig(
            agent_urls=[
                *(self.settings.agent_urls or self.topology.agents.values()),
                *self.settings.extra_agent_urls,
            ],
            conversations_db=data / "conversations.db",
            route_threshold=self.settings.route_threshold,
            route_wrong_budget=self.settings.route_wrong_budget,
            max_message_chars=self.settings.max_message_chars,
            a2a_timeout_seconds=self.settings.a2a_timeout_seconds,
            turn_deadline_seconds=self.settings.turn_deadline_seconds,
            auth=auth,
            gateway_url=self.topology.gateway,
            public_url=self.topology.orchestrator,
            staff=self.secrets.people(demo_staff=self.settings.demo_staff) if self.secrets else {},
            signals=self.signals,
            database_url=self.settings.database_url,
            # Processes serving one port divide the limit: together they admit the configured load.
            admission=limits.share(self.front_worker, self.front_workers),
            # What a second process would otherwise not know: shared files, and one ticket key.
            console_sessions_db=data / CONSOLE_SESSIONS_DB,
            a2a_tasks_db=data / A2A_TASKS_DB,
            stream_ticket_key=ticket_key(self.secrets.client_secrets[audiences.ORCHESTRATOR]) if self.secrets else None,
            on_refused=self._refusals(auth),
            cache_dir=self.settings.router_cache_dir,
        )


def _agent_names() -> list[str]:
    """The five built-in specialists first, then any agent folder a developer added."""
    from agents import agent_names

    found = agent_names()
    return [a for a in AGENTS if a in found] + sorted(a for a in found if a not in AGENTS)
