"""The scale-out topology as separate OS processes (``switchboard serve``) on one PostgreSQL.

Events go through a NATS JetStream server of the fixture's own (``nats-server`` on a free port), as
in ``compose.yaml``. The MCP systems keep their data in PostgreSQL: payments runs twice behind a round-robin
balancer, the other systems share one process; the gateway has its own. The identity and
payment agents run once, the billing agent twice behind a balancer, and two orchestrator
replicas serve the same conversations. Every process is a real ``switchboard`` command.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from shared.serving import bind
from shared.settings import SYSTEMS
from tests.scaleout.balancer import Balancer, balancing
from tests.storage.pg import private_schema

START_TIMEOUT = 240.0  # many cold Python processes on a small shared machine


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: all are bound at once, so the OS cannot hand one out twice."""
    socks = [bind("127.0.0.1", 0) for _ in range(count)]
    try:
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to finish anything."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def stop_all(processes: list[Process], grace: float = 10.0) -> None:
    """SIGTERM to every process at once, then wait for them together; SIGKILL whatever still runs
    after ``grace`` (the schema and the NATS server go next, nothing is left to flush).
    Stopping one after another cost the sum of their shutdowns."""
    running = [p for p in processes if p.popen.poll() is None]
    for process in running:
        process.popen.terminate()
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class ScaleOut:
    data_dir: Path
    database_url: str
    orchestrators: list[Process]
    billing: list[Process]
    balancer: Balancer
    payments: list[Process]
    payments_balancer: Balancer
    processes: list[Process] = field(default_factory=list)
    bus_url: str = ""

    def customers(self, n: int, **flags: object) -> list[dict]:
        return sample_customers(self.data_dir, n, database_url=self.database_url, **flags)

    def latest_code(self, customer_id: str) -> str:
        messages = read_outbox(self.data_dir, customer_id=customer_id, limit=1)
        assert messages, f"no one-time code was sent to {customer_id}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert match, messages[-1]
        return match.group(1)


