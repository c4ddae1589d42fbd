"""The parent's end of ``orchestrator.workers.zygote``: start it, have it fork children, watch them.

A forked child is the zygote's child, not the parent's, so the parent holds a pidfd of each (the
zygote sends it as the child starts): it signals the child through it, which cannot reach
another process that later takes the same pid, and it sees the child exit when the pidfd turns
readable. The exit code comes from the zygote, which reaps its children.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from orchestrator.workers.child import ChildSpec

MAX_MESSAGE = 4096


class Forked:
    """A child forked by the zygote: what ``asyncio.subprocess.Process`` offers for one we started."""

    def __init__(self, pid: int, pidfd: int, code: asyncio.Future[int | None]) -> None:
        self.pid = pid
        self._pidfd: int | None = pidfd
        self._code = code
        self._exit_seen: asyncio.Future[None] | None = None

    @property
    def returncode(self) -> int | None:
        """The exit code once it exited (None while it runs, or if the zygote died before telling)."""
        return self._code.result() if self._code.done() else None

    def send_signal(self, sig: int) -> None:
        """Signal the child; ProcessLookupError once it exited."""
        if self._pidfd is None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._pidfd, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int | None:
        """Wait until the child exits; its exit code. Any number of callers may wait at once."""
        await asyncio.shield(self._seen())
        # The zygote reaps it and says so right after; should the zygote be dead, it says nothing.
        return await asyncio.shield(self._code)

    def _seen(self) -> asyncio.Future[None]:
        """Done when the child exited (its pidfd turns readable), watched once for every waiter."""
        loop = asyncio.get_running_loop()
        if self._exit_seen is None:
            self._exit_seen = loop.create_future()
            if self._pidfd is None:
                self._exit_seen.set_result(None)
            else:
                loop.add_reader(self._pidfd, self._on_exit)
        return self._exit_seen

    def _on_exit(self) -> None:
        assert self._pidfd is not None and self._exit_seen is not None
        asyncio.get_running_loop().remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = None
        self._exit_seen.set_result(None)


class Forker:
    """Starts the zygote and asks it for children. ``start`` first, ``close`` last.

    ``start`` needs no event loop: ``switchboard up`` starts the zygote before it imports what it
    needs itself, so the zygote's imports (most of a child's start) run meanwhile on another core.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._watching: asyncio.AbstractEventLoop | None = None
        """The loop that reads what the zygote says, from the first fork on."""
        self._starting: collections.deque[asyncio.Future[tuple[int, int]]] = collections.deque()
        self._codes: dict[int, asyncio.Future[int | None]] = {}

    def start(self) -> None:
        """Start the zygote; it imports the shared libraries while the caller goes on."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator.workers.zygote", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                # A group of its own, kept by the children it forks: the terminal's Ctrl+C reaches the
                # parent only, which stops the children in order.
                process_group=0,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours

    async def fork(self, spec: ChildSpec) -> Forked:
        """A new child running ``spec``'s services on its descriptors (sent, not kept, by the zygote)."""
        if self._sock is None:
            raise ConfigurationError("the process that starts the others is not running")
        loop = asyncio.get_running_loop()
        if self._watching is None:
            # What the zygote says waits in the socket until the loop that forks children reads it.
            loop.add_reader(self._sock, self._receive)
            self._watching = loop
        started: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._starting.append(started)
        socket.send_fds(self._sock, [spec.model_dump_json().encode()], spec.inherited())
        pid, pidfd = await started
        return Forked(pid, pidfd, self._code(pid))

    async def close(self) -> None:
        """End the zygote (its children keep running; stop them first)."""
        self.abandon()
        if self._process is not None:
            await asyncio.to_thread(self._process.wait)  # it exits at the end of file, after its imports
            self._process = None

    def abandon(self) -> None:
        """Close this end without waiting: the zygote exits on its own at the end of file (for a
        caller that fails before it has an event loop)."""
        if self._sock is not None:
            if self._watching is not None:
                self._watching.remove_reader(self._sock)
                self._watching = None
            self._sock.close()
            self._sock = None
            self._zygote_gone()

    def _code(self, pid: int) -> asyncio.Future[int | None]:
        if pid not in self._codes:
            self._codes[pid] = asyncio.get_running_loop().create_future()
        return self._codes[pid]

    def _receive(self) -> None:
        assert self._sock is not None
        try:
            message, fds, _, _ = socket.recv_fds(self._sock, MAX_MESSAGE, 1)
        except BlockingIOError:
            return
        if not message:
            asyncio.get_running_loop().remove_reader(self._sock)
            self._watching = None
            self._zygote_gone()
            return
        kind, pid, *rest = message.decode().split()
        if kind == "started":
            self._starting.popleft().set_result((int(pid), fds[0]))
        elif kind == "exited":
            future = self._code(int(pid))
            if not future.done():
                future.set_result(int(rest[0]))

    def _zygote_gone(self) -> None:
        while self._starting:
            started = self._starting.popleft()
            if not started.done():
                started.set_exception(
                    ConfigurationError("the process that starts the others exited", hint="the log lines above say why")
                )
        for future in self._codes.values():
            if not future.done():
                future.set_result(None)
        self._codes.clear()
