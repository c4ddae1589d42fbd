"""``switchboard up``: every service on loopback until Ctrl+C.

``--workers N`` (default: the number of cores) spreads the services over processes so every
core works: one for the systems and the gateway, the specialists over the rest, one for the
orchestrator (``orchestrator.workers``). ``--workers 1`` runs everything in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from orchestrator.commands._common import add_common, settings_from
from shared.errors import ConfigurationError


def default_workers() -> int:
    """The cores this process may use (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def cmd_up(args: argparse.Namespace) -> int:
    from orchestrator.launcher import Stack, print_topology
    from orchestrator.workers import ProcessStack

    settings = settings_from(args)
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise ConfigurationError(f"--workers must be at least 1 (got {workers})")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "debug":
        # Per-request lines from the HTTP clients and SDKs drown what Switchboard itself says.
        for noisy in ("httpx", "httpx2", "a2a", "mcp", "uvicorn"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"Starting Switchboard: seeding the reference dataset in {settings.data_dir} if needed ...", flush=True)
        if workers == 1:
            stack = Stack(settings, log_level="warning" if args.log_level != "debug" else "info")
            async with stack as topology:
                assert stack.secrets is not None
                print_topology(topology, stack.secrets, settings.data_dir)
                sys.stdout.flush()
                await stop.wait()
                print("Stopping Switchboard ...", flush=True)
            print("Stopped.", flush=True)
            return 0
        processes = ProcessStack(settings, workers=workers, log_level=args.log_level)
        starting = asyncio.create_task(processes.start())
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                starting.cancel()
                with contextlib.suppress(BaseException):
                    await starting
                print("Stopping Switchboard ...", flush=True)
                return 0
            topology = starting.result()
            assert processes.secrets is not None
            print_topology(topology, processes.secrets, settings.data_dir)
            layout = ", ".join(f"{c.group.name} (pid {c.pid})" for c in processes.children)
            print(f"  {len(processes.children)} processes   {layout}", flush=True)
            exited = asyncio.create_task(processes.exited())
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set():
                child = exited.result()
                print(f"The {child.group.name} process exited ({child.process.returncode}); stopping Switchboard ...")
                return 1
            exited.cancel()
            print("Stopping Switchboard ...", flush=True)
            return 0
        finally:
            stopping.cancel()
            await processes.stop()
            print("Stopped.", flush=True)

    return asyncio.run(run())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="start every service on loopback (embedded default) until Ctrl+C")
    add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--workers",
        type=int,
        help="processes to spread the services over (default: the number of cores; 1 runs them all in one)",
    )
    p.set_defaults(func=cmd_up)
