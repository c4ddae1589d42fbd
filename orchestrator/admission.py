"""Admission control: at capacity a new conversation or turn is refused at once, never queued.

A turn holds one slot from the moment it is admitted until its reply is written. When every
slot is taken, new work gets ``Overloaded`` (HTTP 503 with ``Retry-After``) straight away, so
the turns already admitted keep their latency instead of sharing the machine with a growing
queue. The check is a counter compare on the event loop: no lock, no wait, no I/O.

How many slots there are follows the latency of admitted turns when a latency target is set
(``adaptive_limit``: between ``SWITCHBOARD_MIN_TURNS_IN_FLIGHT`` and
``SWITCHBOARD_MAX_TURNS_IN_FLIGHT``), and is the maximum otherwise. Both bounds are per
orchestrator process for compose's replicas. The processes of ``switchboard up --workers`` that
serve one port divide them (``share``), so together they admit the configured load, not a
multiple of it. Load is exported in the Prometheus text format on ``/metrics`` and summarised
on ``/healthz``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from orchestrator.adaptive_limit import AdaptiveLimit, LimitSettings
from shared.errors import ConfigurationError, Overloaded

__all__ = ["CONTENT_TYPE_LATEST", "DEFAULT_TARGET_SECONDS", "Admission", "AdmissionLimits", "latency_target"]

KINDS = ("conversation", "turn")
"""What a slot is taken for: starting a conversation, or one customer turn on any channel."""
DEFAULT_TARGET_SECONDS = 0.3
"""The offline brain's latency target (the 90th percentile of a window's turns). Unloaded, the
slowest turn type (a code check: two agents, seven tool calls) takes about 250 ms on 2 cores and
the 90th percentile of the mix about 200 ms; holding it at 300 ms keeps the slowest type's 99th
percentile under half a second while the cores stay busy."""


def latency_target(configured: float | None, *, model: bool) -> float | None:
    """The admission latency target in seconds, or None for a fixed limit: the configured one
    (0 turns adapting off), else the offline default. With a model, a turn's time is mostly the
    model's answer, which admitting fewer turns does not shorten, so it adapts only when set."""
    if configured is not None:
        return configured or None
    return None if model else DEFAULT_TARGET_SECONDS


@dataclass(frozen=True)
class AdmissionLimits:
    max_in_flight: int = 32
    """Conversations being started plus turns being answered, at once, in this process (with a
    latency target: the most the adaptive limit rises to, and where it starts)."""
    retry_after_seconds: int = 1
    """What ``Retry-After`` tells a refused client; a turn takes well under a second unloaded."""
    min_in_flight: int = 16
    """With a latency target: the least the adaptive limit falls to. Turns wait on their hops
    much of the time, and on a machine shared with other work part of their latency is not
    this process's queue at all, so fewer would only cost turns a second: on 2 cores kept
    busy by other work, a floor of 10 served 12-16% fewer turns a second than a fixed 32, a
    floor of 16 as many."""
    target_seconds: float | None = None
    """The latency the adaptive limit holds admitted turns to; None: a fixed ``max_in_flight``."""
    workers: int = 1
    """How many processes divide ``configured`` between them (``share``)."""
    configured: int = 0
    """The limit before it was divided (0: not divided, ``max_in_flight`` is all of it)."""

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ConfigurationError(
                f"max_turns_in_flight is {self.max_in_flight}", hint="set SWITCHBOARD_MAX_TURNS_IN_FLIGHT to 1 or more"
            )
        if self.retry_after_seconds < 1:
            raise ConfigurationError(
                f"retry_after_seconds is {self.retry_after_seconds}", hint="set SWITCHBOARD_RETRY_AFTER_SECONDS to 1+"
            )

    def share(self, worker: int, workers: int) -> AdmissionLimits:
        """Process ``worker``'s part (0-based) when ``workers`` processes divide this limit: the
        parts add up to it (each at least one, so a limit below the process count is exceeded)."""
        if workers <= 1:
            return self
        return replace(
            self,
            max_in_flight=_part(self.max_in_flight, worker, workers),
            min_in_flight=_part(self.min_in_flight, worker, workers),
            workers=workers,
            configured=self.max_in_flight,
        )

    def adaptive(self, clock: Callable[[], float]) -> AdaptiveLimit | None:
        """The adaptive limit these bounds describe, or None when the limit is fixed."""
        if self.target_seconds is None:
            return None
        # A maximum set below the default minimum is a fixed limit that still sheds on time.
        floor = min(self.min_in_flight, self.max_in_flight)
        bounds = LimitSettings(self.target_seconds, floor=floor, ceiling=self.max_in_flight)
        return AdaptiveLimit(bounds, clock=clock)


