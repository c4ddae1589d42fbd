"""Stream tickets, the live-event hub, and the channel store, each on its own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from orchestrator.channels.events import StreamTickets, TurnHub
from orchestrator.channels.links import find_link_code, new_code
from orchestrator.channels.store import ChannelStore
from shared.errors import Unauthenticated


def test_a_ticket_opens_only_its_own_conversation_and_only_for_a_while() -> None:
    tickets = StreamTickets(ttl_seconds=60)
    ticket = tickets.issue("conv-a", now=1000.0)
    tickets.check(ticket, "conv-a", now=1030.0)
    with pytest.raises(Unauthenticated, match="expired"):
        tickets.check(ticket, "conv-a", now=1061.0)
    with pytest.raises(Unauthenticated, match="not valid"):
        tickets.check(ticket, "conv-b", now=1030.0)
    payload, _, sig = ticket.partition(".")
    for bad in ("", "garbage", "a.b", payload + "." + sig[:-2] + "AA", ticket + "x", "%%%.###"):
        with pytest.raises(Unauthenticated):
            tickets.check(bad, "conv-a", now=1030.0)
    with pytest.raises(Unauthenticated):  # another process's key
        StreamTickets(ttl_seconds=60).check(ticket, "conv-a", now=1030.0)


async def test_hub_delivers_to_watchers_of_that_conversation_only() -> None:
    hub = TurnHub()
    with hub.watch("conv-a") as a, hub.watch("conv-b") as b:
        hub.publish("conv-a", {"type": "working"})
        async with asyncio.timeout(1):
            assert await a.get() == {"type": "working"}
        assert b.empty()
        for _ in range(200):  # a slow watcher never blocks the turn
            hub.publish("conv-a", {"type": "idle"})
    hub.publish("conv-a", {"type": "working"})  # nobody watching: nothing to do


def test_link_codes_are_eight_digits() -> None:
    assert all(len(c) == 8 and c.isdigit() for c in (new_code() for _ in range(50)))
    assert find_link_code("it's 12345678") == "12345678"
    assert find_link_code("123456") is None
    assert find_link_code("+4477009001234") is None
    assert find_link_code("") is None


async def test_link_codes_are_single_use_replaced_and_expire(tmp_path: Path) -> None:
    store = ChannelStore(tmp_path / "channels.db")
    await store.put_link_code("11112222", "conv-a", ttl_seconds=60)
    assert await store.redeem_link_code("11112222") == "conv-a"
    assert await store.redeem_link_code("11112222") is None
    await store.put_link_code("33334444", "conv-a", ttl_seconds=60)
    await store.put_link_code("55556666", "conv-a", ttl_seconds=60)  # replaces the one before
    assert await store.redeem_link_code("33334444") is None
    assert await store.redeem_link_code("55556666") == "conv-a"
    await store.put_link_code("77778888", "conv-b", ttl_seconds=-1)
    assert await store.redeem_link_code("77778888") is None
    assert await store.redeem_link_code("not-a-code") is None


async def test_calls_remember_their_conversation_and_counts(tmp_path: Path) -> None:
    store = ChannelStore(tmp_path / "channels.db")
    call = await store.call("CA1")
    assert call.conversation_id is None and call.silences == 0
    assert await store.count("CA1", "silences") == 1
    assert await store.count("CA1", "link_attempts") == 1
    await store.attach("CA1", "conv-a")
    again = await store.call("CA1")
    assert again.conversation_id == "conv-a" and again.silences == 0 and again.link_attempts == 1
    assert await store.count("CA-unknown", "silences") == 0
    with pytest.raises(KeyError):
        await store.count("CA1", "conversation_id; DROP TABLE voice_calls")
    # A second store on the same file sees the same calls (a restart loses nothing).
    assert (await ChannelStore(tmp_path / "channels.db").call("CA1")).conversation_id == "conv-a"
    assert time.time() > 0
