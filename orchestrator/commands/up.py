"""``switchboard up``: every service on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from orchestrator.commands._common import add_common, settings_from

if TYPE_CHECKING:
    from orchestrator.launcher import Stack


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
            print_topology(topology, stack.secrets, settings.data_dir)
            await asyncio.to_thread(_warn_overlaps)
            watcher = _watch(stack, stop) if args.reload else None
            sys.stdout.flush()
            await stop.wait()
            if watcher is not None:
                await watcher
            print("Stopping Switchboard ...", flush=True)
        print("Stopped.", flush=True)

    asyncio.run(run())
    return 0


def _warn_overlaps() -> None:
    """A skill added since the last start may repeat another's examples: say so before customers find out."""
    from orchestrator.routing.overlap import overlap_warnings
    from shared.skills import load_skills

    skills = load_skills()
    for warning in overlap_warnings(skills, [s.name for s in skills]):
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="start every service on loopback (embedded default) until Ctrl+C")
    add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--reload",
        action="store_true",
        help="reload skills and policies when their files change (a change that fails validation is refused "
        "and logged; the running set stays)",
    )
    p.set_defaults(func=cmd_up)
