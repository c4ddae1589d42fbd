"""The per-(agent, conversation) call limit: exact in its window, and bounded in memory."""

from __future__ import annotations

from gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limit_holds_within_the_window_and_reopens_after_it() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_seconds=60, clock=clock)
    assert [limiter.allow("payment", "c1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("payment", "c2") and limiter.allow("billing", "c1")
    clock.now = 59.9
    assert not limiter.allow("payment", "c1")
    clock.now = 60.1
    assert limiter.allow("payment", "c1")


def test_idle_conversations_are_forgotten_and_live_ones_kept() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, window_seconds=60, clock=clock)
    for n in range(1000):
        limiter.allow("payment", f"old-{n}")
    limiter.allow("payment", "busy")
    limiter.allow("payment", "busy")
    assert limiter.windows == 1001
    clock.now = 61.0
    assert limiter.allow("payment", "new")
    # Every window whose last call left the window is gone, the fresh one stays.
    assert limiter.windows == 1
    clock.now = 62.0
    assert limiter.allow("payment", "busy")  # its window reopened, so forgetting it lost nothing


def test_a_flood_of_fresh_conversations_stays_under_the_cap() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window_seconds=60, clock=clock, max_windows=100)
    for n in range(1000):
        clock.now = n / 1000
        assert limiter.allow("payment", f"c{n}")
    assert limiter.windows == 100
    # The most recent windows are the ones kept, and they still limit.
    assert not limiter.allow("payment", "c999")
