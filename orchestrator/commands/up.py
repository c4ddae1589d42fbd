"""``switchboard up``: every service on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

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
            purging = asyncio.create_task(_purge_on_schedule(settings))
            await stop.wait()
            purging.cancel()
            print("Stopping Switchboard ...", flush=True)
        print("Stopped.", flush=True)

    asyncio.run(run())
    return 0


async def _purge_on_schedule(settings: Any) -> None:
    """The data directory's retention (transcripts, outbox, signals), at start and then every interval;
    the gateway prunes its audit classes on the same schedule itself."""
    from orchestrator.retention import Retention, purge

    retention = Retention(
        transcripts_days=settings.retention_transcripts_days,
        outbox_days=settings.retention_outbox_days,
        signals_days=settings.retention_signals_days,
    )
    if retention == Retention():
        return
    while True:
        try:
            purged = await asyncio.to_thread(purge, settings.data_dir, retention)
            if purged.counts:
                print(f"retention: {purged.counts}", flush=True)
        except Exception as exc:  # a busy file is tried again next time
            print(f"retention could not run: {exc}", file=sys.stderr, flush=True)
        await asyncio.sleep(settings.retention_interval_seconds)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="start every service on loopback (embedded default) until Ctrl+C")
    add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_up)
