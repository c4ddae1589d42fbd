"""One dedicated thread for blocking work (a SQLite connection's statements), awaited from the loop.

Work runs on the thread in submission order, one item at a time. The result goes straight to
an asyncio future of the submitting loop: no ``concurrent.futures`` future, work item or
executor bookkeeping in between, which made a hand-off cost about twice as much CPU as this
(``run_in_executor`` on a one-thread ``ThreadPoolExecutor``), and a governed call makes several.

Work whose awaiting task was cancelled before the thread reached it is skipped, as an
executor skips a cancelled pending future; work already running finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

_Item = tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


class ThreadWorker:
    """A thread of its own that runs ``await worker.run(work)`` calls one at a time, in order."""

    def __init__(self, name: str) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._closed = False
        # A daemon, so a worker nobody closed cannot hold the interpreter open at exit; what it
        # was running then is what a crash would interrupt (SQLite rolls it back on next open).
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def run[T](self, work: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``work`` for the thread; the future settles with its result or exception."""
        if self._closed:
            raise RuntimeError("the worker thread is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((work, future, loop))
        return future

    def close(self, *, wait: bool = True) -> None:
        """Let queued work finish, then end the thread (joined with ``wait``)."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        if wait and self._thread is not threading.current_thread():
            self._thread.join()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            work, future, loop = item
            if future.cancelled():
                continue
            try:
                result = work()
            except BaseException as exc:  # handed to the awaiting task, as an executor would
                self._settle(loop, future, None, exc)
            else:
                self._settle(loop, future, result, None)

    @staticmethod
    def _settle(
        loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, exc: BaseException | None
    ) -> None:
        # A closed loop raises RuntimeError: nobody is left to hear the result.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, future, result, exc)


def _resolve(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
