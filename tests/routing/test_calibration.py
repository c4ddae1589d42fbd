"""The offline brain's confidence: acted on only where validation folds found it safe."""

from __future__ import annotations

import pytest

from orchestrator.routing import calibration
from orchestrator.routing.calibration import OPERATING_POINT, ROUTE_THRESHOLD, Signals, confidence, likelihood
from shared.settings import Settings


def test_the_operating_point_is_mapped_onto_the_supervisors_threshold() -> None:
    assert Settings().route_threshold == ROUTE_THRESHOLD
    assert len(calibration.COEFFICIENTS) == len(Signals(0.5, 0.5, 1.0).values())


@pytest.mark.parametrize("known", [1.0, 0.8])
def test_more_probability_and_lead_never_lower_the_likelihood(known: float) -> None:
    grid = [i / 10 for i in range(11)]
    for margin in grid:
        chances = [likelihood(Signals(p, min(p, margin), known)) for p in grid]
        assert chances == sorted(chances)


def test_an_answer_below_the_operating_point_is_not_acted_on_whatever_the_classifier_says() -> None:
    # A confident-looking classifier with no lead over the runner-up: the folds say ask.
    doubtful = Signals(probability=0.5, margin=0.0, known=1.0)
    assert likelihood(doubtful) < OPERATING_POINT
    assert confidence(doubtful) < ROUTE_THRESHOLD


def test_a_clear_answer_keeps_the_classifiers_own_scale() -> None:
    clear = Signals(probability=0.97, margin=0.95, known=1.0)
    assert likelihood(clear) >= OPERATING_POINT
    # Not squeezed: the supervisor's topic-switch threshold (0.7) still means what it meant.
    assert confidence(clear) == pytest.approx(0.97)


def test_confidence_stays_between_zero_and_one() -> None:
    for signals in (Signals(0.0, 0.0, 0.0), Signals(1.0, 1.0, 1.0), Signals(0.3, 0.1, 0.4)):
        assert 0.0 <= confidence(signals) <= 1.0
