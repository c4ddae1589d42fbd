"""Listening sockets we bind ourselves, before any server runs on them.

Apart from ``shared.serving`` so that a process that only binds (the parent of
``switchboard up --workers``) does not load the HTTP server.
"""

from __future__ import annotations

import socket


def bind(host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port``; ``reuse_port`` lets other sockets of this user bind the
    same port (Linux then spreads new connections over them)."""
    # IPPROTO_TCP explicitly: with proto 0 asyncio never sets TCP_NODELAY on accepted connections,
    # and every loopback round trip then waits ~40 ms on delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        # Replicas of one service on one host need no balancer in front (our MCP servers and
        # the gateway are stateless per request; the orchestrator's state is in its stores).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"
