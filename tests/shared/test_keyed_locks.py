"""Per-conversation locks: turns of one conversation never interleave, and no lock outlives its use."""

from __future__ import annotations

import asyncio

import anyio

from shared.keyed_locks import KeyedLocks


async def test_one_key_is_exclusive_and_other_keys_run_freely() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    first_in, release_first = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with locks["c1"]:
            inside.append("a")
            first_in.set()
            await release_first.wait()
            inside.remove("a")

    async def same_key() -> None:
        async with locks["c1"]:
            assert inside == [], "two holders of one conversation at once"

    async def other_key() -> None:
        async with locks["c2"]:
            assert inside == ["a"]

    with anyio.fail_after(5):
        a = asyncio.create_task(holder())
        await first_in.wait()
        b = asyncio.create_task(same_key())
        await other_key()  # runs while c1 is held
        await asyncio.sleep(0)
        assert not b.done() and locks.in_use == 1
        release_first.set()
        await asyncio.gather(a, b)
    assert locks.in_use == 0


async def test_locks_are_dropped_after_use_so_memory_follows_turns_in_flight() -> None:
    locks = KeyedLocks()
    for n in range(10_000):
        async with locks[f"conversation-{n}"]:
            assert locks.in_use == 1
    assert locks.in_use == 0


async def test_a_waiter_cancelled_before_it_got_the_lock_is_not_left_counted() -> None:
    locks = KeyedLocks()
    held, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with locks["c1"]:
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with locks["c1"]:
            raise AssertionError("the cancelled waiter must never hold the lock")

    with anyio.fail_after(5):
        a = asyncio.create_task(holder())
        await held.wait()
        w = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        w.cancel()
        await asyncio.gather(w, return_exceptions=True)
        release.set()
        await a
    assert locks.in_use == 0
    async with locks["c1"]:  # still usable
        pass
