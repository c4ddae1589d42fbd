"""Sliding-window call limits per (agent, conversation): a tool-call loop stops here.

In memory on purpose: a loop is a burst within one gateway process, and forgetting the
window on restart only ever lets a few more calls through, each still decided and audited.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._seen: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)

    def allow(self, agent: str, conversation_id: str) -> bool:
        """Count one call; False once the window already holds ``limit`` calls."""
        now = self._clock()
        seen = self._seen[(agent, conversation_id)]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True
