"""The closed-loop conversation mix of ``load.py`` against the per-service layout of compose.yaml.

Every service runs as its own ``switchboard serve`` process on this machine, as compose runs its
containers: the token service, each MCP system, the gateway, each specialist and the
orchestrator, with state in PostgreSQL (a database of the run's own, dropped afterwards) and
events on NATS JetStream (a deployment name of the run's own). With ``--replicas 2`` every
service but the token service runs twice; replicas share their service's port (``serve
--reuse-port``), so the kernel spreads connections over them as compose's service names do,
with no balancer process in between.

For each replica count and each N, it prints turns/s, errors, shed requests, latency per turn
type, and the CPU each turn costs: in Switchboard's processes (by kind of service) and in the
PostgreSQL backends that served them. The same N against the embedded default (``switchboard
up``: SQLite, events in process) in the same run gives the ratio of CPU per turn between the
layouts, which is what ``docs/deploy.md`` projects larger machines from.

    python benchmarks/load_scaleout.py [--replicas 1 2] [--clients 10 50]
        [--postgres postgresql://...] [--bus nats://127.0.0.1:4222]
        [--no-embedded] [--idle-seconds 5] [--database-prefix sb_load_]

The idle CPU is also printed per process (``idle by process``): what each relay's sweeps and
each consumer's deliveries cost; ``--clients 0`` measures only that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from _hops import pct
from _procs import cpu_seconds, free_base, tree
from load import TURNS, Results, refundable_customers, switchboard_phase, switchboard_up

from mcp_servers.dataset import prepare_dataset
from shared.settings import SYSTEMS, Topology

POPULATION = 1000
START_TIMEOUT = 240.0
IDLE_SECONDS = 5.0
CLI = [sys.executable, "-m", "orchestrator.cli"]


@dataclass
class Service:
    kind: str  # tokens, mcp, gateway, agent, orchestrator: what the CPU is reported by
    popen: subprocess.Popen[bytes]
    log: Path
    name: str = ""
    """The service it serves (``mcp crm``, ``agent billing``): idle CPU is reported per process."""


@dataclass
class Deployment:
    url: str
    data_dir: Path
    database_url: str
    database: str
    services: list[Service] = field(default_factory=list)

    def cpu_by_kind(self) -> dict[str, float]:
        cpu: dict[str, float] = defaultdict(float)
        for service in self.services:
            cpu[service.kind] += cpu_seconds(tree(service.popen.pid))
        return cpu

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds of each process, named after its service (replicas numbered)."""
        cpu: dict[str, float] = {}
        for service in self.services:
            name, n = service.name, 2
            while name in cpu:
                name, n = f"{service.name} #{n}", n + 1
            cpu[name] = cpu_seconds(tree(service.popen.pid))
        return cpu


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _backend_cpu(admin: asyncpg.Connection, database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (the server runs on this machine).
    Our pools keep their connections, so a backend lives through a phase."""
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    return cpu_seconds([row["pid"] for row in rows])


async def _wait_listening(services: list[Service], deadline: float) -> None:
    """``serve`` prints 'listening on' once its port accepts connections."""
    for service in services:
        while b"listening on" not in service.log.read_bytes():
            if service.popen.poll() is not None:
                tail = service.log.read_text(errors="replace")[-6000:]
                raise SystemExit(f"a {service.kind} process exited during start-up:\n{tail}")
            if time.monotonic() > deadline:
                raise SystemExit(f"a {service.kind} process did not start in {START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.2)  # polling processes we do not control; bounded by the deadline


def _stop(services: list[Service]) -> None:
    for service in services:
        if service.popen.poll() is None:
            service.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for service in services:
        try:
            service.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            service.popen.kill()


@contextlib.asynccontextmanager
async def deployment(
    tmp: Path, replicas: int, admin_url: str, bus_url: str, prefix: str = "sb_load_"
) -> AsyncIterator[Deployment]:
    """compose.yaml's services as local processes, ``replicas`` of each but the token service."""
    run = uuid.uuid4().hex[:8]
    database = f"{prefix}{run}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    base = free_base()
    data_dir = tmp / f"scaleout-{replicas}"
    env = {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_BASE_PORT": str(base),
        "SWITCHBOARD_CUSTOMERS": str(POPULATION),
        "SWITCHBOARD_DATABASE_URL": _with_database(admin_url, database),
        "SWITCHBOARD_BUS_URL": bus_url,
        "SWITCHBOARD_DEPLOYMENT": f"load-{run}",
    }
    found = Deployment(f"http://127.0.0.1:{base}", data_dir, env["SWITCHBOARD_DATABASE_URL"], database)
    try:
        prepare = await asyncio.create_subprocess_exec(
            *CLI, "prepare", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await prepare.communicate()
        if prepare.returncode != 0:
            raise SystemExit(f"switchboard prepare failed:\n{output.decode(errors='replace')[-3000:]}")

        def spawn(kind: str, *args: str) -> Service:
            log = tmp / f"{kind}-{len(found.services)}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen(
                    [*CLI, "serve", *args, "--reuse-port", "--log-level", "warning"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            found.services.append(Service(kind, popen, log, " ".join(args)))
            return found.services[-1]

        agents = list(Topology.embedded("127.0.0.1", base).agents)
        spawn("tokens", "tokens")
        for _ in range(replicas):
            for system in SYSTEMS:
                spawn("mcp", "mcp", system)
            spawn("gateway", "gateway")
            for agent in agents:
                spawn("agent", "agent", agent)
        deadline = time.monotonic() + START_TIMEOUT
        # The orchestrators read the specialists' cards when they start.
        await _wait_listening(found.services, deadline)
        orchestrators = [spawn("orchestrator", "orchestrator") for _ in range(replicas)]
        await _wait_listening(orchestrators, deadline)
        yield found
    finally:
        _stop(found.services)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


def _latencies(results: Results) -> str:
    parts = []
    for kind, _, _ in TURNS:
        values = results.latencies[kind]
        if values:
            parts.append(f"{kind} {pct(values, 0.5):.0f}/{pct(values, 0.99):.0f}")
    return "  p50/p99 ms: " + ", ".join(parts)


def _phase_line(n: int, results: Results, seconds: float) -> str:
    errors = sum(results.errors.values())
    return (
        f"  N = {n}: {results.turns} turns in {seconds:.1f} s = {results.turns / seconds:.1f} turns/s, "
        f"errors {errors}, shed {results.shed}, load average {os.getloadavg()[0]:.2f}"
    )


Sampler = Callable[[], Awaitable[dict[str, float]]]
"""CPU seconds spent so far, by kind of process."""


async def _idle_rate(sample: Sampler, seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """ms of CPU per second each kind spends with no customer at all (timers, the bus, pools):
    a slow phase would otherwise charge it to its few turns."""
    before = await sample()
    await asyncio.sleep(seconds)
    after = await sample()
    return {kind: 1000 * (after[kind] - before.get(kind, 0.0)) / seconds for kind in after}


def _breakdown(values: dict[str, float]) -> str:
    return ", ".join(f"{kind} {ms:.1f}" for kind, ms in sorted(values.items()))


@dataclass
class Cost:
    """CPU per turn of one phase (ms), all of it and above what the processes spend idle."""

    total: float
    above_idle: float


async def _phase(
    url: str, data_dir: Path, customers: list[list[dict[str, Any]]], sample: Sampler, idle: dict[str, float]
) -> tuple[Results, Cost, float]:
    before = await sample()
    results, seconds = await switchboard_phase(url, data_dir, customers)
    after = await sample()
    turns = max(results.turns, 1)
    by_kind = {kind: 1000 * (after[kind] - before.get(kind, 0.0)) / turns for kind in after}
    total = sum(by_kind.values())
    cost = Cost(total, total - sum(idle.values()) * seconds / turns)
    print(_phase_line(len(customers), results, seconds))
    for error, count in results.errors.most_common(5):
        print(f"  error x{count}: {error}")
    print(_latencies(results))
    print(f"  CPU per turn {total:.1f} ms ({_breakdown(by_kind)}); above idle {cost.above_idle:.1f} ms", flush=True)
    return results, cost, results.turns / seconds


async def _embedded(tmp: Path, levels: list[int]) -> dict[int, Cost]:
    """CPU per turn of the embedded default at each N, in this run."""
    data_dir = tmp / "embedded"
    await prepare_dataset(data_dir, None, customers=POPULATION, seed=7)
    pool = iter(refundable_customers(data_dir, POPULATION))
    costs: dict[int, Cost] = {}
    print("embedded default (switchboard up: SQLite, events in process, its default workers)", flush=True)
    async with switchboard_up(data_dir, POPULATION, None, tmp / "embedded-stack.log") as (url, proc):

        async def sample() -> dict[str, float]:
            return {"up": cpu_seconds(tree(proc.pid))}

        await switchboard_phase(url, data_dir, [[next(pool)]])  # untimed: lazy set-up of each turn kind
        idle = await _idle_rate(sample)
        print(f"  idle: {sum(idle.values()):.0f} ms of CPU per second", flush=True)
        for n in levels:
            _, costs[n], _ = await _phase(url, data_dir, [[next(pool)] for _ in range(n)], sample, idle)
    return costs


async def _scaleout(
    tmp: Path,
    replicas: int,
    levels: list[int],
    admin_url: str,
    bus_url: str,
    embedded: dict[int, Cost],
    prefix: str,
    idle_seconds: float,
) -> dict[int, float]:
    """Turns/s of the per-service layout at each N, and its CPU per turn against the embedded one."""
    throughput: dict[int, float] = {}
    async with deployment(tmp, replicas, admin_url, bus_url, prefix) as found:
        print(
            f"\nper-service layout, {replicas} replica(s) of each service: {len(found.services)} processes, "
            "PostgreSQL + NATS",
            flush=True,
        )
        pool = iter(refundable_customers(found.data_dir, POPULATION, found.database_url))
        admin = await asyncpg.connect(admin_url)

        async def sample() -> dict[str, float]:
            return {**found.cpu_by_kind(), "PostgreSQL": await _backend_cpu(admin, found.database)}

        async def processes() -> dict[str, float]:
            return {**found.cpu_by_process(), "PostgreSQL": await _backend_cpu(admin, found.database)}

        try:
            for _ in range(replicas):  # untimed: each replica's first turn of a kind pays for lazy set-up
                await switchboard_phase(found.url, found.data_dir, [[next(pool)]])
            by_process = await _idle_rate(processes, idle_seconds)
            idle: dict[str, float] = defaultdict(float)
            for process, ms in by_process.items():
                idle[process.split()[0]] += ms  # "mcp crm #2" is of kind "mcp"
            print(f"  idle: {sum(idle.values()):.0f} ms of CPU per second ({_breakdown(idle)})", flush=True)
            print(f"  idle by process: {_breakdown(by_process)}", flush=True)
            for n in levels:
                _, cost, throughput[n] = await _phase(
                    found.url, found.data_dir, [[next(pool)] for _ in range(n)], sample, idle
                )
                if n in embedded:
                    print(
                        f"  against the embedded default: {cost.total / embedded[n].total:.2f}x in all, "
                        f"{cost.above_idle / embedded[n].above_idle:.2f}x above idle",
                        flush=True,
                    )
        finally:
            await admin.close()
    return throughput


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="replicas of each service, per run")
    parser.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=[10, 50],
        help="concurrent customers, per phase (0: the idle CPU only)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "SWITCHBOARD_BENCH_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server on this machine, as a user who may create databases",
    )
    parser.add_argument("--bus", default="nats://127.0.0.1:4222", help="a NATS server with JetStream")
    parser.add_argument(
        "--no-embedded", action="store_true", help="skip the embedded default (no CPU ratio between the layouts)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=IDLE_SECONDS, help="how long the idle CPU of the layout is measured"
    )
    parser.add_argument("--database-prefix", default="sb_load_", help="name of the run's database, before its id")
    args = parser.parse_args()
    if args.clients == [0]:  # idle only: no load phase
        args.clients = []
    if sum(args.clients) + max(args.replicas) > 90:
        raise SystemExit(
            "the reference dataset has about 95 customers with a refundable duplicate charge: fewer clients"
        )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="sb-load-scaleout-") as name:
        tmp = Path(name)
        embedded = {} if args.no_embedded else await _embedded(tmp, args.clients)
        grown: dict[int, dict[int, float]] = {}
        for replicas in args.replicas:
            grown[replicas] = await _scaleout(
                tmp, replicas, args.clients, args.postgres, args.bus, embedded, args.database_prefix, args.idle_seconds
            )
    if len(grown) > 1:
        first, *rest = sorted(grown)
        for replicas in rest:
            print(
                f"\nturns/s, {replicas} replicas against {first}: "
                + ", ".join(
                    f"N = {n} {grown[replicas][n] / grown[first][n]:.2f}x" for n in args.clients if n in grown[first]
                )
            )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