async def _wait_listening(process: Process, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        if process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited early:\n{process.log.read_text()[-3000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", process.port)
        except OSError:
            if loop.time() > deadline:
                raise AssertionError(f"{process.name} not listening:\n{process.log.read_text()[-3000:]}") from None
            await asyncio.sleep(0.2)  # polling a port that is not open yet; bounded by the deadline
            continue
        writer.close()
        return


def _start_nats(logs: Path) -> Process:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        message = "nats-server is not installed (.ci/run installs it)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    [port] = free_ports(1)
    with (logs / "nats.log").open("wb") as out:
        popen = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(logs / "jetstream")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Process("nats", popen, logs / "nats.log", port)


@asynccontextmanager
async def nats_server(logs: Path) -> AsyncIterator[str]:
    """A JetStream server of this fixture's own: nothing shared with other runs, gone afterwards."""
    process = _start_nats(logs)
    try:
        await _wait_listening(process, asyncio.get_running_loop().time() + START_TIMEOUT)
        yield f"nats://127.0.0.1:{process.port}"
    finally:
        process.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scaleout(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ScaleOut]:
    data_dir = tmp_path_factory.mktemp("scaleout")
    logs = tmp_path_factory.mktemp("scaleout-logs")
    async with private_schema("scaleout") as database_url, nats_server(logs) as bus_url:
        names = ("tokens", "gateway", "identity", "payment", "billing", "b1", "b2", "p1", "p2", "o1", "o2")
        numbers = free_ports(len(names) + len(SYSTEMS))
        ports = dict(zip(names, numbers[: len(names)], strict=True))
        systems = dict(zip(SYSTEMS, numbers[len(names) :], strict=True))
        env = {
            **os.environ,
            "SWITCHBOARD_DATA_DIR": str(data_dir),
            "SWITCHBOARD_CUSTOMERS": "80",
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_DEPLOYMENT": "scaleout",
            "SWITCHBOARD_GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
            "SWITCHBOARD_TOKEN_URL": f"http://127.0.0.1:{ports['tokens']}",
            "SWITCHBOARD_ORCHESTRATOR_URL": f"http://127.0.0.1:{ports['o1']}",
            "SWITCHBOARD_SYSTEM_URLS": json.dumps({s: f"http://127.0.0.1:{p}" for s, p in systems.items()}),
            "SWITCHBOARD_AGENT_URLS": json.dumps(
                [f"http://127.0.0.1:{ports[a]}" for a in ("identity", "billing", "payment")]
            ),
        }
        env["SWITCHBOARD_BUS_URL"] = bus_url
        cli = [sys.executable, "-m", "orchestrator.cli"]
        prepare = await asyncio.create_subprocess_exec(
            *cli, "prepare", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(prepare.communicate(), START_TIMEOUT)
        assert prepare.returncode == 0, output.decode()

        processes: list[Process] = []

        def spawn(name: str, args: list[str], port: int, **extra: str) -> Process:
            log = logs / f"{name}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen(
                    [*cli, "serve", *args], env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT
                )
            process = Process(name, popen, log, port)
            processes.append(process)
            return process

        balancer_url = f"http://127.0.0.1:{ports['billing']}"
        shared_systems = [s for s in SYSTEMS if s != "payments"]
        try:
            async with (
                balancing([("127.0.0.1", ports["b1"]), ("127.0.0.1", ports["b2"])], ports["billing"]) as lb,
                balancing([("127.0.0.1", ports["p1"]), ("127.0.0.1", ports["p2"])], systems["payments"]) as pay_lb,
            ):
                # Everything starts at once, except that the orchestrators need the specialists'
                # cards: they start as soon as the agents listen. A service asks the token service
                # for its first token when it first calls out, by when that answers.
                tokens = spawn("tokens", ["tokens", "--port", str(ports["tokens"])], ports["tokens"])
                backing = [
                    spawn("mcp", ["mcp", *shared_systems], systems["crm"]),
                    # Two payments replicas on one PostgreSQL schema, reached through the balancer
                    # that listens on the payments port the gateway knows.
                    *(
                        spawn(f"payments-{i}", ["mcp", "payments", "--port", str(ports[p])], ports[p])
                        for i, p in ((1, "p1"), (2, "p2"))
                    ),
                    spawn("gateway", ["gateway", "--port", str(ports["gateway"])], ports["gateway"]),
                ]
                agents = [
                    spawn("identity", ["agent", "identity", "--port", str(ports["identity"])], ports["identity"]),
                    spawn("payment", ["agent", "payment", "--port", str(ports["payment"])], ports["payment"]),
                    # Both billing replicas advertise the balancer: callers never pick a replica themselves.
                    *(
                        spawn(
                            f"billing-{i}",
                            ["agent", "billing", "--port", str(ports[b]), "--public-url", balancer_url],
                            ports[b],
                        )
                        for i, b in enumerate(("b1", "b2"), start=1)
                    ),
                ]
                deadline = asyncio.get_running_loop().time() + START_TIMEOUT
                await asyncio.gather(*(_wait_listening(p, deadline) for p in agents))
                orchestrators = [
                    spawn(f"orchestrator-{i}", ["orchestrator", "--port", str(ports[o])], ports[o])
                    for i, o in enumerate(("o1", "o2"), start=1)
                ]
                mcp = backing[0]
                mcp_ports = [Process(f"mcp:{s}", mcp.popen, mcp.log, systems[s]) for s in shared_systems]
                everything = [tokens, *backing, *mcp_ports, *orchestrators]
                await asyncio.gather(*(_wait_listening(p, deadline) for p in everything))
                billing = [p for p in agents if p.name.startswith("billing-")]
                payments = [p for p in backing if p.name.startswith("payments-")]
                yield ScaleOut(data_dir, database_url, orchestrators, billing, lb, payments, pay_lb, processes, bus_url)
        finally:
            stop_all(processes)
