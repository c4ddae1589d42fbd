"""Closed-loop load through the public HTTP API, next to the same hops made with the bare SDKs.

``switchboard up`` runs as its own process, as a user starts it. N simulated customers each
run whole conversations back to back, each turn sent as soon as the previous answer arrived:

    billing question -> verify: email -> verify: code (the billing answer) ->
    refund request (a duplicate charge under the approval threshold) -> refund confirm -> support question

A 503 with Retry-After (shed at capacity) is counted apart and the turn is sent again after it.
Every other failure, and every answer of the wrong agent or status, is an error.

The hops of each turn type (A2A and MCP requests the services receive) are counted once on an
in-process stack; then N clients make exactly those hops against echo servers built with the
bare SDKs (``_hops.bare``), in the same closed loop, and the ratio is printed per turn type and
for the whole conversation. Loopback only; every run is bounded in conversations and time.

    python benchmarks/load.py [--workers 2] [--clients 1 10 50] [--conversations 2] [--large] [--stack-log PATH]

``--workers`` is passed to ``switchboard up`` (default: its own default, the number of cores); with
more than one process the CPU per turn is also printed per process (systems and gateway,
specialists, orchestrator), which is what docs/deploy.md projects larger machines from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _hops import APPROVAL_THRESHOLD_PENCE, CountingStack, pct
from _procs import cpu_by_process, cpu_seconds, free_base, peak_rss_mb, tree

from mcp_servers.dataset import prepare_dataset, sample_customers
from mcp_servers.identity.outbox import read_outbox
from shared.settings import Settings

TURNS: tuple[tuple[str, str, str], ...] = (
    # (turn type, what the customer says, who must answer); "{email}" and "{code}" are filled in
    ("billing-question", "why is my bill so high this month?", "identity"),
    ("verify-email", "it's {email}", "identity"),
    ("verify-code", "{code}", "billing"),
    ("refund-request", "I was charged twice, please refund the duplicate", "payment"),
    ("refund-confirm", "yes please", "payment"),
    ("support-question", "my phone has had no signal since yesterday", "support"),
)
TURN_TIMEOUT = 60.0
PHASE_LIMIT = 600.0  # seconds per N, whatever happens


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    conversations: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    shed: int = 0
    turns: int = 0


def _code(data_dir: Path, customer_id: str) -> str:
    text = read_outbox(data_dir, customer_id=customer_id, limit=1)[-1]["text"]
    match = re.search(r"\b\d{6}\b", text)
    assert match, text
    return match.group(0)


async def _admitted(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str], results: Results
) -> tuple[httpx.Response, float]:
    """POST until admitted, and the admitted attempt's milliseconds: a 503 with Retry-After (shed
    at capacity) is counted and sent again after it, as a client honouring it would. Any other
    answer is returned: a 503 without Retry-After (a service down) is an error, not load shed."""
    while True:
        t0 = time.perf_counter()
        response = await http.post(path, json=body, headers=headers)
        if response.status_code != 503 or "retry-after" not in response.headers:
            return response, (time.perf_counter() - t0) * 1000
        results.shed += 1
        await asyncio.sleep(float(response.headers["retry-after"]))


async def _conversation(http: httpx.AsyncClient, data_dir: Path, customer: dict[str, Any], results: Results) -> None:
    try:
        response, _ = await _admitted(http, "/api/conversations", {"channel": "chat"}, {}, results)
    except httpx.HTTPError as exc:
        results.errors[f"start: {type(exc).__name__}"] += 1
        return
    if response.status_code not in (200, 201):
        results.errors[f"start: {response.status_code}"] += 1
        return
    started = response.json()
    path = f"/api/conversations/{started['conversation_id']}/messages"
    headers = {"Authorization": f"Bearer {started['token']}"}
    began = time.perf_counter()
    for kind, words, agent in TURNS:
        code = _code(data_dir, customer["customer_id"]) if "{code}" in words else ""
        text = words.format(email=customer["email"], code=code)
        try:
            response, elapsed = await _admitted(http, path, {"text": text}, headers, results)
        except httpx.HTTPError as exc:
            results.errors[f"{kind}: {type(exc).__name__}"] += 1
            return
        body = response.json() if response.status_code == 200 else {}
        if response.status_code != 200 or body.get("agent") != agent or body.get("status") in ("failed", "unavailable"):
            results.errors[f"{kind}: {response.status_code} {body.get('agent')} {body.get('status')}"] += 1
            return
        results.latencies[kind].append(elapsed)
        results.turns += 1
    results.conversations.append((time.perf_counter() - began) * 1000)


async def switchboard_phase(url: str, data_dir: Path, customers: list[list[dict[str, Any]]]) -> tuple[Results, float]:
    """Each inner list is one customer's conversations, run back to back; all customers at once."""
    results = Results()
    limits = httpx.Limits(max_connections=len(customers) + 4, keepalive_expiry=15)
    async with httpx.AsyncClient(base_url=url, timeout=TURN_TIMEOUT, limits=limits) as http:

        async def client(own: list[dict[str, Any]]) -> None:
            for customer in own:
                await _conversation(http, data_dir, customer, results)

        began = time.perf_counter()
        async with asyncio.timeout(PHASE_LIMIT):
            await asyncio.gather(*(client(own) for own in customers))
        return results, time.perf_counter() - began


