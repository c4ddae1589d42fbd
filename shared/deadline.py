"""One deadline per customer turn, carried in the context envelope to every hop.

The supervisor sets ``ContextEnvelope.deadline_at`` when a turn starts; the envelope travels with
the A2A call and with every MCP call, so each hop (the specialist, its model calls, the gateway,
the systems behind it) waits only for what is left. Wall-clock time is used because the deadline
crosses processes and machines; hops on one host agree on it, and hosts are expected to run NTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.envelope import ContextEnvelope

MIN_WAIT_SECONDS = 0.05
"""The shortest wait a hop is given: below this, a call cannot even be sent and is not started."""

DEFAULT_TURN_SECONDS = 20.0
"""A turn's deadline with the offline brain: every hop answers in milliseconds."""

DEFAULT_MODEL_TURN_SECONDS = 90.0
"""A turn's deadline when a model is configured: enough for a small model on two CPU cores to make
a few short calls (about 15 tokens a second, 150 tokens a call)."""


class DeadlinePassed(Exception):
    """The turn's deadline passed before a step could start; nothing of that step was done."""


def turn_seconds(configured: float | None, *, model: bool) -> float:
    """The turn deadline in seconds: the configured one, else the default for the brain in use."""
    if configured is not None:
        return configured
    return DEFAULT_MODEL_TURN_SECONDS if model else DEFAULT_TURN_SECONDS


def remaining(envelope: ContextEnvelope, *, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds left in the turn (may be negative), or None when the turn carries no deadline."""
    return None if envelope.deadline_at is None else envelope.deadline_at - clock()


def wait_for(envelope: ContextEnvelope, limit: float, *, clock: Callable[[], float] = time.time) -> float:
    """How long a hop may wait: its own ``limit``, cut to what is left of the turn.

    Raises ``DeadlinePassed`` when too little is left to start the hop at all.
    """
    left = remaining(envelope, clock=clock)
    if left is None:
        return limit
    if left < MIN_WAIT_SECONDS:
        raise DeadlinePassed(f"the turn's deadline passed {max(-left, 0):.1f} s ago")
    return min(limit, left)
