"""The adaptive admission limit, driven by synthetic turn latencies and a clock the test steps.

No server, no sleeps: the limiter only ever sees the samples and the clock it is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from orchestrator.adaptive_limit import AdaptiveLimit, LimitSettings
from orchestrator.admission import DEFAULT_TARGET_SECONDS, Admission, AdmissionLimits, latency_target
from shared.errors import ConfigurationError, Overloaded


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def window(limit: AdaptiveLimit, clock: Clock, seconds: float, *, filled: bool = True, samples: int = 10) -> int:
    """One window of ``samples`` turns that each took ``seconds``; returns the limit it leaves."""
    if filled:
        limit.filled()
    clock.now += limit.settings.window_seconds
    for _ in range(samples):
        limit.record(seconds)
    return limit.limit


def test_it_starts_at_the_ceiling_and_cuts_in_proportion_to_the_overshoot() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=4, ceiling=32), clock=clock)
    assert limit.limit == 32
    assert window(limit, clock, 0.4) == 24  # 32 * 0.3 / 0.4
    assert limit.latency == pytest.approx(0.4)
    assert window(limit, clock, 3.0) == 12  # ten times the target: halved, no more
    assert window(limit, clock, 0.31) == 11  # just over: at least one less


def test_it_never_falls_below_the_floor_however_slow_turns_are() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=8, ceiling=32), clock=clock)
    assert [window(limit, clock, 20.0) for _ in range(4)] == [16, 8, 8, 8]


def test_under_the_target_it_grows_by_one_a_window_up_to_the_ceiling_when_every_slot_was_used() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=2, ceiling=6), clock=clock, limit=3)
    assert [window(limit, clock, 0.1) for _ in range(5)] == [4, 5, 6, 6, 6]


def test_a_limit_that_was_never_reached_does_not_grow() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=2, ceiling=32), clock=clock, limit=10)
    assert window(limit, clock, 0.1, filled=False) == 10
    assert window(limit, clock, 0.1, filled=True) == 11
    assert window(limit, clock, 0.1, filled=False) == 11  # a window forgets it was filled


def test_a_window_closes_only_when_old_enough_and_full_enough() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=2, ceiling=32, window_seconds=0.5, min_samples=10), clock=clock)
    for _ in range(50):  # many slow turns within half a second: not a window yet
        limit.record(2.0)
    assert (limit.limit, limit.latency) == (32, None)
    clock.now += 0.5
    limit.record(2.0)
    assert limit.limit == 16
    clock.now += 5.0
    for _ in range(9):  # old enough, but too few turns to judge
        limit.record(2.0)
    assert limit.limit == 16
    limit.record(2.0)
    assert limit.limit == 8


def test_the_window_is_judged_by_its_90th_percentile_not_its_worst_turn() -> None:
    clock = Clock()
    limit = AdaptiveLimit(LimitSettings(0.3, floor=2, ceiling=32, min_samples=10), clock=clock)
    clock.now += 1
    for seconds in [0.1] * 9 + [5.0]:  # one stalled turn in ten
        limit.filled()
        limit.record(seconds)
    assert limit.latency == pytest.approx(0.1)
    assert limit.limit == 32


@pytest.mark.parametrize(("target", "floor", "ceiling"), [(0.0, 1, 2), (-1.0, 1, 2), (0.3, 0, 2), (0.3, 3, 2)], ids=str)
def test_bounds_that_cannot_work_are_refused_with_what_to_set(target: float, floor: int, ceiling: int) -> None:
    with pytest.raises(ConfigurationError) as raised:
        LimitSettings(target, floor=floor, ceiling=ceiling)
    assert "SWITCHBOARD_" in str(raised.value.hint)


def test_the_target_is_the_configured_one_else_offline_only() -> None:
    assert latency_target(None, model=False) == DEFAULT_TARGET_SECONDS
    assert latency_target(None, model=True) is None  # a model's own latency is not load
    assert latency_target(2.5, model=True) == 2.5
    assert latency_target(0.0, model=False) is None  # 0 turns adapting off


@contextmanager
def turn(admission: Admission, clock: Clock, seconds: float) -> Iterator[None]:
    with admission.admit("turn"):
        yield
        clock.now += seconds


def test_admission_sheds_at_the_adaptive_limit_and_reports_it() -> None:
    clock = Clock()
    admission = Admission(AdmissionLimits(max_in_flight=4, min_in_flight=2, target_seconds=0.3), clock=clock)
    assert admission.load() == {
        "in_flight": 0,
        "capacity": 4,
        "shed": 0,
        "floor": 2,
        "ceiling": 4,
        "target_ms": 300,
        "latency_ms": 0,
    }
    clock.now += 1
    for _ in range(10):  # slow turns, one at a time: the window says too slow
        with turn(admission, clock, 0.75):
            pass
    assert admission.capacity == 2
    with turn(admission, clock, 0.1), turn(admission, clock, 0.1):
        with pytest.raises(Overloaded) as refused, admission.admit("turn"):
            pass
        assert refused.value.retry_after == 1
    load = admission.load()
    assert (load["capacity"], load["shed"], load["latency_ms"]) == (2, 1, 750)
    metrics = admission.exposition().decode()
    for line in (
        "switchboard_capacity 2.0",
        "switchboard_capacity_floor 2.0",
        "switchboard_capacity_ceiling 4.0",
        "switchboard_latency_target_seconds 0.3",
        "switchboard_turn_latency_seconds 0.75",
    ):
        assert line in metrics.splitlines(), line


def test_starting_conversations_does_not_steer_the_limit() -> None:
    clock = Clock()
    admission = Admission(AdmissionLimits(max_in_flight=4, min_in_flight=2, target_seconds=0.3), clock=clock)
    clock.now += 1
    for _ in range(20):
        with admission.admit("conversation"):
            clock.now += 5.0
    assert (admission.capacity, admission.load()["latency_ms"]) == (4, 0)


def test_without_a_target_the_limit_is_fixed_and_reported_as_before() -> None:
    clock = Clock()
    admission = Admission(AdmissionLimits(max_in_flight=3), clock=clock)
    clock.now += 1
    for _ in range(20):
        with turn(admission, clock, 9.0):
            pass
    assert admission.load() == {"in_flight": 0, "capacity": 3, "shed": 0}
    assert "switchboard_capacity_floor" not in admission.exposition().decode()


def test_processes_sharing_the_limit_divide_floor_and_ceiling() -> None:
    limits = AdmissionLimits(max_in_flight=32, min_in_flight=8, target_seconds=0.3)
    shares = [limits.share(worker, 3) for worker in range(3)]
    assert [(s.min_in_flight, s.max_in_flight) for s in shares] == [(3, 11), (3, 11), (2, 10)]
    clock = Clock()
    adaptive = AdmissionLimits(max_in_flight=2, min_in_flight=8, target_seconds=0.3).adaptive(clock)
    assert adaptive is not None and (adaptive.settings.floor, adaptive.settings.ceiling) == (2, 2)


def test_a_full_process_refuses_before_any_other_check_and_counts_it_once() -> None:
    admission = Admission(AdmissionLimits(max_in_flight=1))
    admission.refuse_if_full("turn")  # a slot is free: nothing happens
    with admission.admit("turn"), pytest.raises(Overloaded):
        admission.refuse_if_full("turn")
    assert admission.load() == {"in_flight": 0, "capacity": 1, "shed": 1}
