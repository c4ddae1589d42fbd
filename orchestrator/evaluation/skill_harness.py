"""One skill's scenarios, played against a fresh stack: the real gateway and reference systems.

``switchboard skill test <skill>`` runs it on every save: the scenarios whose ``skill`` is the
one being edited, each a conversation through the supervisor, the specialist, the governance
gateway and the reference systems over loopback, on a data directory seeded for this run only.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.evaluation.results import TrialResult
from orchestrator.evaluation.runner import OnResult, run_embedded
from orchestrator.evaluation.scenario import Scenario, load_suite
from shared.errors import InvalidRequest
from shared.resources import package_dir
from shared.skills import SKILLS_DIR, load_skills

SUITE = package_dir("evals", "scenarios")


def skill_scenarios(skill: str, *, suite: Path = SUITE, skills_dir: Path = SKILLS_DIR) -> list[Scenario]:
    """The scenarios that exercise ``skill``; a skill without any is an error worth fixing."""
    known = [s.name for s in load_skills(skills_dir)]
    if skill not in known:
        raise InvalidRequest(f"no skill named {skill!r}", hint=f"skills: {', '.join(known)}")
    scenarios = [s for s in load_suite(suite) if s.skill == skill]
    if not scenarios:
        raise InvalidRequest(
            f"no scenario exercises {skill!r} under {suite}",
            hint="add one (switchboard new-skill writes a first one; see docs/evaluation.md)",
        )
    return scenarios


async def run_skill(
    skill: str,
    *,
    suite: Path = SUITE,
    data_dir: Path | None = None,
    on_result: OnResult | None = None,
) -> list[TrialResult]:
    """Play every scenario of ``skill`` once on a stack of its own; a temporary data directory unless given."""
    return await run_embedded(skill_scenarios(skill, suite=suite), data_dir=data_dir, on_result=on_result)
