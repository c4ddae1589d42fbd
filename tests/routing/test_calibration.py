"""The offline brain's confidence: acted on only where validation folds found it safe."""

from __future__ import annotations

import pytest

from orchestrator.routing import OfflineBrain, build_brain, calibration, calibration_fit
from orchestrator.routing.calibration import OPERATING_POINT, ROUTE_THRESHOLD, Signals, confidence, likelihood
from shared.errors import ConfigurationError
from shared.settings import Settings
from tests.routing.test_everyday_probe import PROBE_FILE


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


def test_the_brain_reads_the_fit_made_for_its_budget() -> None:
    points = calibration.curve()
    assert [p.budget for p in points] == list(calibration.BUDGETS)
    assert calibration_fit.BUDGET == calibration.TARGET_WRONG
    chosen = next(p for p in points if p.budget == calibration.TARGET_WRONG)
    assert chosen.operating_point == OPERATING_POINT
    # A looser budget acts on more answers: a lower point, more answered right, more wrong.
    assert [p.operating_point for p in points] == sorted((p.operating_point for p in points), reverse=True)
    assert [p.in_domain for p in points] == sorted(p.in_domain for p in points)
    assert all(p.wrong <= p.budget for p in points)


def _fit(budgets: tuple[float, ...]) -> calibration.Fit:
    curve = tuple(
        calibration.Point(b, round(0.9 - i / 10, 4), round(0.6 + i / 20, 4), b) for i, b in enumerate(budgets)
    )
    return calibration.Fit(messages=120, coefficients=(1.5, 2.25, 0.125), intercept=-1.0, curve=curve)


def test_the_written_fit_is_what_the_brain_reads_back() -> None:
    fitted = _fit(calibration.BUDGETS)
    namespace: dict[str, object] = {}
    exec(compile(calibration.render(fitted), "calibration_fit.py", "exec"), namespace)
    assert namespace["COEFFICIENTS"] == fitted.coefficients
    assert namespace["INTERCEPT"] == fitted.intercept
    assert namespace["FOLD_MESSAGES"] == 120
    assert namespace["BUDGET"] == calibration.TARGET_WRONG
    assert namespace["OPERATING_POINT"] == fitted.chosen().operating_point
    assert tuple(calibration.Point(*row) for row in namespace["CURVE"]) == fitted.curve  # type: ignore[attr-defined]


def test_a_fit_without_every_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budgets"):
        calibration.render(_fit(calibration.BUDGETS[:-1]))


def test_each_fitted_budget_has_its_operating_point_and_another_is_refused() -> None:
    for point in calibration.curve():
        assert calibration.operating_point(point.budget) == point.operating_point
    assert calibration.operating_point() == OPERATING_POINT
    with pytest.raises(ConfigurationError) as refused:
        calibration.operating_point(0.01)
    assert refused.value.hint is not None and "SWITCHBOARD_ROUTE_WRONG_BUDGET" in refused.value.hint


def test_a_lower_budget_of_wrong_answers_acts_on_fewer_messages_and_only_on_those_the_default_acts_on(
    brain: OfflineBrain,
) -> None:
    # Through the settings a stack starts with; the weights come from the run's shared cache.
    strict = build_brain(brain.specs, Settings(route_wrong_budget=0.02), cache_dir=Settings().cache_dir)
    assert isinstance(strict, OfflineBrain)
    assert calibration.operating_point(0.02) > calibration.operating_point()
    lines = PROBE_FILE.read_text(encoding="utf-8").splitlines()
    messages = [line.split("|", 2)[2].strip() for line in lines if line.count("|") >= 2 and not line.startswith("#")]
    acted = [brain.decide(m).confidence >= ROUTE_THRESHOLD for m in messages]
    acted_strictly = [strict.decide(m).confidence >= ROUTE_THRESHOLD for m in messages]
    assert all(default for default, strictly in zip(acted, acted_strictly, strict=True) if strictly)
    assert sum(acted_strictly) < sum(acted)


def test_a_budget_with_no_fitted_point_stops_the_build(brain: OfflineBrain) -> None:
    with pytest.raises(ConfigurationError, match=r"budget of 0\.01"):
        build_brain(brain.specs, Settings(route_wrong_budget=0.01))
