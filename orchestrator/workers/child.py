"""One process of ``switchboard up --workers``: serves its group's services until told to stop.

Forked by ``orchestrator.workers.zygote`` at the parent's request. It stops on SIGTERM
or SIGINT, and also when the parent is gone however it went (even SIGKILL): the parent holds
the write end of a pipe whose read end every child watches, and the kernel closes that end
when the parent dies, which makes the read end readable (end of file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from orchestrator.workers.plan import Group
from shared.errors import SwitchboardError
from shared.logs import configure_logging
from shared.settings import Settings, Topology

if TYPE_CHECKING:
    from orchestrator.launcher import Stack

log = logging.getLogger("switchboard.workers")


class ChildSpec(BaseModel):
    """What the parent hands a child: its services, their inherited sockets, and where the rest are."""

    group: Group
    sockets: dict[str, int]
    """Service name to the file descriptor of its listening socket."""
    topology: Topology
    agents: list[str]
    data_dir: Path
    base_port: int
    host: str
    log_level: str
    parent_fd: int
    """Read end of the parent's pipe: end of file means the parent is gone."""
    ready_fd: int
    """Write end of the pipe the child reports ``ready`` on."""

    def inherited(self) -> list[int]:
        """The descriptors the child inherits, in the order they travel with the spec."""
        return [*self.sockets.values(), self.parent_fd, self.ready_fd]

    def moved_to(self, fds: list[int]) -> ChildSpec:
        """This spec with its descriptors renumbered to ``fds`` (received in ``inherited`` order)."""
        if len(fds) != len(self.inherited()):
            raise ValueError(f"expected {len(self.inherited())} descriptors, got {len(fds)}")
        *sockets, parent_fd, ready_fd = fds
        return self.model_copy(
            update={
                "sockets": dict(zip(self.sockets, sockets, strict=True)),
                "parent_fd": parent_fd,
                "ready_fd": ready_fd,
            }
        )


async def serve(spec: ChildSpec) -> None:
    """Start the group's services, report ready, and serve until a signal or the parent's exit."""
    from orchestrator.launcher import Stack
    from shared import telemetry
    from shared.bus import open_bus
    from shared.secrets import Secrets
    from shared.serving import settle_heap

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def parent_gone() -> None:
        loop.remove_reader(spec.parent_fd)  # readable at end of file for ever: once is enough
        log.warning("the parent process is gone; stopping")
        stop.set()

    loop.add_reader(spec.parent_fd, parent_gone)
    telemetry.configure("switchboard")
    settings = Settings(data_dir=spec.data_dir, base_port=spec.base_port, host=spec.host)
    # uvicorn's own lines only when debugging, as in the single process.
    stack = Stack(settings, log_level="info" if spec.log_level == "debug" else "warning", agents=tuple(spec.agents))
    stack.secrets = Secrets.load_or_create(settings.data_dir, stack.agents, demo_staff=settings.demo_staff)
    stack.topology = spec.topology
    stack.front_worker, stack.front_workers = spec.group.worker, spec.group.of
    sockets = {name: socket.socket(fileno=fd) for name, fd in spec.sockets.items()}
    try:
        if spec.group.relays_signals:
            stack.bus = await open_bus(
                settings.bus_url, deployment=settings.deployment, retention_seconds=settings.event_retention_seconds
            )
        starting = asyncio.create_task(_start(stack, spec.group, sockets))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting  # raises what made start-up fail
        if not stop.is_set():
            settle_heap()
            os.write(spec.ready_fd, b"ready\n")
        os.close(spec.ready_fd)
        await stopping
    finally:
        await stack.stop()
        for sock in sockets.values():
            sock.close()


async def _start(stack: Stack, group: Group, sockets: dict[str, socket.socket]) -> None:
    if group.is_orchestrator:
        # Signals are recorded here and relayed by the process that holds the bus.
        await stack.start_signals(None)
    for stage in group.stages:
        await stack.start_services({name: sockets[name] for name in stage})
    if group.relays_signals:
        await stack.start_signals(stack.bus)


def run_child(spec: ChildSpec) -> int:
    """Serve the spec's services until told to stop; the process's exit code."""
    name_process(spec.group.name)
    configure_logging(spec.log_level, process=spec.group.name)  # before any MCP server is built (shared.logs)
    from shared.serving import run

    try:
        run(serve(spec))
    except Exception as exc:  # the parent reports the failure; the reason goes to the shared log
        hint = exc.hint if isinstance(exc, SwitchboardError) else None
        log.error("the %s process stopped: %s%s", spec.group.name, exc, f" ({hint})" if hint else "")
        return 1
    return 0


def name_process(name: str) -> None:
    """Show ``name`` for this process where tools list processes (``ps``, ``top``; Linux only):
    the children are forks of one process and would otherwise all show its command line."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name[:15])  # the kernel keeps at most 15 characters
