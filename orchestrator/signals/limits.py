"""A budget of refused signals per source, so a flood of bad requests cannot fill the audit log.

Every refusal (bad signature, malformed, unknown type, replay) is recorded in ``signal_log``
and, through the gateway, in the hash-chained audit log. A source spending its budget gets
HTTP 429 with ``Retry-After`` instead, and those answers are not recorded (only the moment it
tripped is). Accepted signals neither spend nor need budget, so a carrier whose feed is fine
is never slowed by its own few mistakes.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_BURST = 20
DEFAULT_PER_MINUTE = 30.0


@dataclass
class _Bucket:
    tokens: float
    at: float
    limited: bool = False


class RefusalBudget:
    """Token bucket per source: ``burst`` refusals at once, refilled at ``per_minute``."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_minute: float = DEFAULT_PER_MINUTE,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_minute <= 0:
            raise ValueError("a refusal budget needs burst >= 1 and per_minute > 0")
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._max = max_sources
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @classmethod
    def share(cls, workers: int) -> RefusalBudget:
        """The default budget divided among ``workers`` orchestrator processes serving one port,
        so a flooding source gets the configured budget in all, not that many times it."""
        if workers <= 1:
            return cls()
        return cls(burst=max(1, DEFAULT_BURST // workers), per_minute=DEFAULT_PER_MINUTE / workers)

    def spend(self, source: str | None) -> tuple[bool, float, bool]:
        """Spend one refusal for ``source``: (allowed, seconds until the next is, just tripped)."""
        key = source or "unknown"
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        self._buckets[key] = bucket  # most recently seen last
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)  # the longest-quiet source starts afresh
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.limited = False
            return True, 0.0, False
        tripped = not bucket.limited
        bucket.limited = True
        return False, (1.0 - bucket.tokens) / self._rate, tripped

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
