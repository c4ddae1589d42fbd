"""Sliding-window call limits per (agent, conversation): a tool-call loop stops here.

In memory on purpose: a loop is a burst within one gateway process, and forgetting the
window on restart only ever lets a few more calls through, each still decided and audited.

Bounded: windows are kept least recently used first, and every call drops the windows at the
front whose newest call has left the window (they would allow the next call anyway), so
memory follows the conversations active within one window, not every conversation ever seen.
``max_windows`` caps even that against a flood of fresh conversation ids.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_windows: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_windows = max_windows
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    @property
    def windows(self) -> int:
        """How many (agent, conversation) windows are held (no ``__len__``: an empty limiter is truthy)."""
        return len(self._seen)

    def allow(self, agent: str, conversation_id: str) -> bool:
        """Count one call; False once the window already holds ``limit`` calls."""
        now = self._clock()
        horizon = now - self.window
        key = (agent, conversation_id)
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = deque()
        else:
            self._seen.move_to_end(key)
        while seen and seen[0] <= horizon:
            seen.popleft()
        allowed = len(seen) < self.limit
        if allowed:
            seen.append(now)
        self._forget_idle(horizon)
        return allowed

    def _forget_idle(self, horizon: float) -> None:
        # The front is the least recently used window; an idle one there holds no call newer
        # than the horizon. Stop at the first live one: everything behind it was used later.
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if (oldest and oldest[-1] > horizon) and len(self._seen) <= self.max_windows:
                break
            self._seen.popitem(last=False)
