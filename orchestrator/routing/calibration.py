"""When the offline brain may act on its answer: its confidence, calibrated on validation folds.

The classifier's own probability is over-confident on wording it has never seen: on validation
folds of the training split (``benchmarks/routing_validation.py``), one in four of its answers
between 0.5 and 0.9 was wrong. Whether to act is therefore decided by a likelihood that the
answer is right, from a logistic model fitted on those folds (``--fit --write`` writes the
constants to ``calibration_fit``, which this module reads) over the classifier's probability,
its lead over the runner-up class and the share of the message's words the brain knows. Other
signals were measured on the folds and added nothing (docs/routing.md), so they are not computed.

``OPERATING_POINT`` is the lowest likelihood at which the folds had at most ``TARGET_WRONG`` of
all messages answered confidently and wrongly. Below it the customer gets a clarifying question
(one more turn); above it a wrong answer costs trust. The budget is 6%, not the 2% the project
aims at: at 2% the folds routed only about 62% of the messages a skill owns. It was 7.5% until the
routing set's everyday wordings and the first-request and clause rules of the offline brain made
6% keep what the project accepts end to end (tests/e2e and tests/routing: a typo-ridden "charged
twice", a change of topic mid-goal, a new specialist learned from its card alone) with more
messages answered right than 7.5% did before; docs/routing.md shows the curve. The test split
is never read to choose any of these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass

from orchestrator.routing import calibration_fit
from shared.errors import ConfigurationError

ROUTE_THRESHOLD = 0.45
"""The supervisor's default ``route_threshold`` (shared.settings); tests/routing checks they agree."""
TARGET_WRONG = 0.06
"""The budget of confident wrong answers the operating point is chosen for."""
BUDGETS = (0.02, 0.03, 0.04, 0.05, TARGET_WRONG, 0.075)
"""The budgets whose operating points the fit also records, to show the trade-off."""

# Fitted by benchmarks/routing_validation.py --fit --write on validation folds of the training split.
COEFFICIENTS: tuple[float, ...] = calibration_fit.COEFFICIENTS
INTERCEPT: float = calibration_fit.INTERCEPT
OPERATING_POINT: float = calibration_fit.OPERATING_POINT
"""The fitted likelihood of a right answer at and above which ``TARGET_WRONG`` was met."""
# Strictly below the threshold, however the likelihood rounds.
_BELOW = 0.999


@dataclass(frozen=True)
class Signals:
    """What the brain knows about one answer, each 0..1."""

    probability: float
    """The classifier's probability for the skill."""
    margin: float
    """Its lead over the runner-up class, whichever it is (a skill, small talk, out of scope)."""
    known: float
    """The share of the message's words the brain has learned (damped as in routing)."""

    def values(self) -> tuple[float, ...]:
        return astuple(self)


def likelihood(signals: Signals, coefficients: tuple[float, ...] = COEFFICIENTS, intercept: float = INTERCEPT) -> float:
    """The fitted probability that the answer is right."""
    z = intercept + sum(w * x for w, x in zip(coefficients, signals.values(), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def confidence(signals: Signals, operating_point: float = OPERATING_POINT) -> float:
    """The confidence to report: the classifier's own (probability times words known) when the
    calibrated likelihood reaches ``operating_point``, else held below ROUTE_THRESHOLD.

    Keeping the classifier's scale above the line keeps what the supervisor's other thresholds
    mean (switching topic mid-goal needs 0.7); below it, the likelihood's share of the operating
    point scales the threshold, so a near miss reads close to it and a wild guess near zero.
    """
    raw = min(max(signals.probability * signals.known, 0.0), 1.0)
    chance = likelihood(signals)
    if chance >= operating_point:
        return max(raw, ROUTE_THRESHOLD)
    return min(raw, _BELOW * ROUTE_THRESHOLD * chance / operating_point)


@dataclass(frozen=True)
class Point:
    """One operating point of the trade-off, as measured on the validation folds."""

    budget: float
    """The share of messages that may be answered confidently and wrongly."""
    operating_point: float
    """The lowest likelihood of a right answer acted on."""
    in_domain: float
    """The share of messages a skill owns answered confidently and right at that point."""
    wrong: float
    """The share of messages answered confidently and wrongly at that point."""


@dataclass(frozen=True)
class Fit:
    """What ``benchmarks/routing_validation.py --fit`` finds, written to ``calibration_fit``."""

    messages: int
    coefficients: tuple[float, ...]
    intercept: float
    curve: tuple[Point, ...]

    def chosen(self) -> Point:
        """The point of ``TARGET_WRONG``, the budget the brain acts at."""
        return next(p for p in self.curve if p.budget == TARGET_WRONG)


def curve() -> tuple[Point, ...]:
    """The trade-off the fitted calibration was chosen from."""
    return tuple(Point(*values) for values in calibration_fit.CURVE)


def render(fit: Fit, budgets: Sequence[float] = BUDGETS) -> str:
    """The source of ``calibration_fit`` holding ``fit``."""
    if [p.budget for p in fit.curve] != list(budgets):
        raise ValueError(f"the fit's curve must hold the budgets {list(budgets)}")
    chosen = fit.chosen()
    rows = "".join(f"    ({p.budget}, {p.operating_point}, {p.in_domain}, {p.wrong}),\n" for p in fit.curve)
    return (
        '"""The confidence calibration fitted on validation folds of the training split: generated, not edited.\n'
        "\n"
        "Written by ``python benchmarks/routing_validation.py --fit --write`` (``calibration.render``);\n"
        "``calibration`` reads it. Run that command again after the routing set or the catalog changes.\n"
        '"""\n'
        "\n"
        f"FOLD_MESSAGES = {fit.messages}\n"
        f"COEFFICIENTS = {fit.coefficients!r}\n"
        f"INTERCEPT = {fit.intercept!r}\n"
        f"BUDGET = {chosen.budget!r}\n"
        f"OPERATING_POINT = {chosen.operating_point!r}\n"
        "# Per budget of confident wrong answers: the operating point it gives, and the folds' in-domain\n"
        "# share answered right and share of messages answered confidently and wrongly at that point.\n"
        "CURVE: tuple[tuple[float, float, float, float], ...] = (\n"
        f"{rows}"
        ")\n"
    )


def operating_point(budget: float = TARGET_WRONG) -> float:
    """The operating point fitted for ``budget``, a share of messages that may be answered
    confidently and wrongly: one of ``BUDGETS``. A deployment that would rather ask than guess
    picks a lower budget (``SWITCHBOARD_ROUTE_WRONG_BUDGET``); docs/routing.md shows the trade-off."""
    for point in curve():
        if math.isclose(point.budget, budget):
            return point.operating_point
    offered = ", ".join(f"{b:g}" for b in BUDGETS)
    raise ConfigurationError(
        f"no confidence calibration was fitted for a budget of {budget:g} confident wrong answers",
        hint=f"set SWITCHBOARD_ROUTE_WRONG_BUDGET to one of {offered} (a share: 0.02 is 2%)",
    )
