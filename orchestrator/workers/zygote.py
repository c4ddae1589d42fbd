"""The process that forks the children of ``switchboard up --workers``, from a warm copy.

Every child imports the same libraries (pydantic, Starlette, uvicorn, the HTTP client, the MCP
SDK, a2a-sdk's client, the token and skill helpers), and a fresh interpreter per child imported
them once per child. This process imports them once, while the parent prepares the data
directory, and then forks one child per request, so each child starts with them loaded and
only imports what its own services add.

Run by the parent as ``python -m orchestrator.workers.zygote <fd>``, where ``fd`` is its end of
a ``SOCK_SEQPACKET`` socket pair (``orchestrator.workers.forking`` is the other end). Each request
is a ``ChildSpec`` as JSON with the descriptors it names attached (``socket.send_fds``, in
``ChildSpec.inherited`` order); the answer is ``started <pid>`` with a pidfd of the child attached,
and ``exited <pid> <code>`` follows when the child exits. End of file on the socket (the parent
closed it, or died) ends this process; its children keep running until their parent pipe says
the parent is gone.

It stays single-threaded and runs no event loop, so forking it is safe: the children start their
event loops after the fork. The parent starts it in a process group of its own, and the children
stay in that group, so a Ctrl+C at the terminal reaches only the parent.
"""

from __future__ import annotations

import gc
import importlib
import os
import selectors
import socket
import sys
import threading

from shared.http_stack import use_one_http_stack

PRELOAD = (
    "orchestrator.workers.child",
    "shared.serving",
    "shared.service_auth",
    "shared.secrets",
    "shared.settings",
    "shared.events",
    "shared.outbox",
    "shared.skills",
    "shared.tools",
    "shared.handoff",
    "shared.llm",
    "shared.telemetry",
    # The specialists call the gateway over MCP and the systems serve it.
    "mcp",
    "mcp.client.streamable_http",
    # The orchestrator and the specialists both read AgentCards and call specialists.
    "a2a.client",
    "a2a.types",
)
"""What at least two kinds of child import (the systems, the specialists, the orchestrator); what
only one needs stays out (LangGraph, Cedar, the router's model), it would only delay them all."""

ZYGOTE_NAME = "zygote"
"""How this process shows in ``ps`` (each child shows its group's name)."""
MAX_FDS = 64
"""Descriptors one request may carry (a child's sockets, its parent pipe and its ready pipe)."""
MAX_MESSAGE = 1 << 20


def preload() -> None:
    """Import the shared libraries, then keep them out of the children's garbage collections.

    Collection stays off from here until each child has started (``shared.serving.settle_heap``
    turns it back on): what imports and start-up build lives as long as the process, and every
    collection while it was being built walked all of it again, about a tenth of the CPU of a start."""
    gc.disable()
    use_one_http_stack()  # before anything imports httpx, as in any Switchboard service process
    for name in PRELOAD:
        importlib.import_module(name)
    # The gc module's advice for a process that forks without exec: collect and freeze before
    # forking, so a child's collections never touch (and so never copy) the pages it shares.
    gc.collect()
    gc.freeze()


def serve_forks(control: socket.socket) -> tuple[str, list[int]] | None:
    """Fork a child per request until the parent closes ``control``.

    Returns None in this process when it is done, and ``(spec JSON, descriptors)`` in a child
    just forked, which then runs its services (``main``)."""
    children: dict[int, int] = {}  # pidfd -> pid
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is control:
                    message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, MAX_FDS)
                    if not message:
                        return None  # the parent is done or gone
                    pid = _fork()
                    if pid == 0:
                        for pidfd in children:
                            os.close(pidfd)
                        return message.decode(), fds
                    for fd in fds:
                        os.close(fd)
                    pidfd = os.pidfd_open(pid)
                    children[pidfd] = pid
                    selector.register(pidfd, selectors.EVENT_READ)
                    if not _tell(control, f"started {pid}", [pidfd]):
                        return None
                else:
                    pidfd = int(key.fd)
                    selector.unregister(pidfd)
                    pid = children.pop(pidfd)
                    os.close(pidfd)
                    _, status = os.waitpid(pid, 0)
                    if not _tell(control, f"exited {pid} {os.waitstatus_to_exitcode(status)}"):
                        return None


def _tell(control: socket.socket, message: str, fds: list[int] | None = None) -> bool:
    """Send the parent ``message``; False if the parent is gone (its children stop by themselves)."""
    try:
        socket.send_fds(control, [message.encode()], fds or [])
    except OSError:
        return False
    return True


def _fork() -> int:
    if threading.active_count() != 1:
        # A forked copy of a thread's locks may be held for ever; refuse rather than hang a child.
        raise RuntimeError(f"cannot fork safely: {threading.active_count()} threads run in the forking process")
    return os.fork()


def main(argv: list[str]) -> int:
    """Preload, fork children on request; in a child, run its services and return its exit code."""
    control = socket.socket(fileno=int(argv[1]))
    from orchestrator.workers.child import name_process

    name_process(ZYGOTE_NAME)
    preload()
    forked = serve_forks(control)
    control.close()
    if forked is None:
        return 0
    from orchestrator.workers.child import ChildSpec, run_child

    spec_json, fds = forked
    return run_child(ChildSpec.model_validate_json(spec_json).moved_to(fds))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
