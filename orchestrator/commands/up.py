"""``switchboard up``: every service on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from orchestrator.commands._common import add_common, settings_from


def cmd_up(args: argparse.Namespace) -> int:
    from orchestrator.launcher import Stack, print_topology

    settings = settings_from(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "debug":
        # Per-request lines from the HTTP clients and SDKs drown what Switchboard itself says.
        for noisy in ("httpx", "httpx2", "a2a", "mcp", "uvicorn"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"Starting Switchboard: seeding the reference dataset in {settings.data_dir} if needed ...", flush=True)
        stack = Stack(settings, log_level="warning" if args.log_level.upper() != "DEBUG" else "info")
        async with stack as topology:
            assert stack.secrets is not None
            print_topology(topology, stack.secrets, settings.data_dir, demo=settings.demo_staff)
            sys.stdout.flush()
            await stop.wait()
            print("Stopping Switchboard ...", flush=True)
        print("Stopped.", flush=True)

    asyncio.run(run())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="start every service on loopback (embedded default) until Ctrl+C")
    add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_up)
