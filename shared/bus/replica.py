"""Names on the broker: this deployment's stream, and which replica this process is (for the
consumers every replica must have its own of)."""

from __future__ import annotations

import functools
import os
import re
import socket

# JetStream consumer names may not contain whitespace, '.', '*', '>' or path separators.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


DEFAULT_DEPLOYMENT = "switchboard"
DEFAULT_RETENTION_SECONDS = 24 * 3600.0


@functools.cache
def default_replica() -> str:
    """``<host>-<pid>``: the same for the whole process, different for every other one.

    In a container the host name is the container's, so a restarted container keeps its
    consumers; elsewhere a restart gets new ones and the server drops the old after a while.
    """
    return _safe(f"{socket.gethostname()}-{os.getpid()}")


def consumer_name(durable: str, replica: str | None) -> str:
    """``durable`` for a shared consumer, ``durable-<replica>`` for one of a replica's own."""
    if replica is None:
        return durable
    return f"{durable}-{_safe(replica)}"


def safe_name(text: str) -> str:
    """``text`` as a JetStream stream or consumer name may spell it."""
    return _safe(text)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_")[:100] or "replica"
