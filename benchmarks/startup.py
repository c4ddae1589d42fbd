"""Time from ``switchboard up`` to the orchestrator's first HTTP 200, as a user starts it.

One untimed start seeds the data directory; then each timed start is a new ``switchboard up``
process on the same data (warm: the dataset and the bytecode exist), stopped with Ctrl+C
(SIGINT) once ``/healthz`` answers. The bytecode goes to a cache of the run's own
(``PYTHONPYCACHEPREFIX``), written by the untimed start even where ``PYTHONDONTWRITEBYTECODE`` is
set: without it every start compiled the whole source tree again, which an installed wheel
never does (pip compiles it at install). It also prints how long ``import orchestrator.cli`` takes in
a fresh interpreter, and which heavy libraries a started stack never needed.

    python benchmarks/startup.py [--samples 5] [--workers 1]

It also prints the CPU seconds all of ``switchboard up``'s processes spent until the first 200, in
all and by process (``up`` itself and each worker group's child): on a shared machine the
wall-clock time mostly measures the other load, the CPU time does not.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _procs import cpu_by_process, free_base

HEAVY = ("sklearn", "scipy", "sqlalchemy", "nats", "litellm", "opentelemetry.sdk")


def _warm_env(tmp: Path) -> dict[str, str]:
    """The environment of every start: bytecode cached under ``tmp`` once, then read."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def _start(data_dir: Path, base: int, workers: int | None, limit: float = 120) -> tuple[float, dict[str, float], float]:
    """Seconds to the first 200 (at most ``limit``), CPU seconds each process spent by then, and
    seconds to a clean exit after SIGINT."""
    env = {
        **_warm_env(data_dir.parent),
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_BASE_PORT": str(base),
        # Each server may take as long as the whole start: the first one trains the router, minutes
        # on a loaded machine, past a server's default limit.
        "SWITCHBOARD_READY_TIMEOUT_SECONDS": str(limit),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "up", "--log-level", "warning"]
        + (["--workers", str(workers)] if workers else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{base}/healthz"
    try:
        while True:
            if proc.poll() is not None:
                stderr = proc.stderr.read().decode() if proc.stderr is not None else ""
                raise SystemExit(f"switchboard up exited: {stderr[-2000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > limit:
                raise SystemExit(f"no 200 within {limit:.0f} s")
            time.sleep(0.01)  # polling a process we do not control; bounded above
        up = time.perf_counter() - started
        cpu = cpu_by_process(proc.pid)
        stopping = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        return up, cpu, time.perf_counter() - stopping
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _import_seconds(tmp: Path) -> float:
    code = "import time; t = time.perf_counter(); import orchestrator.cli; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=_warm_env(tmp), check=True, capture_output=True, text=True
    ).stdout
    return float(out)


def _loaded_heavy(data_dir: Path) -> list[str]:
    """Which heavy libraries a started stack imported (in-process, one start)."""
    code = (
        "import asyncio, sys\n"
        "from orchestrator.launcher import Stack\n"
        "from shared.settings import Settings\n"
        f"s = Settings(data_dir={str(data_dir)!r})\n"
        "async def main():\n"
        "    stack = Stack(s, ephemeral_ports=True)\n"
        "    await stack.start(); await stack.stop()\n"
        "asyncio.run(main())\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_warm_env(data_dir.parent), check=True, capture_output=True, text=True
    ).stdout
    return out.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--workers", type=int, help="switchboard up --workers (default: its own, the cores)")
    args = parser.parse_args()
    # A stopped stack's last bytecode writes may still land while the directory is removed.
    with tempfile.TemporaryDirectory(prefix="switchboard-startup-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(tmp) / "data"
        base = free_base()
        # It compiles the whole source tree and trains the router: on a loaded machine, minutes.
        seed_up, _, _ = _start(data_dir, base, args.workers, limit=900)
        print(f"first start (seeds the dataset, trains the router): {seed_up:.2f} s")
        ups: list[float] = []
        cpus: list[dict[str, float]] = []
        downs: list[float] = []
        for _ in range(args.samples):
            up, cpu, down = _start(data_dir, base, args.workers)
            ups.append(up)
            cpus.append(cpu)
            downs.append(down)
        imports = statistics.median(_import_seconds(Path(tmp)) for _ in range(3))
        heavy = _loaded_heavy(data_dir)
    print(
        f"warm start to first 200, {args.samples} starts: median {statistics.median(ups):.2f} s, "
        f"min {min(ups):.2f} s, max {max(ups):.2f} s"
    )
    print(f"CPU seconds of every process until then: median {statistics.median(sum(c.values()) for c in cpus):.2f} s")
    names = sorted({name for c in cpus for name in c}, key=lambda n: (n != "up", n))
    by_process = ", ".join(f"{n} {statistics.median(c.get(n, 0.0) for c in cpus):.2f}" for n in names)
    print(f"  by process, median: {by_process}")
    print(f"Ctrl+C to exit: median {statistics.median(downs):.2f} s")
    print(f"import orchestrator.cli in a fresh interpreter: median {imports:.2f} s")
    print(f"heavy libraries a started stack loaded: {' '.join(heavy) or 'none'} (of {' '.join(HEAVY)})")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