def _part(total: int, worker: int, workers: int) -> int:
    """Process ``worker``'s part of ``total`` over ``workers`` (at least one)."""
    return max(1, total // workers + (1 if worker < total % workers else 0))


@dataclass
class Admission:
    """The slots of one orchestrator process, and its load metrics (one registry per app)."""

    limits: AdmissionLimits = field(default_factory=AdmissionLimits)
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    clock: Callable[[], float] = time.monotonic
    """Times each slot (and closes the adaptive limit's windows); a test steps its own."""
    in_flight: int = 0
    shed: int = 0

    def __post_init__(self) -> None:
        self.adaptive = self.limits.adaptive(self.clock)
        self._in_flight = Gauge(
            "switchboard_in_flight", "Conversations being started and turns being answered now", registry=self.registry
        )
        self._capacity = Gauge("switchboard_capacity", "Admission limit now", registry=self.registry)
        self._capacity.set(self.capacity)
        self._admitted = Counter("switchboard_admitted", "Requests admitted", ["kind"], registry=self.registry)
        self._shed = Counter(
            "switchboard_shed", "Requests refused with 503 at capacity", ["kind"], registry=self.registry
        )
        self._seconds = Histogram(
            "switchboard_admitted_seconds",
            "Time an admitted request held its slot",
            ["kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        for kind in KINDS:  # every series exists from the start, so a scrape never misses a zero
            self._admitted.labels(kind)
            self._shed.labels(kind)
            self._seconds.labels(kind)
        if self.adaptive is not None:
            self._latency = Gauge(
                "switchboard_turn_latency_seconds",
                "The last window's 90th percentile of admitted turns, which the adaptive limit follows",
                registry=self.registry,
            )
            bounds = self.adaptive.settings
            for name, about, value in (
                (
                    "switchboard_latency_target_seconds",
                    "Latency the adaptive limit holds turns to",
                    bounds.target_seconds,
                ),
                ("switchboard_capacity_floor", "Least the adaptive limit falls to", bounds.floor),
                ("switchboard_capacity_ceiling", "Most the adaptive limit rises to", bounds.ceiling),
            ):
                Gauge(name, about, registry=self.registry).set(value)

    @property
    def capacity(self) -> int:
        """How many conversations being started and turns being answered may be in flight now."""
        return self.adaptive.limit if self.adaptive is not None else self.limits.max_in_flight

    def refuse_if_full(self, kind: str) -> None:
        """Raise ``Overloaded`` now if no slot is free: called before a request's own checks (its
        token's database read), so a refusal costs a counter compare, not a trip to a thread."""
        if self.in_flight >= self.capacity:
            self._refuse(kind)

    @contextmanager
    def admit(self, kind: str) -> Iterator[None]:
        """Hold a slot for the body; raise ``Overloaded`` at once when none is free."""
        if self.in_flight >= self.capacity:
            self._refuse(kind)
        self.in_flight += 1
        self._in_flight.set(self.in_flight)
        self._admitted.labels(kind).inc()
        if self.adaptive is not None and self.in_flight >= self.capacity:
            self.adaptive.filled()
        started = self.clock()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._in_flight.set(self.in_flight)
            seconds = self.clock() - started
            self._seconds.labels(kind).observe(seconds)
            # Only turns steer the limit: starting a conversation is a few milliseconds and would
            # dilute the latency of the work that queues for the CPU.
            if self.adaptive is not None and kind == "turn":
                self.adaptive.record(seconds)
                self._capacity.set(self.adaptive.limit)
                if self.adaptive.latency is not None:
                    self._latency.set(self.adaptive.latency)

    def _refuse(self, kind: str) -> None:
        self.shed += 1
        self._shed.labels(kind).inc()
        if self.adaptive is not None:
            self.adaptive.filled()
        raise Overloaded(
            "we are answering as many customers as we can right now",
            retry_after=self.limits.retry_after_seconds,
            hint=f"try again in {self.limits.retry_after_seconds} s; nothing was changed",
        )

    def load(self) -> dict[str, int]:
        """For ``/healthz``: what is in flight here against what may be (and, when processes share
        the limit, how many do and what they may admit together; when it adapts, its bounds, its
        target and the last window's latency in milliseconds)."""
        load = {"in_flight": self.in_flight, "capacity": self.capacity, "shed": self.shed}
        if self.limits.workers > 1:
            load |= {"workers": self.limits.workers, "total_capacity": self.limits.configured}
        if self.adaptive is not None:
            bounds = self.adaptive.settings
            load |= {
                "floor": bounds.floor,
                "ceiling": bounds.ceiling,
                "target_ms": round(bounds.target_seconds * 1000),
                "latency_ms": round((self.adaptive.latency or 0.0) * 1000),
            }
        return load

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format, for ``/metrics``."""
        return generate_latest(self.registry)
