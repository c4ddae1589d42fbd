"""compose.yaml, checked without Docker: the same topology the process test runs, wired consistently."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from agents import agent_names
from orchestrator.cli import build_parser
from shared.pools import Process, deployment_connections
from shared.settings import SYSTEMS, Settings

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _switchboard(services: dict[str, dict]) -> dict[str, dict]:
    return {n: s for n, s in services.items() if s.get("command", [""])[0] == "switchboard"}


def test_every_agent_system_and_control_plane_service_has_its_own_container(services: dict[str, dict]) -> None:
    expected = {"postgres", "nats", "prepare", "tokens", "gateway", "orchestrator"}
    expected |= {f"agent-{a}" for a in agent_names()} | {f"mcp-{s}" for s in SYSTEMS}
    assert expected <= set(services), expected - set(services)
    for name in agent_names():
        assert services[f"agent-{name}"]["command"][2:4] == ["agent", name]
    for system in SYSTEMS:
        assert services[f"mcp-{system}"]["command"][2:4] == ["mcp", system]


def test_every_command_is_one_the_cli_accepts(services: dict[str, dict]) -> None:
    parser = build_parser()
    for name, service in _switchboard(services).items():
        args = parser.parse_args(service["command"][1:])
        assert args.command in ("serve", "prepare"), name


def test_one_image_and_one_environment_wire_every_service(services: dict[str, dict]) -> None:
    switchboard = _switchboard(services)
    assert {s["image"] for s in switchboard.values()} == {"switchboard:latest"}
    for name, service in switchboard.items():
        env = service["environment"]
        port = service["command"][-1] if "--port" in service["command"] else None
        assert urlsplit(env["SWITCHBOARD_DATABASE_URL"]).hostname == "postgres", name
        assert env["SWITCHBOARD_BUS_URL"] == "nats://nats:4222", name
        for url in (env["SWITCHBOARD_GATEWAY_URL"], env["SWITCHBOARD_ORCHESTRATOR_URL"], env["SWITCHBOARD_TOKEN_URL"]):
            host, url_port = urlsplit(url).hostname, str(urlsplit(url).port)
            assert host in services and services[host]["command"][-1] == url_port, (name, url)
        systems = json.loads(env["SWITCHBOARD_SYSTEM_URLS"])
        assert set(systems) == set(SYSTEMS)
        for system, url in systems.items():
            assert urlsplit(url).hostname == f"mcp-{system}" and str(urlsplit(url).port) == "8000"
        agents = [urlsplit(u).hostname for u in json.loads(env["SWITCHBOARD_AGENT_URLS"])]
        assert sorted(agents) == sorted(f"agent-{a}" for a in agent_names())
        if name.startswith("agent-"):
            assert env["SWITCHBOARD_PUBLIC_URL"] == f"http://{name}:{port}"  # the card points at the service


def test_dependencies_exist_wait_for_prepare_and_have_no_cycle(services: dict[str, dict]) -> None:
    graph = {n: set(s.get("depends_on", {})) for n, s in services.items()}
    for name, deps in graph.items():
        assert deps <= set(services), (name, deps - set(services))
    for name in _switchboard(services):
        if name != "prepare":
            assert services[name]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
        if name not in ("prepare", "tokens"):
            assert "tokens" in services[name]["depends_on"], name  # every service gets its tokens there
    assert services["prepare"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> None:
        assert node not in visiting, f"dependency cycle through {node}"
        if node in done:
            return
        visiting.add(node)
        for dep in graph[node]:
            visit(dep)
        visiting.discard(node)
        done.add(node)

    for node in graph:
        visit(node)


def test_services_with_their_state_in_postgres_are_replicated(services: dict[str, dict]) -> None:
    replicated = {n for n, s in services.items() if s.get("deploy", {}).get("replicas", 1) > 1}
    assert replicated == {
        "orchestrator",
        "gateway",
        *(f"agent-{a}" for a in agent_names()),
        *(f"mcp-{s}" for s in SYSTEMS),
    }
    assert "--jetstream" in services["nats"]["command"]


def _processes(services: dict[str, dict]) -> list[Process]:
    """What each long-running service runs (``switchboard serve KIND [NAMES]``), with its replicas."""
    found = []
    for service in _switchboard(services).values():
        command = service["command"]
        if command[1] != "serve":
            continue  # prepare: runs once and exits before the services start
        kind, args = command[2], command[3:]
        names = [a for a in args[: next((i for i, a in enumerate(args) if a.startswith("--")), len(args))]]
        replicas = service.get("deploy", {}).get("replicas", 1)
        found.append(Process(kind, replicas=replicas, systems=len(names) if kind == "mcp" else 1))
    return found


def test_the_default_deployment_stays_well_under_the_postgres_connection_limit(services: dict[str, dict]) -> None:
    env = services["gateway"].get("environment", {})
    pool_size = int(env.get("SWITCHBOARD_DB_POOL_SIZE", Settings().db_pool_size))
    command = services["postgres"].get("command", [])
    limit = int(next((c.split("=", 1)[1] for c in command if c.startswith("max_connections=")), 100))
    processes = _processes(services)
    assert {p.kind for p in processes} == {"tokens", "orchestrator", "gateway", "agent", "mcp"}
    needed = deployment_connections(processes, pool_size)
    # Room to spare: operators, migrations and a rolling restart's extra replica still fit.
    assert needed <= 0.8 * limit, f"{needed} of {limit} connections"


def test_only_the_orchestrator_is_published_to_the_host(services: dict[str, dict]) -> None:
    """Agents, systems, the gateway and the token service are reachable only on the internal network."""
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"orchestrator"}
    for name, service in _switchboard(services).items():
        if name != "orchestrator":
            assert "ports" not in service and "network_mode" not in service, name


def test_staff_are_named_people_from_the_environment_and_demo_mode_is_off_unless_asked(
    services: dict[str, dict],
) -> None:
    for name, service in _switchboard(services).items():
        env = service["environment"]
        assert env["SWITCHBOARD_DEMO_STAFF"] == "${SWITCHBOARD_DEMO_STAFF:-false}", name
        assert env["SWITCHBOARD_STAFF"] == "${SWITCHBOARD_STAFF:-}", name
    # What compose makes of them when nothing is set: no demo mode, no account yet (prepare stops).
    unset = Settings(demo_staff="false", staff="")  # type: ignore[arg-type]
    assert unset.demo_staff is False and unset.staff == ""
    header = COMPOSE.read_text().split("services:")[0]
    assert "SWITCHBOARD_STAFF=" in header and "switchboard staff" in header  # how accounts are made
