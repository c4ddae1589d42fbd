"""Sending checkpoint lines to a witness in order, from a thread of its own.

An audit write must never wait for a witness: lines are queued and one daemon thread delivers
them in order, retrying with a growing pause while the witness is away. At shutdown what is
queued is delivered within a bound; a witness still away then lags, which verify shows.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
_STOP = b""


class LineQueue:
    """Delivers lines with ``deliver(line) -> bool`` (True: kept; False: refused for good)."""

    def __init__(self, name: str, deliver: Callable[[bytes], bool], where: str) -> None:
        self._name, self._deliver, self._where = name, deliver, where
        self._queue: queue.Queue[bytes] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, line: bytes) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._queue.put(line)

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _stopping(self) -> bool:
        return not self._queue.empty() and self._queue.queue[-1] == _STOP

    def _run(self) -> None:
        while (line := self._queue.get()) != _STOP:
            delay = 0.1
            while True:
                try:
                    if not self._deliver(line):
                        log.error("the audit witness at %s refused a checkpoint; the local copy stands", self._where)
                    break
                except Exception as exc:  # any failure to reach it: try again, never lose the order
                    log.warning("the audit witness at %s is not answering (%s); retrying", self._where, exc)
                if self._stopping():
                    break  # shutting down: verify will show the witness lagging
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
