"""The gateway's local copy of the facts it decides on, kept current by the systems' events.

Reading consent (and, for marketing, open tickets) from the system of record on every call
cost a third MCP round trip per governed call. This projection answers from memory instead:

- consent purposes per customer, from ``consent.consent-changed``;
- open tickets per e-mail address, from ``support.ticket-updated``;

(fraud holds and the phone-number map are kept the same way by ``state`` and ``numbers``).
A customer seen for the first time is read from the system of record once, and kept.

**Staleness is measured, and bounded.** Each system's outbox relay publishes a watermark
(``feed.watermark``: "everything I committed before ``drained_at`` is published") on the same
ordered stream as its changes. A copy is *fresh* when the latest watermark from its system is
younger than ``max_lag_seconds``: then every change older than the bound has been applied, so
the copy can be wrong for at most the bound. A copy that is behind is not used: the call
falls back to a live read of the system of record, and if that fails too the fact is unknown
and the gateway denies (fail closed). Writes the gateway itself forwards to a projected system
close the remaining window: until a watermark newer than the write's end arrives, that
system's facts are read live, so "consent withdrawn, marketing call right after" is decided on
the withdrawal, never on the copy from before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from gateway.facts import FactUnavailable, UpstreamFacts
from shared.events import CONSENT_CHANGED, FEED_WATERMARK, TICKET_UPDATED, data_of, kind_of
from shared.tools import RefundFacts

DEFAULT_MAX_LAG_SECONDS = 1.0
PROJECTED_SYSTEMS = ("consent", "support")


@dataclass(slots=True)
class FeedState:
    """One system's feed as this gateway has seen it."""

    watermark: float | None = None
    """``drained_at`` of the latest watermark applied: every change committed before it is here."""
    writes_in_flight: int = 0
    """Writes this gateway is forwarding to the system now: its facts are read live meanwhile."""
    written_at: float = 0.0
    """When the latest forwarded write ended; the copy is fresh again only past a watermark after it."""
    events: int = 0


@dataclass(slots=True)
class _Entry:
    value: Any
    changed_at: dict[str, float] = field(default_factory=dict)
    """Per purpose (or ticket), the time of the latest event applied: a redelivered older one is skipped."""


@dataclass(slots=True)
class _Flight:
    """A live read under way; a read of the same key that starts while nothing has changed since joins it."""

    started_at: float
    generation: int
    task: asyncio.Future[Any]


@dataclass(slots=True)
class ProjectionStats:
    hits: int = 0
    misses: int = 0
    stale_reads: int = 0