async def _bare_phase(url: str, hops: dict[str, Counter[str]], clients: int, conversations: int) -> Results:
    """The same turns against the bare-SDK floor: one HTTP request each, whose hops its process makes."""
    results = Results()
    limits = httpx.Limits(max_connections=clients + 4, keepalive_expiry=15)
    async with httpx.AsyncClient(base_url=url, timeout=TURN_TIMEOUT, limits=limits) as http:

        async def client() -> None:
            for _ in range(conversations):
                began = time.perf_counter()
                for kind, _, _ in TURNS:
                    t0 = time.perf_counter()
                    response = await http.post("/turn", json={"a2a": hops[kind]["a2a"], "mcp": hops[kind]["mcp"]})
                    response.raise_for_status()
                    results.latencies[kind].append((time.perf_counter() - t0) * 1000)
                    results.turns += 1
                results.conversations.append((time.perf_counter() - began) * 1000)

        async with asyncio.timeout(PHASE_LIMIT):
            await asyncio.gather(*(client() for _ in range(clients)))
    return results


def refundable_customers(data_dir: Path, population: int, database_url: str | None = None) -> list[dict[str, Any]]:
    """Customers whose refund turn goes through at once: a duplicate charge under the approval
    threshold, and no SIM change on their line lately (that pauses every payment, as it should,
    and the conversation would end there)."""
    return [
        c
        for c in sample_customers(
            data_dir, population, database_url=database_url, has_duplicate_charge=True, has_recent_sim_swap=False
        )
        if c["duplicate_charge_pence"] <= APPROVAL_THRESHOLD_PENCE
    ]


async def _count_hops(customer: dict[str, Any]) -> dict[str, Counter[str]]:
    """Run one conversation on an in-process stack and count each turn's A2A and MCP requests."""
    with tempfile.TemporaryDirectory(prefix="sb-load-hops-") as tmp:
        stack = CountingStack(Settings(data_dir=Path(tmp), customers=240))
        async with stack as topology, httpx.AsyncClient(base_url=topology.orchestrator, timeout=TURN_TIMEOUT) as http:
            customer = refundable_customers(Path(tmp), 500)[0]
            started = (await http.post("/api/conversations", json={})).json()
            path = f"/api/conversations/{started['conversation_id']}/messages"
            headers = {"Authorization": f"Bearer {started['token']}"}
            hops: dict[str, Counter[str]] = {}
            for kind, words, agent in TURNS:
                code = _code(Path(tmp), customer["customer_id"]) if "{code}" in words else ""
                before = stack.hops.copy()
                body = (
                    await http.post(
                        path, json={"text": words.format(email=customer["email"], code=code)}, headers=headers
                    )
                ).json()
                assert body["agent"] == agent, (kind, body)
                hops[kind] = stack.hops - before
            return hops


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def _spawn_logged(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """A process whose output (stdout and stderr) goes to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Ctrl+C, as a user stops it."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


UP_LINE = "Switchboard is up"
"""What ``switchboard up`` prints once every process of the stack reported ready."""
START_LIMIT = 180.0
"""Seconds the stack may take to start before the run gives up."""


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _said_up(log: Path) -> bool:
    return UP_LINE in log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def switchboard_up(
    data_dir: Path, customers: int, workers: int | None, log: Path
) -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    """``switchboard up`` with its output in ``log``, once all of it serves.

    Ready means the stack said so (every process of ``up --workers`` reported ready, the further
    orchestrator processes included, which start after the first one answers) and the
    orchestrator's ``/healthz`` answers 200: a 200 alone came while the rest were still starting,
    and their start-up CPU then counted as the first phase's."""
    base = free_base()
    env = {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_BASE_PORT": str(base),
        "SWITCHBOARD_CUSTOMERS": str(customers),
    }
    flags = ["--workers", str(workers)] if workers else []
    proc = _spawn_logged(["-m", "orchestrator.cli", "up", "--log-level", "warning", *flags], env, log)
    url = f"http://127.0.0.1:{base}"
    try:
        try:
            async with httpx.AsyncClient(timeout=2) as http, asyncio.timeout(START_LIMIT):
                while True:
                    if proc.poll() is not None:
                        raise SystemExit(f"switchboard up exited during start-up; the end of {log}:\n{_tail(log)}")
                    if _said_up(log):
                        with contextlib.suppress(httpx.HTTPError):
                            if (await http.get(f"{url}/healthz")).status_code == 200:
                                break
                    await asyncio.sleep(0.1)  # polling a process we do not control; bounded above
        except TimeoutError:
            raise SystemExit(
                f"switchboard up was not ready within {START_LIMIT:.0f} s; the end of {log}:\n{_tail(log)}"
            ) from None
        yield url, proc
    finally:
        _stop(proc)


@contextlib.asynccontextmanager
async def floor_process() -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    """The bare-SDK floor in a process of its own (``_hops.py``), as ``switchboard up`` is."""
    proc = _spawn([str(Path(__file__).with_name("_hops.py"))], dict(os.environ))
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)).strip()
        if not url.startswith("http"):
            raise SystemExit("the bare-SDK floor did not start")
        yield url, proc
    finally:
        _stop(proc)


