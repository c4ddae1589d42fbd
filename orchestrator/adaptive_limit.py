"""An admission limit that follows the measured latency of admitted turns.

A fixed limit is right for one machine and one mix of turns only. On 2 cores, 32 turns in flight
queue for the CPU: each still finishes, but about three times slower than at 10, for no more
turns a second (Little's law: the same throughput with more in flight is only longer waits).
On 32 cores the same 32 would leave cores idle. So the limit is adjusted from what admitted
turns take, against a latency target, between a floor and a ceiling (AIMD, as TCP and the
adaptive concurrency limiters of Envoy and Netflix do):

- a window closes once it is ``window_seconds`` old and holds ``min_samples`` turns; its
  latency is the ``PERCENTILE`` of the turns that finished in it;
- over the target, the limit falls in proportion (``limit * target / latency``, at most halved
  in one window), so a queue built up by a burst drains within a few windows;
- under the target, the limit rises by one, but only when the window filled every slot at least
  once: a limit that was never reached says nothing about whether more would be served as fast.

Everything is driven by the samples and an injected clock: no timer, no task, no I/O, so a test
feeds it synthetic latencies and steps the clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.errors import ConfigurationError

__all__ = ["PERCENTILE", "AdaptiveLimit", "LimitSettings"]

PERCENTILE = 0.9
"""Which latency of a window is held to the target: high enough to follow the slow turn types
(two agents and seven tool calls), low enough that one stalled turn does not halve the limit."""
MAX_CUT = 0.5
"""The most one window may take off the limit (a factor), so one noisy window cannot empty it."""


@dataclass(frozen=True)
class LimitSettings:
    """What the limit aims for and how far it may move."""

    target_seconds: float
    """Latency (the window's ``PERCENTILE``) above which fewer turns are admitted at once."""
    floor: int
    """The limit never falls below this, however slow turns are (a slow downstream is not load)."""
    ceiling: int
    """The limit never rises above this (``SWITCHBOARD_MAX_TURNS_IN_FLIGHT``); it starts here."""
    window_seconds: float = 0.5
    min_samples: int = 10

    def __post_init__(self) -> None:
        if self.target_seconds <= 0:
            raise ConfigurationError(
                f"admission latency target is {self.target_seconds} s",
                hint="set SWITCHBOARD_ADMISSION_TARGET_SECONDS above 0, or unset it for a fixed limit",
            )
        if not 1 <= self.floor <= self.ceiling:
            raise ConfigurationError(
                f"admission floor {self.floor} is not between 1 and the ceiling {self.ceiling}",
                hint="set SWITCHBOARD_MIN_TURNS_IN_FLIGHT between 1 and SWITCHBOARD_MAX_TURNS_IN_FLIGHT",
            )


@dataclass
class AdaptiveLimit:
    """The current limit, moved once per closed window of samples (see the module docstring)."""

    settings: LimitSettings
    clock: Callable[[], float] = time.monotonic
    limit: int = 0
    """Turns admitted at once now; starts at the ceiling (a fresh process has no evidence of load)."""
    latency: float | None = None
    """The last closed window's latency, for ``/healthz`` and ``/metrics``; None before one closed."""
    _samples: list[float] = field(default_factory=list)
    _opened: float = 0.0
    _filled: bool = False

    def __post_init__(self) -> None:
        self.limit = self.limit or self.settings.ceiling
        self._opened = self.clock()

    def filled(self) -> None:
        """Every slot was taken at once (a turn took the last one, or one was shed)."""
        self._filled = True

    def record(self, seconds: float) -> None:
        """One admitted turn took ``seconds``; closes the window when it is due."""
        self._samples.append(seconds)
        now = self.clock()
        if now - self._opened < self.settings.window_seconds or len(self._samples) < self.settings.min_samples:
            return
        self.latency = _percentile(self._samples, PERCENTILE)
        self.limit = self._next(self.latency)
        self._samples.clear()
        self._opened, self._filled = now, False

    def _next(self, latency: float) -> int:
        target, floor, ceiling = self.settings.target_seconds, self.settings.floor, self.settings.ceiling
        if latency > target:
            cut = max(MAX_CUT, target / latency)
            return max(floor, min(self.limit - 1, round(self.limit * cut)))
        if self._filled:
            return min(ceiling, self.limit + 1)
        return self.limit


def _percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value at or above ``q`` of them."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
