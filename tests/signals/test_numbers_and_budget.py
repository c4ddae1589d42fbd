"""The number projection the gateway keeps for signals, and the refusal budget per source."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.numbers import NumberDirectory
from orchestrator.signals import SIGNATURE_HEADER, SignalService, signal_routes, signature
from orchestrator.signals.limits import RefusalBudget
from shared.bus import InProcessBus
from shared.events import NUMBER_CHANGED, PLAN_CHANGED, TICKET_UPDATED, new_event
from tests.signals.conftest import SIM_SWAP, notification, rows


class Identity:
    """The identity system's answers by number, counting how often it was asked."""

    def __init__(self, owners: dict[str, str]) -> None:
        self.owners = owners
        self.asked: list[str] = []

    async def __call__(self, msisdn: str) -> str | None:
        self.asked.append(msisdn)
        return self.owners.get(msisdn)


async def test_a_known_number_needs_no_lookup_and_a_miss_is_asked_once() -> None:
    identity = Identity({"+447700900001": "CUST-1"})
    numbers = NumberDirectory(identity)
    assert await numbers.customer("+447700900001") == "CUST-1"
    assert await numbers.customer("+447700900001") == "CUST-1"
    assert identity.asked == ["+447700900001"]
    assert await numbers.customer("+447700900999") is None  # not ours: asked, nothing kept
    assert numbers.known("+447700900999") is None

    # Events teach it numbers it was never asked about: no lookup on the first signal either.
    plan = new_event(PLAN_CHANGED, "/systems/billing", {"msisdn": "+447700900002"}, subject="CUST-2")
    numbers.apply(plan)
    assert await numbers.customer("+447700900002") == "CUST-2"
    numbers.apply(new_event(TICKET_UPDATED, "/systems/support", {"email": "a@example.com"}, subject="CUST-3"))
    numbers.apply(new_event(PLAN_CHANGED, "/systems/billing", {"msisdn": "+447700900004"}))  # no subject
    assert numbers.known("+447700900004") is None
    assert identity.asked == ["+447700900001", "+447700900999"]


async def test_a_number_that_moves_follows_its_new_owner() -> None:
    identity = Identity({"+447700900001": "CUST-1"})
    numbers = NumberDirectory(identity)
    await numbers.customer("+447700900001")
    moved = {"customer_id": "CUST-1", "msisdn": "+447700900011", "previous_msisdn": "+447700900001"}
    numbers.apply(new_event(NUMBER_CHANGED, "/systems/identity", moved, subject="CUST-1"))
    assert numbers.known("+447700900011") == "CUST-1"
    assert numbers.known("+447700900001") is None  # a miss (asked again), never the old owner

    # The old number given to someone else: their event makes it theirs, and CUST-1 keeps its new one.
    reassigned = {"customer_id": "CUST-9", "msisdn": "+447700900001", "previous_msisdn": None}
    numbers.apply(new_event(NUMBER_CHANGED, "/systems/identity", reassigned))
    assert numbers.known("+447700900001") == "CUST-9"
    assert numbers.known("+447700900011") == "CUST-1"
    # A customer's event naming another number means the number changed even without a change event.
    numbers.apply(new_event(PLAN_CHANGED, "/systems/billing", {"msisdn": "+447700900012"}, subject="CUST-1"))
    assert numbers.known("+447700900011") is None and numbers.known("+447700900012") == "CUST-1"
    assert len(numbers) == 2


async def test_memory_is_bounded() -> None:
    numbers = NumberDirectory(Identity({}), max_entries=3)
    for i in range(5):
        numbers.learn(f"+4477009000{i:02d}", f"CUST-{i}")
    assert len(numbers) == 3 and numbers.known("+447700900000") is None and numbers.known("+447700900004")


