"""``switchboard serve`` and ``switchboard prepare``: one service per process, for scale-out.

``prepare`` runs once per deployment (seeds the reference data, creates the credentials and
the database tables); then each ``serve`` process runs one service:

    switchboard serve tokens | orchestrator | gateway | agent <name> | mcp <system>...  [--port N]

Several MCP systems may share one process (``serve mcp crm billing``), each on its own port.

Where the other services are comes from ``SWITCHBOARD_*`` settings (``TOKEN_URL``, ``GATEWAY_URL``,
``ORCHESTRATOR_URL``, ``SYSTEM_URLS``, ``AGENT_URLS``, ``PUBLIC_URL``, ``DATABASE_URL``,
``BUS_URL``); anything unset falls back to the embedded layout, so on one machine the flags
alone are enough. ``switchboard up`` stays the one-command default (``--workers`` spreads it
over processes on one machine).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.errors import ConfigurationError
from shared.logs import configure_logging
from shared.settings import Settings, Topology

log = logging.getLogger("switchboard.serve")

KINDS = ("tokens", "orchestrator", "gateway", "agent", "mcp")


def service_names(kind: str, which: list[str]) -> list[str]:
    """``agent`` + ``[billing]`` -> ``[agent:billing]``; refuses missing or superfluous names."""
    if kind in ("agent", "mcp"):
        if not which:
            raise ConfigurationError(f"'serve {kind}' needs a name", hint=f"e.g. switchboard serve {kind} billing")
        if kind == "agent" and len(which) > 1:
            raise ConfigurationError("'serve agent' runs one agent", hint="start one process per agent")
        return [f"{kind}:{w}" for w in which]
    if which:
        raise ConfigurationError(f"'serve {kind}' takes no name (got {' '.join(which)!r})")
    return [kind]


def topology_from(settings: Settings) -> Topology:
    """The embedded layout, with every URL the settings name explicitly put in its place."""
    embedded = Topology.embedded(settings.host, settings.base_port)
    return Topology(
        orchestrator=settings.orchestrator_url or embedded.orchestrator,
        gateway=settings.gateway_url or embedded.gateway,
        tokens=settings.token_url or embedded.tokens,
        agents=embedded.agents,
        systems={**embedded.systems, **settings.system_urls},
    )


def _default_port(name: str, topology: Topology) -> int:
    kind, _, which = name.partition(":")
    url = {"orchestrator": topology.orchestrator, "gateway": topology.gateway, "tokens": topology.tokens}.get(kind)
    url = url or (topology.agents if kind == "agent" else topology.systems).get(which)
    if url is None:
        raise ConfigurationError(f"no default port for {name}", hint="pass --port")
    return int(url.rsplit(":", 1)[1])


async def _serve(settings: Settings, names: list[str], port: int | None, log_level: str, reuse_port: bool) -> None:
    from orchestrator.launcher import Stack
    from orchestrator.signals import SignalService, SignalWindow, load_or_create_secret
    from shared.bus import open_bus
    from shared.private import make_private
    from shared.secrets import Secrets
    from shared.service_auth.audiences import REACTIONS
    from shared.serving import bind, settle_heap, start

    if not (settings.data_dir / "secrets.json").exists():
        raise ConfigurationError(
            f"no credentials in {settings.data_dir}", hint="run 'switchboard prepare' once with the same data directory"
        )
    make_private(settings.data_dir)
    stack = Stack(settings, log_level=log_level)
    stack.secrets = Secrets.load_or_create(settings.data_dir, stack.agents, demo_staff=settings.demo_staff)
    if settings.demo_staff and names[0] in ("gateway", "orchestrator"):
        log.warning(
            "DEMO MODE: shared staff accounts can sign in and their decisions name no person; for real staff set "
            "SWITCHBOARD_STAFF=NAME:ROLE,... and SWITCHBOARD_DEMO_STAFF=false, then run switchboard prepare"
        )
    stack.topology = topology_from(settings)
    if port and len(names) > 1:
        raise ConfigurationError("--port needs a single service", hint="set SWITCHBOARD_SYSTEM_URLS for several")
    ports = {name: port or _default_port(name, stack.topology) for name in names}
    kind, _, which = names[0].partition(":")
    if kind == "agent":
        listen = settings.host if settings.host not in ("0.0.0.0", "::") else socket.gethostname()
        stack.topology.agents[which] = settings.public_url or f"http://{listen}:{ports[names[0]]}"
    if kind not in ("agent", "tokens"):
        if not settings.bus_url:
            log.warning("no SWITCHBOARD_BUS_URL: events stay inside this process; set nats://... to share them")
        stack.bus = await open_bus(
            settings.bus_url, deployment=settings.deployment, retention_seconds=settings.event_retention_seconds
        )
    try:
        if kind == "orchestrator":
            assert stack.bus is not None
            stack.signals = await SignalService.start(
                data_dir=settings.data_dir,
                secret=settings.signal_secret or load_or_create_secret(settings.data_dir),
                bus=stack.bus,
                gateway_mcp_url=stack.topology.gateway_mcp_url(),
                reactions_tokens=stack.service_auth(REACTIONS).tokens,
                database_url=stack.settings.database_url,
                window=SignalWindow(
                    max_age_seconds=stack.settings.signal_max_age_seconds,
                    max_ahead_seconds=stack.settings.signal_max_ahead_seconds,
                ),
            )
        running = []
        for name in names:
            sock = bind(settings.host, ports[name], reuse_port=reuse_port)
            running.append(
                await start(
                    name, stack.app_for(name), sock, log_level=log_level, timeout=settings.ready_timeout_seconds
                )
            )
            print(f"{name} listening on http://{settings.host}:{ports[name]}", flush=True)
        settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        # Together: each waits for its open requests (up to the shutdown grace), and several MCP
        # systems in one process waiting one after another added their waits up.
        await asyncio.gather(*(server.stop() for server in running))
    finally:
        if stack.signals is not None:
            await stack.signals.stop()
        if stack.bus is not None:
            await stack.bus.close()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.public_url:
        settings.public_url = args.public_url
    names = service_names(args.kind, args.names)
    configure_logging(args.log_level)  # before any MCP server is built (shared.logs)
    from shared.http_stack import use_one_http_stack
    from shared.serving import run

    use_one_http_stack()  # before the service imports an HTTP client (shared.http_stack)
    log_level = "warning" if args.log_level != "debug" else "info"
    run(_serve(settings, names, args.port, log_level, args.reuse_port))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "serve")
    add_common(p)
    p.add_argument("kind", choices=KINDS, help="which service")
    p.add_argument("names", nargs="*", metavar="name", help="the agent, or the MCP systems, for 'agent' and 'mcp'")
    p.add_argument("--port", type=int, help="port to listen on (default: its place in the embedded layout)")
    p.add_argument("--public-url", help="URL others reach this service at (default http://host:port)")
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="let several processes of this service on one host listen on the same port; the kernel "
        "spreads connections over them (replicas without a load balancer)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_serve)
