"""Names on the broker: this deployment's stream, and which replica this process is (for the
consumers every replica must have its own of)."""

from __future__ import annotations

import functools
import os
import re
import secrets
import socket

# JetStream consumer names may not contain whitespace, '.', '*', '>' or path separators.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


DEFAULT_DEPLOYMENT = "switchboard"
DEFAULT_RETENTION_SECONDS = 24 * 3600.0


@functools.cache
def default_replica() -> str:
    """``<host>-<pid>-<nonce>``: the same for the whole process, different for every other one
    and for every start.

    A restarted replica (a container keeps its host name and often its pid) never meets the
    consumer of the process it replaces, which the server may still count as bound when that
    process died without closing its connection: the new one gets consumers of its own, and the
    server deletes the abandoned ones once they have been idle long enough.
    """
    return _safe(f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}")


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
