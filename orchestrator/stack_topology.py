"""Where the embedded stack's services listen, and how that is shown.

The launcher (``orchestrator.launcher.Stack``) starts the apps; what it derives from names and
addresses lives here: the services of a stack, the ports of the embedded layout, binding their
sockets, the topology built from their URLs (and back), the host read from a URL (and the hosts the
gateway's DNS-rebinding guard accepts), and the banner ``switchboard up`` prints. None of it
imports a service, so the parent of ``up --workers`` stays light.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from shared.errors import ConfigurationError
from shared.secrets import Secrets
from shared.settings import MCP_PATH, SYSTEMS, Topology
from shared.sockets import bind

SERVICES_BEFORE_AGENTS = ["tokens", "orchestrator", "gateway"]
SYSTEM_SERVICES = [f"mcp:{s}" for s in SYSTEMS]


def service_names(agents: tuple[str, ...]) -> list[str]:
    """Every service of a stack running ``agents``, in the order their sockets are bound."""
    return SERVICES_BEFORE_AGENTS + [f"agent:{a}" for a in agents] + SYSTEM_SERVICES


def topology_of(url: dict[str, str], agents: tuple[str, ...]) -> Topology:
    """The topology of services at ``url`` (keyed by service name; ``service_urls`` is the reverse)."""
    return Topology(
        orchestrator=url["orchestrator"],
        gateway=url["gateway"],
        tokens=url["tokens"],
        agents={a: url[f"agent:{a}"] for a in agents},
        systems={s: url[f"mcp:{s}"] for s in SYSTEMS},
    )


def embedded_ports(host: str, base_port: int, agents: tuple[str, ...]) -> dict[str, int]:
    """The port of each service in the embedded layout; an added agent gets one after the built-in ones."""
    embedded = Topology.embedded(host, base_port)
    ports = {
        "tokens": port_of(embedded.tokens),
        "orchestrator": port_of(embedded.orchestrator),
        "gateway": port_of(embedded.gateway),
        **{f"agent:{a}": port_of(u) for a, u in embedded.agents.items()},
        **{f"mcp:{s}": port_of(u) for s, u in embedded.systems.items()},
    }
    for i, agent in enumerate(agents):
        ports.setdefault(f"agent:{agent}", base_port + 40 + i)
    return ports


def bind_all(
    host: str, ports: dict[str, int], names: list[str], reuse_port: frozenset[str]
) -> dict[str, socket.socket]:
    """Bind the named services' sockets; if one port is taken, close the others and say what to do."""
    bound: dict[str, socket.socket] = {}
    for name in names:
        try:
            bound[name] = bind(host, ports[name], reuse_port=name in reuse_port)
        except OSError as exc:
            for other in bound.values():
                other.close()
            raise ConfigurationError(
                f"cannot listen on {host}:{ports[name]} for {name}: {exc.strerror}",
                hint="stop whatever uses it, or pick other ports with --base-port / SWITCHBOARD_BASE_PORT",
            ) from exc
    return bound


def service_urls(topology: Topology) -> dict[str, str]:
    """Each service's URL keyed by its service name (``tokens``, ``agent:<name>``, ``mcp:<system>``...)."""
    return {
        "tokens": topology.tokens,
        "orchestrator": topology.orchestrator,
        "gateway": topology.gateway,
        **{f"agent:{a}": u for a, u in topology.agents.items()},
        **{f"mcp:{s}": u for s, u in topology.systems.items()},
    }


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "127.0.0.1"


def gateway_allowed_hosts(url: str) -> list[str] | None:
    """None keeps the MCP SDK's loopback-only guard; a service name is added to it when used."""
    host = host_of(url)
    if host in ("127.0.0.1", "localhost", "::1"):
        return None
    return [h for name in ("127.0.0.1", "localhost", host) for h in (name, f"{name}:*")]


def print_topology(
    topology: Topology, secrets: Secrets, data_dir: Path, out: Callable[[str], None] = print, *, demo: bool = True
) -> None:
    """Tell whoever ran ``switchboard up`` where each service listens and how to talk to it."""
    out("Switchboard is up (embedded default).")
    out(f"  orchestrator API   {topology.orchestrator}/api/conversations")
    out(f"  web chat           {topology.orchestrator}/chat")
    out(f"  staff consoles     {topology.orchestrator}/console   (sign-in tokens: switchboard staff)")
    out(f"  token service      {topology.tokens}/oauth/token   (register agents: switchboard clients register)")
    out(f"  governance gateway {topology.gateway}{MCP_PATH}")
    for agent, url in topology.agents.items():
        out(f"  agent {agent:<12} {url}/.well-known/agent-card.json")
    for system, url in topology.systems.items():
        out(f"  mcp   {system:<12} {url}{MCP_PATH}  (gateway only)")
    out(f"  data directory     {data_dir.resolve()}")
    out("Talk to it:  switchboard chat        one-time codes:  switchboard outbox")
    out("Audit:       switchboard audit verify   Stop: Ctrl+C")
    shared = sorted(name for name, cred in secrets.staff_tokens.items() if cred.shared)
    if shared and demo:
        out(
            f"DEMO MODE: shared staff accounts ({', '.join(shared)}) can sign in; the audit log marks their decisions"
            " as a shared account's, naming no person. For real staff: switchboard staff --add NAME --role ROLE,"
            " then SWITCHBOARD_DEMO_STAFF=false."
        )
