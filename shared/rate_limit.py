"""Token buckets per key (a client id, an address): how often one caller may knock on a door.

Each key has ``burst`` tokens, refilled at ``per_second``; a request takes one. An empty bucket
answers with the seconds until the next token, which the endpoint sends as ``Retry-After`` with
a 429. At most ``max_keys`` buckets are kept (least recently used go first), so a stream of
made-up keys cannot grow memory without bound; a forgotten key starts again with a full bucket.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    burst: int
    per_second: float


class RateLimiter:
    def __init__(self, limit: Limit, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self._limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> int | None:
        """Take a token for ``key``: None when allowed, else the whole seconds to wait (at least 1)."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self._limit.burst), now))
        tokens = min(float(self._limit.burst), tokens + (now - at) * self._limit.per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if allowed:
            return None
        return max(1, math.ceil((1.0 - tokens) / self._limit.per_second))