def test_the_budget_refills_over_time() -> None:
    now = [1000.0]
    budget = RefusalBudget(burst=2, per_minute=60, clock=lambda: now[0])
    assert budget.spend("10.0.0.1")[0] and budget.spend("10.0.0.1")[0]
    allowed, wait, tripped = budget.spend("10.0.0.1")
    assert not allowed and tripped and wait == pytest.approx(1.0)
    assert budget.spend("10.0.0.1") == (False, pytest.approx(1.0), False)  # tripped once per flood
    assert budget.spend("10.0.0.2")[0]  # another source has its own budget
    now[0] += 1.0
    assert budget.spend("10.0.0.1")[0]
    assert RefusalBudget.retry_after_header(0.2) == "1" and RefusalBudget.retry_after_header(2.5) == "3"
    with pytest.raises(ValueError):
        RefusalBudget(burst=0)


async def test_a_flood_of_refused_signals_gets_429_and_does_not_fill_the_log(tmp_path: Path) -> None:
    now = [1000.0]
    bus = InProcessBus()
    service = await SignalService.start(
        data_dir=tmp_path, secret="s3cret", bus=bus, budget=RefusalBudget(burst=3, per_minute=6, clock=lambda: now[0])
    )
    app = Starlette(routes=signal_routes(lambda: service))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:

            async def post(body: bytes, sign: bool = True) -> httpx.Response:
                headers = {SIGNATURE_HEADER: signature(b"s3cret", body)} if sign else {}
                return await http.post("/api/signals", content=body, headers=headers)

            answers = [await post(b'{"flood": %d}' % i, sign=False) for i in range(50)]
            assert [a.status_code for a in answers[:3]] == [401, 401, 401]
            assert {a.status_code for a in answers[3:]} == {429}
            limited = answers[3].json()["error"]
            assert limited["code"] == "too_many_refusals" and "127.0.0.1" in limited["message"]
            assert answers[3].headers["Retry-After"] == "10"

            # A good signal from the same source is still accepted: only refusals spend budget.
            good = json.dumps(notification(SIM_SWAP, "+447700900123")).encode()
            assert (await post(good)).status_code == 202
            assert (await post(good)).status_code == 429  # its replay is a refusal, over budget

            codes = rows(tmp_path / "signals.db", "SELECT code FROM signal_log WHERE outcome = 'refused'")
            # Three refusals and the moment the flood began; the other 48 answers left no trace.
            assert [c for (c,) in codes] == ["bad_signature"] * 3 + ["too_many_refusals"]

            now[0] += 10.0  # one refusal's worth of budget is back
            assert (await post(b"{}", sign=False)).status_code == 401
            assert (await post(b"{}", sign=False)).status_code == 429
    finally:
        await service.stop()
        await bus.close()


async def test_a_desk_without_a_bus_records_and_the_process_with_the_bus_relays(tmp_path: Path) -> None:
    # ``up --workers``: the orchestrator process records signals; the process holding the bus
    # (systems and gateway) relays what it finds in the shared signals.db.
    bus = InProcessBus()
    seen: list[str] = []
    relayed = asyncio.Event()

    async def consume(event: object) -> None:
        seen.append(event.get_id())  # type: ignore[attr-defined]
        relayed.set()

    subscription = await bus.subscribe("watch", consume)
    recorder = await SignalService.start(data_dir=tmp_path, secret="s3cret", bus=None)
    relay = await SignalService.start(data_dir=tmp_path, secret="s3cret", bus=bus)
    app = Starlette(routes=signal_routes(lambda: recorder))
    try:
        body = json.dumps(notification(SIM_SWAP, "+447700900001")).encode()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            signed = {SIGNATURE_HEADER: signature(b"s3cret", body)}
            accepted = await http.post("/api/signals", content=body, headers=signed)
        assert accepted.status_code == 202, accepted.text
        async with asyncio.timeout(10):  # the relay's sweep finds the row another desk wrote
            await relayed.wait()
        assert seen == [accepted.json()["event_id"]]
        assert recorder.reactions is None
    finally:
        await relay.stop()
        await recorder.stop()
        await subscription.stop()