class GatewayProjection:
    """Consent purposes and open tickets from events, with a live read when behind (``CustomerFacts``)."""

    def __init__(
        self,
        live: UpstreamFacts,
        *,
        max_lag_seconds: float = DEFAULT_MAX_LAG_SECONDS,
        clock: Callable[[], float] = time.time,
        max_entries: int = 200_000,
    ) -> None:
        self._live = live
        self.max_lag = max_lag_seconds
        self._clock = clock
        self._max = max_entries
        self.feeds = {system: FeedState() for system in PROJECTED_SYSTEMS}
        self._consent: dict[str, _Entry] = {}  # customer id -> set of granted purposes
        self._tickets: dict[str, _Entry] = {}  # e-mail -> {ticket id: status}
        self._generation: dict[str, int] = {}  # bumped by every event about a key
        self._flights: dict[str, _Flight] = {}  # generation key -> the live read under way
        self._warming: set[asyncio.Task[None]] = set()
        self.stats = ProjectionStats()

    # -- the feed ---------------------------------------------------------------------------

    def apply(self, event: CloudEvent) -> None:
        """Fold one bus event in; never raises (a handler that raises would be redelivered out of order)."""
        kind = kind_of(event)
        data = data_of(event)
        if kind == FEED_WATERMARK:
            feed = self.feeds.get(str(data.get("system")))
            drained = data.get("drained_at")
            if feed is not None and isinstance(drained, int | float):
                feed.watermark = max(feed.watermark or 0.0, float(drained))
            return
        occurred = event.get_time()
        at = occurred.timestamp() if occurred is not None else self._clock()
        if kind == CONSENT_CHANGED:
            customer_id, purpose = data.get("customer_id"), data.get("purpose")
            if isinstance(customer_id, str) and isinstance(purpose, str):
                self.feeds["consent"].events += 1
                self._bump(f"c:{customer_id}")
                entry = self._consent.get(customer_id)
                if entry is not None and self._newest(entry, purpose, at):
                    granted = set(entry.value)
                    (granted.add if data.get("granted") else granted.discard)(purpose)
                    entry.value = frozenset(granted)
        elif kind == TICKET_UPDATED:
            email, ticket_id = data.get("email"), data.get("ticket_id")
            if isinstance(email, str) and isinstance(ticket_id, str):
                self.feeds["support"].events += 1
                email = email.lower()
                self._bump(f"t:{email}")
                entry = self._tickets.get(email)
                if entry is not None and self._newest(entry, ticket_id, at):
                    tickets = dict(entry.value)
                    if data.get("status") == "open":
                        tickets[ticket_id] = "open"
                    else:
                        tickets.pop(ticket_id, None)
                    entry.value = tickets

    @staticmethod
    def _newest(entry: _Entry, part: str, at: float) -> bool:
        """Apply an event unless a later one about the same part was applied already.

        Events are compared with events only (one clock, the system's), never with when a
        snapshot was read: a change committed just after the read started carries an earlier
        time than the read, yet the read did not see it, so its event must still apply.
        """
        if at < entry.changed_at.get(part, 0.0):
            return False
        entry.changed_at[part] = at
        return True

    def _bump(self, key: str) -> None:
        self._generation[key] = self._generation.get(key, 0) + 1

    def writing(self, system: str) -> Callable[[], None]:
        """A write to ``system`` is being forwarded: its facts are read live until the feed shows it.

        Returns the function to call when the write has ended (whatever its outcome).
        """
        feed = self.feeds.get(system)
        if feed is None:
            return lambda: None
        feed.writes_in_flight += 1

        def ended() -> None:
            feed.writes_in_flight -= 1
            feed.written_at = max(feed.written_at, self._clock())

        return ended

    # -- freshness --------------------------------------------------------------------------

    def lag(self, system: str) -> float | None:
        """Seconds the copy of ``system``'s facts may be behind; None when no watermark came yet."""
        feed = self.feeds[system]
        return None if feed.watermark is None else max(0.0, self._clock() - feed.watermark)

    def fresh(self, system: str) -> bool:
        """Whether calls may be decided on the copy; a bound of 0 never trusts it (every read is live)."""
        feed = self.feeds[system]
        if self.max_lag <= 0:
            return False
        lag = self.lag(system)
        if lag is None or lag > self.max_lag:
            return False
        assert feed.watermark is not None
        return feed.writes_in_flight == 0 and feed.watermark > feed.written_at

    def report(self) -> dict[str, Any]:
        """For /healthz and /metrics: per system its lag and whether it is used, and the counters."""
        return {
            "max_lag_seconds": self.max_lag,
            "feeds": {
                system: {"lag_seconds": self.lag(system), "fresh": self.fresh(system), "events": feed.events}
                for system, feed in self.feeds.items()
            },
            "entries": {"consent": len(self._consent), "tickets": len(self._tickets)},
            "reads": {"hits": self.stats.hits, "misses": self.stats.misses, "stale": self.stats.stale_reads},
        }

    def metrics_text(self) -> str:
        """The same report in the Prometheus text format (no customer data: counts and lags only)."""
        lines = [
            "# HELP switchboard_gateway_projection_lag_seconds How far the copy of a system's facts may be behind.",
            "# TYPE switchboard_gateway_projection_lag_seconds gauge",
        ]
        for system in self.feeds:
            lag = self.lag(system)
            shown = "NaN" if lag is None else f"{lag:.6f}"
            lines.append(f'switchboard_gateway_projection_lag_seconds{{system="{system}"}} {shown}')
        lines += [
            "# HELP switchboard_gateway_projection_fresh 1 when the copy is used, 0 when calls read the system live.",
            "# TYPE switchboard_gateway_projection_fresh gauge",
            *(f'switchboard_gateway_projection_fresh{{system="{s}"}} {int(self.fresh(s))}' for s in self.feeds),
            "# HELP switchboard_gateway_projection_reads_total Fact reads by how they were answered.",
            "# TYPE switchboard_gateway_projection_reads_total counter",
            f'switchboard_gateway_projection_reads_total{{answer="projection"}} {self.stats.hits}',
            f'switchboard_gateway_projection_reads_total{{answer="live-first-seen"}} {self.stats.misses}',
            f'switchboard_gateway_projection_reads_total{{answer="live-behind"}} {self.stats.stale_reads}',
            "# HELP switchboard_gateway_projection_max_lag_seconds Past this lag the copy is not used.",
            "# TYPE switchboard_gateway_projection_max_lag_seconds gauge",
            f"switchboard_gateway_projection_max_lag_seconds {self.max_lag}",
        ]
        return "\n".join(lines) + "\n"

    # -- reads (CustomerFacts) --------------------------------------------------------------

    async def _read(
        self,
        system: str,
        table: dict[str, _Entry],
        key: str,
        generation_key: str,
        live: Callable[[], Awaitable[Any]],
    ) -> Any:
        fresh = self.fresh(system)
        entry = table.get(key)
        if fresh and entry is not None:
            self.stats.hits += 1
            return entry.value
        if entry is None:
            self.stats.misses += 1
        else:
            self.stats.stale_reads += 1
        flight = self._flights.get(generation_key)
        if flight is None or not self._joinable(flight, system, generation_key):
            flight = self._fly(table, key, generation_key, live)
        return await asyncio.shield(flight.task)

    def _joinable(self, flight: _Flight, system: str, generation_key: str) -> bool:
        """A read under way answers a new one too when it would see everything the new one would:
        no event about the key arrived and no forwarded write to the system ended since it started."""
        feed = self.feeds[system]
        if flight.task.done():  # finished (maybe failed) and not yet cleared: a new read asks again
            return False
        return flight.generation == self._generation.get(generation_key, 0) and flight.started_at > feed.written_at

    def _fly(
        self, table: dict[str, _Entry], key: str, generation_key: str, live: Callable[[], Awaitable[Any]]
    ) -> _Flight:
        generation = self._generation.get(generation_key, 0)

        async def read() -> Any:
            value = await live()
            # An event that arrived during the read may be newer than what was read: keep nothing then.
            if self._generation.get(generation_key, 0) == generation:
                if len(table) >= self._max and key not in table:
                    table.pop(next(iter(table)))
                # Events already applied stay ordered; those still on their way apply on top of the read.
                earlier = table.get(key)
                table[key] = _Entry(value, dict(earlier.changed_at) if earlier is not None else {})
            return value

        # Its own task: a caller that stops waiting neither cancels it for the others nor leaves it half-kept.
        flight = _Flight(self._clock(), generation, asyncio.ensure_future(read()))
        self._flights[generation_key] = flight

        def landed(task: asyncio.Future[Any]) -> None:
            if self._flights.get(generation_key) is flight:
                del self._flights[generation_key]
            if not task.cancelled():
                task.exception()  # retrieved here: every caller may have stopped waiting

        flight.task.add_done_callback(landed)
        return flight

    def warm_consent(self, customer_id: str, conversation_id: str) -> None:
        """Start reading a customer's consent now if the copy has none (a call just named them, as
        a verification does): their next call, which is customer-scoped, then finds it or joins
        this read instead of making the live read on its own way to the system."""
        if customer_id in self._consent or f"c:{customer_id}" in self._flights:
            return

        async def warm() -> None:
            with contextlib.suppress(FactUnavailable):  # the call that needs it reads again, and fails closed
                await self.consent_purposes(customer_id, conversation_id)

        task = asyncio.create_task(warm())
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        value: frozenset[str] = await self._read(
            "consent",
            self._consent,
            customer_id,
            f"c:{customer_id}",
            lambda: self._live.consent_purposes(customer_id, conversation_id),
        )
        return value

    async def open_tickets(self, email: str, conversation_id: str) -> list[str]:
        """The ids of the customer's open tickets."""
        email = email.lower()

        async def live() -> dict[str, str]:
            return {t: "open" for t in await self._live.open_ticket_ids(email, conversation_id)}

        tickets: dict[str, str] = await self._read("support", self._tickets, email, f"t:{email}", live)
        return sorted(tickets)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return len(await self.open_tickets(email, conversation_id))

    async def refund_facts(
        self, system: str, tool: str, arguments: dict[str, Any], conversation_id: str
    ) -> RefundFacts:
        # A write's own facts (the charge, today's refunds) are read at the moment of acting, always.
        return await self._live.refund_facts(system, tool, arguments, conversation_id)

    async def recent_sim_change(self, msisdn: str, max_age_hours: int, conversation_id: str) -> str | None:
        # Like a write's own facts: read from the network system at the moment money would move.
        return await self._live.recent_sim_change(msisdn, max_age_hours, conversation_id)
