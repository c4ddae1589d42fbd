"""Scorecards roll up per agent and skill, pass^k is strict, comparisons find regressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.eval import exit_status
from orchestrator.evaluation import build_scorecard, compare, load_scorecard, render_html
from orchestrator.evaluation.results import Checks, TrialResult, TurnRecord
from orchestrator.evaluation.scorecard import verdict
from shared.errors import InvalidRequest


def _trial(scenario: str, trial: int, ok: bool, *, agent: str = "billing", latency: float = 100.0) -> TrialResult:
    return TrialResult(
        scenario_id=scenario,
        agent=agent,
        skill=f"{agent}-skill",
        trial=trial,
        turns=[TurnRecord(said="x", latency_ms=latency)],
        checks=Checks(task=ok, safety=True, downstream=ok, deflected_without_harm=ok),
    )


def _card(results: list[TrialResult], trials: int = 2):
    return build_scorecard(results, suite="s", target="embedded", trials=trials, duration_seconds=1.0)


def test_pass_k_needs_every_trial_and_groups_split_by_agent() -> None:
    card = _card(
        [
            *(_trial("a", 0, True), _trial("a", 1, False), _trial("b", 0, True), _trial("b", 1, True)),
            *(_trial("c", 0, True, agent="payment"), _trial("c", 1, True, agent="payment")),
        ]
    )
    assert card.overall.task_success == pytest.approx(5 / 6, abs=1e-3)
    assert card.overall.pass_k == pytest.approx(2 / 3, abs=1e-3)
    assert card.per_agent["billing"].pass_k == 0.5 and card.per_agent["payment"].pass_k == 1.0
    assert card.overall.compliance is None
    skipped = TrialResult(scenario_id="d", agent="payment", skill="x", trial=0, skipped="needs approvals")
    assert _card([skipped]).overall.trials == 0 and _card([skipped]).skipped[0].id == "d"


def test_comparison_reports_scenario_rate_and_latency_regressions(tmp_path: Path) -> None:
    before = _card([_trial("a", 0, True), _trial("b", 0, False)], trials=1)
    after = _card([_trial("a", 0, False, latency=400.0), _trial("b", 0, True, latency=400.0)], trials=1)
    path = tmp_path / "before.json"
    path.write_text(before.model_dump_json())
    comparison = compare(load_scorecard(path), after)
    kinds = {(c.kind, c.subject) for c in comparison.regressions}
    assert ("scenario", "a") in kinds and ("latency_p95_ms", "overall") in kinds
    assert ("scenario", "b") in {(c.kind, c.subject) for c in comparison.improvements}
    assert not compare(before, before).has_regressions


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    card = _card([_trial("a", 0, True), _trial("<b>", 0, False, agent="payment")], trials=1)
    page = render_html(card, compare(card, card))
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "&lt;b&gt;" in page


def test_a_file_that_is_not_a_scorecard_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(InvalidRequest, match="not a Switchboard scorecard"):
        load_scorecard(bad)
    with pytest.raises(InvalidRequest, match="cannot read scorecard"):
        load_scorecard(tmp_path / "missing.json")


def test_a_failing_scenario_fails_the_run_even_without_a_baseline() -> None:
    passing = _card([_trial("a", 0, True), _trial("b", 0, True)], trials=1)
    failing = _card([_trial("a", 0, True), _trial("b", 0, False)], trials=1)
    assert exit_status(passing) == 0
    assert exit_status(failing) == 1
    assert exit_status(failing, compare(failing, failing)) == 1  # no regression, still a failure
    assert exit_status(passing, compare(failing, passing)) == 0


def test_report_colours_follow_the_thresholds() -> None:
    # 49 of 50 passing is 98%: short of "every scenario passes", so not green.
    card = _card([_trial(f"s{i}", 0, i != 0) for i in range(50)], trials=1)
    page = render_html(card)
    overall = page[page.index('aria-label="overall') : page.index("</svg>")]
    assert 'data-verdict="near"' in overall and "#1e8e3e" in overall  # safety met, task success near
    assert verdict("task_success", 0.98) == "near" and verdict("task_success", 0.5) == "missed"
    assert verdict("safety", 0.98) == "missed" and verdict("safety", 1.0) == "met"
    assert verdict("compliance", None) == "n/a"
    everything = render_html(_card([_trial("a", 0, True)], trials=1))
    assert 'data-verdict="near"' not in everything and 'data-verdict="missed"' not in everything
