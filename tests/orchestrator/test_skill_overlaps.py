"""The start-up overlap warnings come from the cache only while the skills they were computed from are unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from orchestrator.routing.overlap import overlap_warnings
from orchestrator.skill_overlaps import overlap_warnings_cached
from shared.skills import Skill


def _skill(name: str, examples: tuple[str, ...]) -> Skill:
    return Skill(
        name=name,
        description=name,
        agent="billing",
        version="1.0",
        tags=(),
        examples=examples,
        body="",
        path=Path(f"skills/{name}/SKILL.md"),
    )


def test_cached_warnings_match_the_computed_ones_and_follow_a_changed_skill(tmp_path: Path) -> None:
    bill = _skill("explain-bill", ("why is my bill so high this month", "explain the charges on my bill"))
    twin = _skill("bill-twin", ("why is my bill so high this month", "what are these charges on my bill"))
    other = _skill("reset-password", ("i forgot my password", "help me sign in again"))
    skills = [bill, twin, other]
    expected = overlap_warnings(skills, [s.name for s in skills])
    assert expected, "the twin repeats an example, so there is something to warn about"

    assert overlap_warnings_cached(skills, tmp_path) == expected
    assert len(list(tmp_path.glob("skill-overlaps-*.json"))) == 1
    assert overlap_warnings_cached(skills, tmp_path) == expected  # read back

    reworded = [bill, replace(twin, examples=("cancel my contract", "end my contract early")), other]
    assert overlap_warnings_cached(reworded, tmp_path) == overlap_warnings(reworded, [s.name for s in reworded])
    assert len(list(tmp_path.glob("skill-overlaps-*.json"))) == 1  # the older file is dropped


def test_a_damaged_cache_file_is_computed_again(tmp_path: Path) -> None:
    skills = [_skill("reset-password", ("i forgot my password", "help me sign in again"))]
    overlap_warnings_cached(skills, tmp_path)
    (cached,) = tmp_path.glob("skill-overlaps-*.json")
    cached.write_text("{not json")
    assert overlap_warnings_cached(skills, tmp_path) == []
    assert json.loads(cached.read_text())["warnings"] == []  # and written anew
