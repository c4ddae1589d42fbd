"""The parent of ``switchboard up --workers``: prepares once, starts the children, stops them all.

Start-up: the process that forks the children (``zygote``) starts first and imports the
libraries every child needs while the dataset and credentials are prepared here once. Every
service's socket is bound and set listening here, so the topology is known before any child
runs and a request that arrives while its service is still starting waits in the socket's queue
instead of being refused. All children are then forked at once from the zygote's warm copy
(each imports only what its own services add, in parallel) and each reports ready on a pipe of
its own; only the second and further orchestrator processes wait for the rest to be ready. Each
of those gets a socket of its own bound to the orchestrator's port (SO_REUSEPORT), so the kernel
spreads new connections over the orchestrator processes.

Stopping: ``stop()`` sends SIGTERM to the children in reverse start order and waits (SIGKILL
after a grace period), then ends the zygote. The zygote and the children it forks run in a
process group of their own, so a Ctrl+C at the terminal reaches only the parent, which stops
them in order. Should the parent die without stopping them (SIGKILL), each child sees its
parent pipe close and stops itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field

from orchestrator.workers.child import ChildSpec
from orchestrator.workers.forking import Forked, Forker
from orchestrator.workers.plan import ORCHESTRATOR_SERVICE, Group, plan
from shared.errors import ConfigurationError
from shared.secrets import Secrets
from shared.settings import Settings, Topology
from shared.sockets import bind

log = logging.getLogger("switchboard.workers")

SPREAD_BY_KERNEL = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Linux balances connections over sockets bound to one port with SO_REUSEPORT (by a hash of
each connection's addresses); other systems do not, so there the processes share one socket."""
BACKLOG = 2048
"""Connections a socket queues while its service starts (and under load)."""
GRACE_SECONDS = 20.0
"""How long a child has to stop after SIGTERM before it is killed."""


@dataclass
class Child:
    group: Group
    process: Forked
    ready_fd: int

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class ProcessStack:
    """The embedded default over ``workers`` processes. Use ``async with ProcessStack(...) as topology``."""

    settings: Settings
    workers: int
    log_level: str = "info"
    ephemeral_ports: bool = False
    topology: Topology | None = None
    secrets: Secrets | None = None
    children: list[Child] = field(default_factory=list)
    forker: Forker | None = None
    """The zygote's end, if the caller started it already (``switchboard up`` does, before its own
    imports); ``start`` starts one otherwise. Stopping the stack closes it either way."""
    _parent_fd: int | None = None
    _extra_sockets: list[socket.socket] = field(default_factory=list)

    async def __aenter__(self) -> Topology:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> Topology:
        from orchestrator.launcher import Stack

        if self.forker is None:
            self.forker = Forker()
            self.forker.start()  # its imports run while the data directory is prepared
        stack = Stack(self.settings, ephemeral_ports=self.ephemeral_ports)
        try:
            await stack.prepare()
        except BaseException:
            await self.stop()
            raise
        groups = plan(self.workers, stack.agents)
        later = [g for g in groups if g.is_orchestrator and g.worker > 0]
        sockets = stack.layout(frozenset({ORCHESTRATOR_SERVICE}) if later and SPREAD_BY_KERNEL else frozenset())
        self.topology, self.secrets = stack.topology, stack.secrets
        assert self.topology is not None
        watch_read, self._parent_fd = os.pipe()
        try:
            for sock in sockets.values():
                sock.listen(BACKLOG)
            # Further orchestrator processes start once the first serves: they then load the
            # router's weights it cached instead of training them too, and do not compete with
            # the rest of the stack for the cores while it starts.
            started = [await self._spawn(g, sockets, stack.agents, watch_read) for g in groups if g not in later]
            self.children.extend(started)
            await _wait_ready(started)
            started = [await self._spawn(g, self._front(sockets), stack.agents, watch_read) for g in later]
            self.children.extend(started)
            await _wait_ready(started)
        except BaseException:
            await self.stop()
            raise
        finally:
            # The children hold their own copies now; the ports close when the last holder exits.
            os.close(watch_read)
            for sock in [*sockets.values(), *self._extra_sockets]:
                sock.close()
            self._extra_sockets.clear()
        return self.topology

    def _front(self, sockets: dict[str, socket.socket]) -> dict[str, socket.socket]:
        """The sockets of a further orchestrator process: on Linux an orchestrator socket of its own
        on the same port, so the kernel spreads new connections evenly over the processes (on one
        shared socket, whichever process is waiting in accept first takes them, and one process
        took nearly every connection while the other idled); elsewhere the shared one."""
        if not SPREAD_BY_KERNEL:
            return sockets
        port = sockets[ORCHESTRATOR_SERVICE].getsockname()[1]
        own = bind(self.settings.host, port, reuse_port=True)
        own.listen(BACKLOG)
        self._extra_sockets.append(own)
        return {**sockets, ORCHESTRATOR_SERVICE: own}

    async def _spawn(
        self, group: Group, sockets: dict[str, socket.socket], agents: tuple[str, ...], watch: int
    ) -> Child:
        assert self.topology is not None
        ready_read, ready_write = os.pipe()
        spec = ChildSpec(
            group=group,
            sockets={name: sockets[name].fileno() for name in group.services},
            topology=self.topology,
            agents=list(agents),
            data_dir=self.settings.data_dir,
            base_port=self.settings.base_port,
            host=self.settings.host,
            log_level=self.log_level,
            parent_fd=watch,
            ready_fd=ready_write,
        )
        assert self.forker is not None
        try:
            process = await self.forker.fork(spec)
        except BaseException:
            os.close(ready_read)
            raise
        finally:
            os.close(ready_write)
        return Child(group, process, ready_read)

    async def exited(self) -> Child:
        """Wait until any child exits (it should not while the stack runs) and return it."""
        waits = {asyncio.create_task(child.process.wait()): child for child in self.children}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        return waits[done.pop()]

    async def stop(self) -> None:
        """Stop every child: the orchestrator processes first (no new turns), then the rest
        together; kill one that does not stop in time."""
        fronts = [child for child in self.children if child.group.is_orchestrator]
        await asyncio.gather(*(_stop(child) for child in fronts))
        await asyncio.gather(*(_stop(child) for child in self.children if child not in fronts))
        self.children.clear()
        if self.forker is not None:
            await self.forker.close()
            self.forker = None
        if self._parent_fd is not None:
            os.close(self._parent_fd)
            self._parent_fd = None


async def _wait_ready(children: list[Child]) -> None:
    async def ready(child: Child) -> None:
        try:
            said = await asyncio.to_thread(os.read, child.ready_fd, 64)
        finally:
            os.close(child.ready_fd)
        if said.strip() != b"ready":
            raise ConfigurationError(
                f"the {child.group.name} process ({', '.join(child.group.services)}) failed to start",
                hint="the log lines above say why",
            )

    await asyncio.gather(*(ready(child) for child in children))


async def _stop(child: Child) -> None:
    if child.process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        child.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(child.process.wait(), GRACE_SECONDS)
    except TimeoutError:
        log.warning("the %s process did not stop in %.0f s; killing it", child.group.name, GRACE_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()
