"""Continuous evaluation: simulated customers play YAML scenarios; a scorecard says how it went.

Public surface: ``load_suite`` (scenarios from YAML), ``run_embedded`` / ``run_scenarios``
(play them against a stack started here, or a URL), ``build_scorecard``, ``compare`` and
``render_html``. See ``docs/evaluation.md``.
"""

from orchestrator.evaluation.report import render_html
from orchestrator.evaluation.runner import Approver, Target, run_embedded, run_scenarios
from orchestrator.evaluation.scenario import Scenario, load_suite
from orchestrator.evaluation.scorecard import Comparison, Scorecard, build_scorecard, compare, load_scorecard

__all__ = [
    "Approver",
    "Comparison",
    "Scenario",
    "Scorecard",
    "Target",
    "build_scorecard",
    "compare",
    "load_scorecard",
    "load_suite",
    "render_html",
    "run_embedded",
    "run_scenarios",
]
