"""Admission control: at capacity a new conversation or turn is refused at once, never queued.

A turn holds one slot from the moment it is admitted until its reply is written. When every
slot is taken, new work gets ``Overloaded`` (HTTP 503 with ``Retry-After``) straight away, so
the turns already admitted keep their latency instead of sharing the machine with a growing
queue. The check is a counter compare on the event loop: no lock, no wait, no I/O.

``SWITCHBOARD_MAX_TURNS_IN_FLIGHT`` is per orchestrator process for compose's replicas. The
processes of ``switchboard up --workers`` that serve one port divide it (``share``), so
together they admit the configured load, not a multiple of it. Load is exported in the
Prometheus text format on ``/metrics`` and summarised on ``/healthz``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.errors import ConfigurationError, Overloaded

__all__ = ["CONTENT_TYPE_LATEST", "Admission", "AdmissionLimits"]

KINDS = ("conversation", "turn")
"""What a slot is taken for: starting a conversation, or one customer turn on any channel."""


@dataclass(frozen=True)
class AdmissionLimits:
    max_in_flight: int = 32
    """Conversations being started plus turns being answered, at once, in this process."""
    retry_after_seconds: int = 1
    """What ``Retry-After`` tells a refused client; a turn takes well under a second unloaded."""
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
        part = self.max_in_flight // workers + (1 if worker < self.max_in_flight % workers else 0)
        return replace(self, max_in_flight=max(1, part), workers=workers, configured=self.max_in_flight)


@dataclass
class Admission:
    """The slots of one orchestrator process, and its load metrics (one registry per app)."""

    limits: AdmissionLimits = field(default_factory=AdmissionLimits)
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    in_flight: int = 0
    shed: int = 0

    def __post_init__(self) -> None:
        self._in_flight = Gauge(
            "switchboard_in_flight", "Conversations being started and turns being answered now", registry=self.registry
        )
        self._capacity = Gauge("switchboard_capacity", "Admission limit (max_turns_in_flight)", registry=self.registry)
        self._capacity.set(self.limits.max_in_flight)
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

    @contextmanager
    def admit(self, kind: str) -> Iterator[None]:
        """Hold a slot for the body; raise ``Overloaded`` at once when none is free."""
        if self.in_flight >= self.limits.max_in_flight:
            self.shed += 1
            self._shed.labels(kind).inc()
            raise Overloaded(
                "we are answering as many customers as we can right now",
                retry_after=self.limits.retry_after_seconds,
                hint=f"try again in {self.limits.retry_after_seconds} s; nothing was changed",
            )
        self.in_flight += 1
        self._in_flight.set(self.in_flight)
        self._admitted.labels(kind).inc()
        started = time.perf_counter()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._in_flight.set(self.in_flight)
            self._seconds.labels(kind).observe(time.perf_counter() - started)

    def load(self) -> dict[str, int]:
        """For ``/healthz``: what is in flight here against what may be (and, when processes share
        the limit, how many do and what they may admit together)."""
        load = {"in_flight": self.in_flight, "capacity": self.limits.max_in_flight, "shed": self.shed}
        if self.limits.workers > 1:
            load |= {"workers": self.limits.workers, "total_capacity": self.limits.configured}
        return load

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format, for ``/metrics``."""
        return generate_latest(self.registry)
