"""Conversation-store throughput: turns saved per second on SQLite and PostgreSQL.

One turn = load + save_turn with two transcript entries (what the supervisor writes per
customer turn). Each backend runs one conversation at a time, then ``concurrency`` at once
from one process, as one orchestrator replica would. "Peak overlap" is how many turns were
inside the store at the same moment: PostgreSQL overlaps them across its pool; the SQLite store
runs every statement on its own worker thread, so turns overlap there too (their statements
queue on that one thread while the event loop stays free). PostgreSQL is
``SWITCHBOARD_TEST_POSTGRES_URL`` (default: local).

    .venv/bin/python benchmarks/conversation_store.py [turns] [concurrency]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.conversations import TranscriptEntry
from orchestrator.storage import open_conversation_store

PG = os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def run(url: str, turns: int, concurrency: int) -> tuple[float, float, float, int]:
    store = await open_conversation_store(url, default_sqlite=Path("unused.db"))
    latencies: list[float] = []
    # How many turns were in the store at the same moment: proof the workers overlap.
    in_flight = peak = 0
    try:
        ids = [(await store.create("chat"))[0].conversation_id for _ in range(concurrency)]

        async def worker(conversation_id: str) -> None:
            nonlocal in_flight, peak
            for i in range(turns // concurrency):
                in_flight += 1
                peak = max(peak, in_flight)
                started = time.perf_counter()
                state = await store.load(conversation_id)
                state.turns += 1
                now = time.time()
                await store.save_turn(
                    state,
                    [
                        TranscriptEntry(at=now, role="customer", text=f"question {i}", channel="chat"),
                        TranscriptEntry(at=now, role="agent", text=f"answer {i} " * 20, channel="chat"),
                    ],
                )
                latencies.append(time.perf_counter() - started)
                in_flight -= 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in ids))
        elapsed = time.perf_counter() - began
    finally:
        await store.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99, peak


async def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as tmp:
        backends = {"sqlite": f"sqlite:///{tmp}/bench.db", "postgresql": f"{PG}?schema={schema}"}
        try:
            for name, url in backends.items():
                for at_once in sorted({1, concurrency}):
                    rate, p50, p99, peak = await run(url, turns, at_once)
                    print(
                        f"{name:<11} {turns} turns, {at_once} at once (peak overlap {peak}): {rate:7.0f} turns/s"
                        f"  p50 {p50:.2f} ms  p99 {p99:.2f} ms"
                    )
        finally:
            conn = await asyncpg.connect(PG)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
