"""The channel store and the signal store on each backend, including replicas sharing one database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.channels.store import open_channel_store
from orchestrator.signals.store import LogEntry, Reaction, SignalStore, open_signal_store
from shared.events import SIGNAL_REFUSED, SIM_SWAPPED, new_event


@pytest.fixture
async def channel_replicas(database_url: str, tmp_path: Path) -> AsyncIterator[list[Any]]:
    stores = [open_channel_store(database_url, default_sqlite=tmp_path / "channels.db") for _ in range(2)]
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


@pytest.fixture
async def signal_replicas(database_url: str, tmp_path: Path) -> AsyncIterator[list[SignalStore]]:
    stores = [await open_signal_store(database_url, default_sqlite=tmp_path / "signals.db") for _ in range(2)]
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


async def test_link_codes_are_single_use_replaced_and_expire(channel_replicas: list[Any]) -> None:
    store, other = channel_replicas
    await store.put_link_code("11112222", "conv-a", ttl_seconds=60)
    assert await other.redeem_link_code("11112222") == "conv-a"  # any replica redeems it
    assert await store.redeem_link_code("11112222") is None
    await store.put_link_code("33334444", "conv-a", ttl_seconds=60)
    await other.put_link_code("55556666", "conv-a", ttl_seconds=60)  # replaces the one before
    assert await store.redeem_link_code("33334444") is None
    await store.put_link_code("77778888", "conv-b", ttl_seconds=-1)
    assert await store.redeem_link_code("77778888") is None
    assert await store.redeem_link_code("not-a-code") is None
    # Two replicas redeeming one code at once: exactly one of them gets the conversation.
    won = await asyncio.gather(*(s.redeem_link_code("55556666") for s in (store, other, store, other)))
    assert won.count("conv-a") == 1 and won.count(None) == 3


async def test_calls_remember_their_conversation_counts_and_what_was_heard(channel_replicas: list[Any]) -> None:
    store, other = channel_replicas
    first = await store.call("CA1")
    assert (first.conversation_id, first.link_attempts, first.silences) == (None, 0, 0)
    assert await store.count("CA1", "silences") == 1
    assert await other.count("CA1", "silences") == 2
    assert await store.count("CA1", "link_attempts") == 1
    await other.attach("CA1", "conv-a")
    again = await store.call("CA1")
    assert again.conversation_id == "conv-a" and again.silences == 0 and again.link_attempts == 1
    assert await store.count("CA-unknown", "silences") == 0
    with pytest.raises(KeyError):
        await store.count("CA1", "conversation_id; DROP TABLE voice_calls")
    await store.count("CA1", "silences")
    await other.heard("CA1")
    assert (await store.call("CA1")).silences == 0
    assert await store.human_heard("CA1") == 0
    await store.set_human_heard("CA1", 5)
    await other.set_human_heard("CA1", 3)  # a late, older update never goes back
    assert await other.human_heard("CA1") == 5
    # Both replicas seeing a call for the first time at once create it once.
    calls = await asyncio.gather(store.call("CA2"), other.call("CA2"), store.call("CA2"))
    assert {c.call_sid for c in calls} == {"CA2"}


async def test_steps_are_claimed_once_and_keep_their_first_answer(channel_replicas: list[Any]) -> None:
    store, other = channel_replicas
    claims = await asyncio.gather(*(s.claim_step("CA3", 1) for s in (store, other, store, other)))
    assert claims.count(True) == 1, "a step is answered by exactly one delivery"
    assert await store.step("CA3", 1) == (None, None)
    await other.set_step("CA3", 1, answer="<Response>holding</Response>")
    await store.set_step("CA3", 1, answer="<Response>late</Response>", result="<Response>done</Response>")
    assert await other.step("CA3", 1) == ("<Response>holding</Response>", "<Response>done</Response>")
    assert [await s.next_step("CA3") for s in (store, other, store)] == [1, 2, 3]
    await store.end_call("CA3")
    assert await other.step("CA3", 1) == (None, None), "answers kept for retries go when the call ends"


async def test_call_memory_ends_and_call_backs(channel_replicas: list[Any]) -> None:
    store, other = channel_replicas
    await store.begin_call("CA4", "+447700900001")
    await other.begin_call("CA4", "+447700900999")  # a retried first request keeps the first caller
    await store.call("CA4")
    await store.attach("CA4", "conv-d")
    assert await store.memory("CA4") == {}
    await other.remember("CA4", {"offer": "conv-x", "tries": 2})
    assert await store.memory("CA4") == {"offer": "conv-x", "tries": 2}
    assert await store.recent_call_from("+447700900001", 0) is None, "not ended yet"
    assert await store.end_call("CA4") == ("conv-d", True)
    assert await other.end_call("CA4") == ("conv-d", False), "a repeated status callback is not a new end"
    assert await other.recent_call_from("+447700900001", 0) == "conv-d"
    assert await other.recent_call_from("+447700900999", 0) is None
    assert await store.recent_call_from("+447700900001", time.time() + 60) is None, "outside the window"
    assert await store.end_call("CA-never-seen") == (None, False)
    await store.count("CA4", "link_attempts")
    await store.begin_call("CA5", "+447700900001")
    await other.call("CA5")
    await other.count("CA5", "link_attempts")
    await other.count("CA5", "link_attempts")
    assert await store.link_attempts_from("+447700900001", 0) == 3
    assert await store.link_attempts_from("+447700900001", time.time() + 60) == 0


def _accepted(signal_id: str) -> tuple[LogEntry, Any]:
    event = new_event(SIM_SWAPPED, "/orchestrator/signals", {"signal_id": signal_id, "msisdn": "+447700900123"})
    entry = LogEntry(
        outcome="accepted",
        body_sha256="ab" * 32,
        event_id=event.get_id(),
        remote="10.0.0.1",
        signal_id=signal_id,
        camara_type="org.camaraproject.sim-swap-subscriptions.v0.swapped",
        msisdn="+447700900123",
    )
    return entry, event


async def test_a_signal_is_accepted_once_across_replicas(signal_replicas: list[SignalStore]) -> None:
    store, other = signal_replicas
    entry, event = _accepted("sig-1")
    assert await store.accept(entry, event)
    again, again_event = _accepted("sig-1")
    assert not await other.accept(again, again_event)  # a replay at another replica
    # Racing copies of a new signal: exactly one is accepted.
    racing = [_accepted("sig-2") for _ in range(4)]
    results = await asyncio.gather(*(s.accept(e, ev) for s, (e, ev) in zip((store, other) * 2, racing, strict=True)))
    assert sorted(results) == [False, False, False, True]

    refusal = new_event(SIGNAL_REFUSED, "/orchestrator/signals", {"code": "replayed_signal"})
    refused = LogEntry(
        outcome="refused",
        body_sha256="cd" * 32,
        event_id=refusal.get_id(),
        signal_id="sig-1",
        code="replayed_signal",
        reason="signal sig-1 was already received",
    )
    await other.refuse(refused, refusal)
    log = await store.log(10)
    assert [(r["outcome"], r["signal_id"]) for r in log] == [
        ("refused", "sig-1"),
        ("accepted", "sig-2"),
        ("accepted", "sig-1"),
    ]
    assert log[0]["code"] == "replayed_signal" and log[2]["remote"] == "10.0.0.1"

    # What was recorded waits in the outbox, in order, until the relay marks it published.
    pending = await store.outbox.pending()
    pending_ids = [ev.get_id() for _, ev in pending]
    assert len(pending_ids) == 3 and pending_ids[0] == event.get_id() and pending_ids[-1] == refusal.get_id()
    await store.outbox.mark_published([seq for seq, _ in pending[:2]])
    assert [ev.get_id() for _, ev in await other.outbox.pending()] == [refusal.get_id()]


async def test_reactions_are_remembered_per_event_and_action(signal_replicas: list[SignalStore]) -> None:
    store, other = signal_replicas

    def reaction(action: str, outcome: str) -> Reaction:
        return Reaction("ev-1", "connectivity-outage", action, "sig-9", "CUST-1", outcome, "{}", "audit-1")

    assert await store.reactions_done("ev-1") == set()
    await store.record_reaction(reaction("open-ticket", "ok"))
    await other.record_reaction(reaction("notify", "error"))
    assert await other.reactions_done("ev-1") == {"open-ticket"}  # an error is retried
    await store.record_reaction(reaction("notify", "denied"))  # the retry's outcome replaces it
    assert await store.reactions_done("ev-1") == {"open-ticket", "notify"}
