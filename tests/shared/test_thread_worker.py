"""The dedicated worker thread: order, results and errors back on the loop, cancelled work skipped."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator

import anyio
import pytest

from shared.thread_worker import ThreadWorker


@pytest.fixture
def worker() -> Iterator[ThreadWorker]:
    one = ThreadWorker("test-worker")
    yield one
    one.close()


async def test_work_runs_off_the_loop_in_submission_order(worker: ThreadWorker) -> None:
    ran: list[tuple[int, str]] = []

    def step(i: int) -> int:
        ran.append((i, threading.current_thread().name))
        return i * i

    with anyio.fail_after(5):
        results = await asyncio.gather(*(worker.run(functools.partial(step, i)) for i in range(50)))
    assert results == [i * i for i in range(50)]
    assert ran == [(i, "test-worker") for i in range(50)]


async def test_an_exception_reaches_the_awaiting_task_and_the_thread_goes_on(worker: ThreadWorker) -> None:
    def fail() -> None:
        raise LookupError("no such row")

    with anyio.fail_after(5):
        with pytest.raises(LookupError, match="no such row"):
            await worker.run(fail)
        assert await worker.run(lambda: "still serving") == "still serving"


async def test_work_cancelled_before_the_thread_reached_it_is_skipped(worker: ThreadWorker) -> None:
    gate, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocking() -> None:
        started.set()
        gate.wait(5)

    with anyio.fail_after(5):
        first = worker.run(blocking)
        await asyncio.to_thread(started.wait, 5)
        skipped = worker.run(lambda: ran.append("skipped"))
        skipped.cancel()
        gate.set()
        await first
        await worker.run(lambda: ran.append("after"))
    assert ran == ["after"]


async def test_close_lets_queued_work_finish_and_refuses_more(worker: ThreadWorker) -> None:
    gate = threading.Event()
    waited, queued = worker.run(lambda: gate.wait(5)), worker.run(lambda: "queued")
    gate.set()
    worker.close()
    with anyio.fail_after(5):
        assert (await waited, await queued) == (True, "queued")
    with pytest.raises(RuntimeError, match="closed"):
        worker.run(lambda: None)