def _row(name: str, ours: list[float], theirs: list[float]) -> str:
    if not ours:
        return f"  {name:<17} -"
    ratio = statistics.median(ours) / statistics.median(theirs) if theirs else float("nan")
    return (
        f"  {name:<17} n {len(ours):4d}  p50 {statistics.median(ours):8.1f}  p95 {pct(ours, 0.95):8.1f}"
        f"  p99 {pct(ours, 0.99):8.1f} ms   bare p50 {statistics.median(theirs) if theirs else 0:7.1f} ms"
        f"   ratio {ratio:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50], help="concurrent customers, per phase")
    parser.add_argument("--conversations", type=int, default=1, help="whole conversations per customer and phase")
    parser.add_argument("--large", action="store_true", help="also run N = 200 and 400")
    parser.add_argument("--workers", type=int, help="switchboard up --workers (default: its own, the cores)")
    parser.add_argument(
        "--stack-log",
        type=Path,
        default=Path(tempfile.gettempdir()) / "switchboard-load-stack.log",
        help="where the stack's output goes (its end is printed if it fails to start)",
    )
    args = parser.parse_args()
    levels = [*args.clients, *([200, 400] if args.large else [])]
    needed = sum(levels) * args.conversations + 1
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="sb-load-") as tmp:
        data_dir = Path(tmp) / "data"
        # The reference dataset holds at most 1000 customers, about 95 of them with a duplicate
        # charge under the approval threshold; each refund can be made once.
        population = 1000
        await prepare_dataset(data_dir, None, customers=population, seed=7)
        eligible = refundable_customers(data_dir, population)
        if len(eligible) < needed:
            raise SystemExit(
                f"the reference dataset has {len(eligible)} customers with a refundable duplicate charge, and "
                f"{needed} conversations need one each: fewer --clients or --conversations"
            )
        hops = await _count_hops(eligible[0])
        print(
            "hops per turn (1 HTTP each, plus):",
            ", ".join(f"{k} {h['a2a']} A2A + {h['mcp']} MCP" for k, h in hops.items()),
        )
        pool = iter(eligible[1:])
        print(f"the stack's output: {args.stack_log}", flush=True)
        up = switchboard_up(data_dir, population, args.workers, args.stack_log)
        async with up as (url, proc), floor_process() as (floor_url, floor):
            # One untimed conversation each first: the first turn of a kind pays for lazy set-up.
            await switchboard_phase(url, data_dir, [[next(pool)]])
            await _bare_phase(floor_url, hops, 1, 1)
            for n in levels:
                own = [[next(pool) for _ in range(args.conversations)] for _ in range(n)]
                cpu0, floor_cpu0 = cpu_seconds(tree(proc.pid)), cpu_seconds(tree(floor.pid))
                split0 = cpu_by_process(proc.pid)
                ours, seconds = await switchboard_phase(url, data_dir, own)
                cpu = cpu_seconds(tree(proc.pid)) - cpu0
                split = {k: v - split0.get(k, 0.0) for k, v in cpu_by_process(proc.pid).items()}
                theirs = await _bare_phase(floor_url, hops, n, args.conversations)
                floor_cpu = cpu_seconds(tree(floor.pid)) - floor_cpu0
                rss, floor_rss = peak_rss_mb(tree(proc.pid)), peak_rss_mb(tree(floor.pid))
                per_turn, floor_per_turn = 1000 * cpu / max(ours.turns, 1), 1000 * floor_cpu / max(theirs.turns, 1)
                print(
                    f"\nN = {n}: {ours.turns} turns in {seconds:.1f} s = {ours.turns / seconds:.1f} turns/s, "
                    f"errors {sum(ours.errors.values())}, shed {ours.shed}, load average {os.getloadavg()[0]:.2f}"
                )
                print(
                    f"  CPU per turn {per_turn:.1f} ms (bare {floor_per_turn:.1f});"
                    f" peak RSS {rss:.0f} MB (bare {floor_rss:.0f})"
                )
                if len(split) > 1:
                    print(
                        "  CPU per turn by process: "
                        + ", ".join(f"{k} {1000 * v / max(ours.turns, 1):.1f} ms" for k, v in sorted(split.items()))
                    )
                for error, count in ours.errors.most_common(5):
                    print(f"  error x{count}: {error}")
                for kind, _, _ in TURNS:
                    print(_row(kind, ours.latencies[kind], theirs.latencies[kind]))
                print(_row("conversation", ours.conversations, theirs.conversations), flush=True)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
