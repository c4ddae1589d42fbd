"""``switchboard up``: every service on loopback until Ctrl+C.

``--workers N`` (default: the number of cores) spreads the services over processes so every
core works: one for the systems and the gateway, the specialists over the rest, one for the
orchestrator, two or more from three workers on (``orchestrator.workers.plan``). ``--workers 1``
runs everything in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.errors import ConfigurationError
from shared.logs import configure_logging

WORKERS_SUPPORTED = hasattr(os, "pidfd_open")
"""Worker processes are forked and watched through pidfds, which only Linux has."""


def default_workers() -> int:
    """The cores this process may use (its CPU affinity), at least one; one where worker
    processes are not supported."""
    if not WORKERS_SUPPORTED:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


if TYPE_CHECKING:
    from orchestrator.launcher import Stack
    from orchestrator.workers.forking import Forker


def cmd_up(args: argparse.Namespace) -> int:
    # Reloading restarts services inside one process, so --reload keeps them all in one.
    workers = 1 if args.reload else default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise ConfigurationError(f"--workers must be at least 1 (got {workers})")
    if workers > 1 and not WORKERS_SUPPORTED:
        raise ConfigurationError(
            f"--workers {workers} needs Linux (worker processes are watched through pidfds)",
            hint="leave --workers out (one process here), or run the compose layout to use more cores",
        )
    forker = None
    if workers > 1:
        from orchestrator.workers.forking import Forker

        # First of all: the process that forks the children imports most of what they need (most
        # of their start) while this one imports its own and prepares the data directory.
        forker = Forker()
        forker.start()
    try:
        return _up(args, workers, forker)
    finally:
        if forker is not None:
            forker.abandon()  # when the stack did not take it (a bad setting): it exits by itself


def _up(args: argparse.Namespace, workers: int, forker: Forker | None) -> int:
    from orchestrator.launcher import Stack
    from orchestrator.stack_topology import print_topology
    from orchestrator.workers.parent import ProcessStack

    settings = settings_from(args)
    configure_logging(args.log_level)  # before any MCP server is built (shared.logs)

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"Starting Switchboard: seeding the reference dataset in {settings.data_dir} if needed ...", flush=True)
        if workers == 1:
            from shared.serving import settle_heap

            gc.disable()  # until the stack serves: settle_heap collects once and turns it back on
            stack = Stack(settings, log_level="warning" if args.log_level != "debug" else "info")
            async with stack as topology:
                assert stack.secrets is not None
                print_topology(topology, stack.secrets, settings.data_dir, demo=settings.demo_staff)
                settle_heap()
                await asyncio.to_thread(_warn_overlaps, settings.router_cache_dir)
                watcher = _watch(stack, stop) if args.reload else None
                sys.stdout.flush()
                purging = asyncio.create_task(_purge_on_schedule(settings))
                await stop.wait()
                purging.cancel()
                if watcher is not None:
                    await watcher
                print("Stopping Switchboard ...", flush=True)
            print("Stopped.", flush=True)
            return 0
        processes = ProcessStack(settings, workers=workers, log_level=args.log_level, forker=forker)
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
            print_topology(topology, processes.secrets, settings.data_dir, demo=settings.demo_staff)
            layout = ", ".join(f"{c.group.name} (pid {c.pid})" for c in processes.children)
            print(f"  {len(processes.children)} processes   {layout}", flush=True)
            exited = asyncio.create_task(processes.exited())
            purging = asyncio.create_task(_purge_on_schedule(settings))
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            purging.cancel()
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

    if workers > 1:
        # With workers the parent only starts and watches them, in process groups of their own, which
        # uvloop's subprocess support cannot set up: it keeps asyncio's loop, the children run uvloop.
        # Nor does it import the HTTP server: everything it imports delays the children's start.
        return asyncio.run(run())
    from shared.http_stack import use_one_http_stack
    from shared.serving import run as run_loop

    # Only where services run: the parent of --workers makes no HTTP call, and httpx2 would delay its children.
    use_one_http_stack()
    return run_loop(run())


def _warn_overlaps(cache_dir: Path) -> None:
    """A skill added since the last start may repeat another's examples: say so before customers find out."""
    from orchestrator.skill_overlaps import overlap_warnings_cached
    from shared.skills import load_skills

    for warning in overlap_warnings_cached(load_skills(), cache_dir):
        logging.getLogger("switchboard.skills").warning("%s", warning)


def _watch(stack: Stack, stop: asyncio.Event) -> asyncio.Task[None]:
    """``--reload``: follow the skill and policy files until ``stop`` is set."""
    from gateway.policy import DEFAULT_POLICY_DIR
    from orchestrator.reload import Reloader, StackServices, gateway_policy_reload
    from shared.skills import SKILLS_DIR

    assert stack.secrets is not None and stack.topology is not None
    _, token = stack.secrets.staff_token("admin")
    reloader = Reloader(
        skills_dir=SKILLS_DIR,
        policy_dir=DEFAULT_POLICY_DIR,
        services=StackServices(stack),
        reload_policies=gateway_policy_reload(stack.topology.gateway, token),
    )
    print(f"Reloading on changes to {SKILLS_DIR} and {DEFAULT_POLICY_DIR}", flush=True)
    return asyncio.create_task(reloader.watch(stop), name="reload")


async def _purge_on_schedule(settings: Any) -> None:
    """The data directory's retention (transcripts, outbox, signals), at start and then every interval;
    the gateway prunes its audit classes on the same schedule itself."""
    from orchestrator.retention import Retention, purge_everywhere

    retention = Retention(
        transcripts_days=settings.retention_transcripts_days,
        outbox_days=settings.retention_outbox_days,
        signals_days=settings.retention_signals_days,
    )
    if retention == Retention():
        return
    while True:
        try:
            purged = await asyncio.to_thread(purge_everywhere, settings.data_dir, settings.database_url, retention)
            if purged.counts:
                print(f"retention: {purged.counts}", flush=True)
        except Exception as exc:  # a busy file is tried again next time
            print(f"retention could not run: {exc}", file=sys.stderr, flush=True)
        await asyncio.sleep(settings.retention_interval_seconds)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "up")
    add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--reload",
        action="store_true",
        help="reload skills and policies when their files change (a change that fails validation is refused "
        "and logged; the running set stays); runs every service in one process",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="processes to spread the services over (default: the number of cores; 1 runs them all in one)",
    )
    p.set_defaults(func=cmd_up)
