"""Serving an ASGI app with uvicorn on a socket we bound ourselves.

Binding first lets a caller know every URL (ports included) before any app is built, which
AgentCards and the topology need. Start-up is announced on an event rather than polled.

This is the one module that reaches into uvicorn's ``Server`` beyond its documented surface: it
overrides ``capture_signals`` (uvicorn installs process-wide SIGINT/SIGTERM handlers per server,
and with many servers on one loop the last one wins, so the owner handles signals itself) and
extends ``startup`` (to set an event instead of polling ``started``). Neither is a speed trick;
there is no public switch for either. pyproject pins uvicorn's minor series, and
tests/shared/test_serving.py fails loudly when an upgrade changes either hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from shared.errors import ConfigurationError
from shared.sockets import bind, url_of
from shared.telemetry_asgi import ServiceName

__all__ = ["CLIENT_KEEP_ALIVE_SECONDS", "RunningServer", "bind", "serving", "settle_heap", "start", "url_of"]

SERVER_KEEP_ALIVE_SECONDS = 30.0
"""How long our servers keep an idle connection open."""
CLIENT_KEEP_ALIVE_SECONDS = 15.0
"""How long our clients reuse an idle connection: well under the server's, so the client always
closes first and never sends a request down a socket the server is closing at that moment."""
READY_TIMEOUT_SECONDS = 120.0
"""How long a server may take to start by default (``Settings.ready_timeout_seconds``)."""
READY_TIMEOUT_SETTING = "SWITCHBOARD_READY_TIMEOUT_SECONDS"
"""The setting that raises it, named in the error when a server is not ready in time."""
SHUTDOWN_GRACE_SECONDS = 5
"""How long a stopping server lets open requests finish before cancelling them. Some never
finish by themselves (an MCP session's event stream, a web chat's live updates); without a
bound a stop waited for the far end to hang up, tens of seconds, past a container's SIGKILL."""


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (not on Windows), else None: asyncio's own.

    Every hop of a turn is loopback HTTP, so the loop's socket and scheduling work is a large part
    of what a turn costs; uvloop does it in C (``benchmarks/load.py`` measures the difference).
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def settle_heap() -> None:
    """Call once a process has started serving: what start-up built stays out of garbage collection.

    Start-up leaves hundreds of thousands of objects that live as long as the process (modules,
    compiled skill graphs, models, cards, routing tables). Every full collection walked them all: 100-140
    ms of CPU each (measured in each ``up --workers`` process under load), during which the event
    loop, and so every turn in flight there, stood still. Frozen, they are never walked again; what
    turns create is collected as before. Garbage made during start-up is collected first, or it
    would be frozen too. Collection is on from here, whether or not start-up paused it (``switchboard
    up`` starts its processes with collection off: collections during start-up walked what it was
    still building, again and again).
    """
    gc.collect()
    gc.freeze()
    gc.enable()


def run[T](main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop every Switchboard process serves on (``event_loop_factory``)."""
    return asyncio.run(main, loop_factory=event_loop_factory())


class _Server(uvicorn.Server):
    """Announces start-up on ``ready``; leaves signal handling to its owner (many servers, one loop)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


@dataclass
class RunningServer:
    name: str
    server: _Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception, SystemExit):
            await self.task


async def start(
    name: str,
    app: ASGIApp,
    sock: socket.socket,
    *,
    log_level: str = "warning",
    timeout: float = READY_TIMEOUT_SECONDS,
) -> RunningServer:
    """Serve ``app`` on ``sock`` and return once it accepts connections (or say why it did not).

    Raises ConfigurationError naming ``name`` when it fails to start, or when it is not ready within
    ``timeout`` seconds."""
    # Spans made while serving report this service's own service.name ("switchboard-agent-payment").
    app = ServiceName(app, "switchboard-" + name.replace(":", "-"))
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="auto",
        # The C parser (uvicorn's own choice when installed, named so a missing one fails loudly).
        http="httptools",
        # No service speaks WebSocket (live updates are server-sent events): "none" spares every
        # process uvicorn's import of a WebSocket library at start-up (benchmarks/startup.py).
        ws="none",
        access_log=False,
        timeout_keep_alive=int(SERVER_KEEP_ALIVE_SECONDS),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"serve {name}")
    ready = asyncio.create_task(server.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task not in done:
            server.should_exit = True  # should its start-up finish after all, it stops at once
            raise ConfigurationError(
                f"{name} was not ready within {timeout:g} s",
                hint=f"a busy machine may need longer: raise {READY_TIMEOUT_SETTING} (now {timeout:g}); "
                "the log lines above say what it was doing",
            )
        reason = ""
        if not task.cancelled() and task.exception() and not isinstance(task.exception(), SystemExit):
            reason = f": {task.exception()}"
        raise ConfigurationError(f"{name} failed to start{reason}", hint="the log lines above say why")
    return RunningServer(name, server, task)


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, *, host: str = "127.0.0.1", name: str = "app") -> AsyncIterator[str]:
    """Serve ``app`` on a free port for the duration of the block; yields its base URL."""
    sock = bind(host)
    running = await start(name, app, sock)
    try:
        yield url_of(sock)
    finally:
        await running.stop()
