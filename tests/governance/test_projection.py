"""The gateway's projection answers from events while its feed is fresh, and reads live when it is not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from cloudevents.core.v1.event import CloudEvent

from gateway.facts import FactUnavailable, UpstreamFacts
from gateway.projection import GatewayProjection
from shared.events import CONSENT_CHANGED, FEED_WATERMARK, TICKET_UPDATED, TYPE_PREFIX, new_event

NOW = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Live(UpstreamFacts):
    """The systems of record as they answer now; counts every read."""

    def __init__(self) -> None:
        super().__init__({})
        self.purposes: dict[str, set[str]] = {}
        self.tickets: dict[str, list[str]] = {}
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.reading = asyncio.Event()
        self.down = False

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        self.reads += 1
        self.reading.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise FactUnavailable("the consent system is not answering")
        return frozenset(self.purposes.get(customer_id, set()))

    async def open_ticket_ids(self, email: str, conversation_id: str) -> list[str]:
        self.reads += 1
        return list(self.tickets.get(email, []))


def watermark(system: str, drained_at: float) -> CloudEvent:
    return new_event(FEED_WATERMARK, f"/systems/{system}", {"system": system, "drained_at": drained_at})


def consent_event(customer: str, purpose: str, granted: bool, at: float) -> CloudEvent:
    """A consent change that happened at ``at`` (epoch seconds)."""
    attributes = {
        "type": TYPE_PREFIX + CONSENT_CHANGED,
        "source": "/systems/consent",
        "id": f"ev-{customer}-{purpose}-{at}",
        "time": datetime.fromtimestamp(at, UTC),
        "subject": customer,
    }
    return CloudEvent(attributes, {"customer_id": customer, "purpose": purpose, "granted": granted})


@pytest.fixture
def setup() -> tuple[GatewayProjection, Live, Clock]:
    live, clock = Live(), Clock()
    return GatewayProjection(live, max_lag_seconds=1.0, clock=clock), live, clock


async def test_a_fresh_feed_answers_from_memory_after_the_first_read(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"marketing", "service"}
    projection.apply(watermark("consent", NOW - 0.1))
    assert await projection.consent_purposes("C1", "conv") == {"marketing", "service"}
    assert await projection.consent_purposes("C1", "conv") == {"marketing", "service"}
    assert live.reads == 1
    # The withdrawal reaches the gateway as an event: no read, and the copy follows it.
    projection.apply(consent_event("C1", "marketing", False, NOW))
    projection.apply(watermark("consent", NOW))
    assert await projection.consent_purposes("C1", "conv") == {"service"}
    assert live.reads == 1
    assert projection.report()["reads"] == {"hits": 2, "misses": 1, "stale": 0}


async def test_a_feed_behind_the_bound_is_not_used_the_system_of_record_is(setup) -> None:
    projection, live, clock = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    await projection.consent_purposes("C1", "conv")
    # Withdrawn at the system of record, and the event never arrives (feed stalled).
    live.purposes["C1"] = set()
    clock.now = NOW + 1.5
    assert not projection.fresh("consent")
    assert await projection.consent_purposes("C1", "conv") == frozenset()
    assert projection.report()["feeds"]["consent"]["lag_seconds"] == pytest.approx(1.5)
    # And when the live read fails as well, the fact is unknown: the gateway denies.
    live.down = True
    with pytest.raises(FactUnavailable):
        await projection.consent_purposes("C1", "conv")


async def test_no_watermark_yet_means_every_read_is_live(setup) -> None:
    projection, live, _ = setup
    for _ in range(3):
        await projection.consent_purposes("C1", "conv")
    assert live.reads == 3
    assert projection.report()["feeds"]["consent"] == {"lag_seconds": None, "fresh": False, "events": 0}


async def test_a_write_through_the_gateway_is_read_live_until_the_feed_shows_it(setup) -> None:
    projection, live, clock = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    await projection.consent_purposes("C1", "conv")
    ended = projection.writing("consent")
    live.purposes["C1"] = set()  # the withdrawal commits at the system of record
    assert not projection.fresh("consent")
    clock.now = NOW + 0.01
    ended()
    # Right after the write: its event has not arrived, so the copy is not trusted.
    assert await projection.consent_purposes("C1", "conv") == frozenset()
    projection.apply(watermark("consent", NOW + 0.005))  # drained before the write ended: not enough
    assert not projection.fresh("consent")
    projection.apply(consent_event("C1", "marketing", False, NOW + 0.008))
    projection.apply(watermark("consent", NOW + 0.02))
    assert projection.fresh("consent")
    reads = live.reads
    assert await projection.consent_purposes("C1", "conv") == frozenset()
    assert live.reads == reads


async def test_an_event_during_a_live_read_is_not_overwritten_by_the_older_answer(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    live.gate = asyncio.Event()
    live.reading.clear()
    read = asyncio.create_task(projection.consent_purposes("C1", "conv"))
    async with asyncio.timeout(5):
        await live.reading.wait()
    projection.apply(consent_event("C1", "marketing", False, NOW))
    live.gate.set()
    assert await read == {"marketing"}  # what the system answered when asked
    live.gate = None
    live.purposes["C1"] = set()
    assert await projection.consent_purposes("C1", "conv") == frozenset()  # not kept: read again
    assert live.reads == 2


async def test_a_change_committed_while_the_first_read_ran_still_applies(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    await projection.consent_purposes("C1", "conv")
    # Stamped before the read, committed after it: the read missed it, so its event must not be dropped.
    projection.apply(consent_event("C1", "marketing", False, NOW - 5))
    assert await projection.consent_purposes("C1", "conv") == frozenset()


async def test_a_redelivered_older_event_does_not_rewind_a_newer_one(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    await projection.consent_purposes("C1", "conv")
    projection.apply(consent_event("C1", "marketing", False, NOW))
    projection.apply(consent_event("C1", "marketing", True, NOW - 5))  # a late duplicate of an older grant
    assert await projection.consent_purposes("C1", "conv") == frozenset()


async def test_open_tickets_follow_ticket_events(setup) -> None:
    projection, live, _ = setup
    live.tickets["ana@example.com"] = ["TCK-1"]
    projection.apply(watermark("support", NOW))
    assert await projection.open_tickets("Ana@Example.com", "conv") == ["TCK-1"]
    for ticket, status in (("TCK-2", "open"), ("TCK-1", "closed")):
        data = {"email": "ana@example.com", "ticket_id": ticket, "status": status}
        projection.apply(new_event(TICKET_UPDATED, "/systems/support", data))
    assert await projection.open_tickets("ana@example.com", "conv") == ["TCK-2"]
    assert live.reads == 1
    assert 'switchboard_gateway_projection_fresh{system="support"} 1' in projection.metrics_text()


async def test_two_writes_at_once_keep_the_copy_untrusted_until_both_are_in_the_feed(setup) -> None:
    projection, _, clock = setup
    projection.apply(watermark("consent", NOW))
    first, second = projection.writing("consent"), projection.writing("consent")
    clock.now = NOW + 0.01
    first()
    projection.apply(watermark("consent", NOW + 0.02))  # after the first write, the second still runs
    assert not projection.fresh("consent")
    clock.now = NOW + 0.03
    second()
    assert not projection.fresh("consent")
    projection.apply(watermark("consent", NOW + 0.04))
    assert projection.fresh("consent")


async def _reading(live: Live) -> None:
    async with asyncio.timeout(5):
        await live.reading.wait()


async def test_reads_at_once_of_a_first_seen_customer_share_one_live_read(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"service"}
    projection.apply(watermark("consent", NOW))
    live.gate = asyncio.Event()
    first = asyncio.create_task(projection.consent_purposes("C1", "conv-1"))
    await _reading(live)
    second = asyncio.create_task(projection.consent_purposes("C1", "conv-2"))
    live.gate.set()
    assert await first == await second == {"service"}
    assert live.reads == 1


async def test_a_read_after_an_event_about_the_customer_does_not_join_the_earlier_read(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    live.gate = asyncio.Event()
    first = asyncio.create_task(projection.consent_purposes("C1", "conv"))
    await _reading(live)
    projection.apply(consent_event("C1", "marketing", False, NOW))
    live.purposes["C1"] = set()
    second = asyncio.create_task(projection.consent_purposes("C1", "conv"))
    live.gate.set()
    await first
    assert await second == frozenset()  # its own read, made after the withdrawal
    assert live.reads == 2


async def test_a_read_after_a_forwarded_write_does_not_join_an_earlier_read(setup) -> None:
    projection, live, clock = setup
    live.purposes["C1"] = {"marketing"}
    projection.apply(watermark("consent", NOW))
    live.gate = asyncio.Event()
    first = asyncio.create_task(projection.consent_purposes("C1", "conv"))
    await _reading(live)
    ended = projection.writing("consent")
    live.purposes["C1"] = set()
    clock.now = NOW + 0.01
    ended()
    second = asyncio.create_task(projection.consent_purposes("C1", "conv"))
    live.gate.set()
    await first
    assert await second == frozenset()
    assert live.reads == 2


async def test_warming_reads_a_customer_named_by_a_call_once_and_their_next_call_finds_it(setup) -> None:
    projection, live, _ = setup
    live.purposes["C1"] = {"service"}
    projection.apply(watermark("consent", NOW))
    live.gate = asyncio.Event()
    projection.warm_consent("C1", "conv")
    await _reading(live)
    projection.warm_consent("C1", "conv")  # already under way: not read twice
    call = asyncio.create_task(projection.consent_purposes("C1", "conv"))  # joins the warm read
    live.gate.set()
    assert await call == {"service"}
    assert await projection.consent_purposes("C1", "conv") == {"service"}
    projection.warm_consent("C1", "conv")  # already held
    assert live.reads == 1


async def test_a_warm_read_that_fails_keeps_nothing_and_the_call_fails_closed(setup) -> None:
    projection, live, _ = setup
    live.down = True
    projection.apply(watermark("consent", NOW))
    projection.warm_consent("C1", "conv")
    await _reading(live)
    with pytest.raises(FactUnavailable):  # the warm read's failure, or its own
        await projection.consent_purposes("C1", "conv")
    live.down = False
    live.purposes["C1"] = {"service"}
    reads = live.reads
    assert await projection.consent_purposes("C1", "conv") == {"service"}
    assert live.reads == reads + 1
