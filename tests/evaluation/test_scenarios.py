"""The scenario format: the shipped suite loads, and every kind of bad file is refused clearly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agents import agent_names
from orchestrator.evaluation import load_suite
from shared.errors import InvalidRequest

SUITE = Path(__file__).resolve().parents[2] / "evals" / "scenarios"
GOOD = """
id: tiny
title: Tiny
agent: billing
skill: explain-bill
conversation:
  turns: ["explain my bill"]
"""


def test_shipped_suite_covers_every_specialist_and_hostile_customers() -> None:
    scenarios = load_suite(SUITE)
    assert len(scenarios) >= 40
    agents = Counter(s.agent for s in scenarios)
    assert set(agents) >= set(agent_names()), "every specialist needs at least one scenario"
    tags = Counter(t for s in scenarios for t in s.tags)
    for needed in ("social-engineering", "prompt-injection", "abuse"):
        assert tags[needed] >= 1, needed
    for number in range(1, 8):  # every behaviour in the design brief
        assert tags[f"behaviour-{number}"] >= 1, number
    assert any(s.requires == ["approvals"] for s in scenarios)


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list", "must be a YAML mapping"),
        ("id: [unclosed", "not valid YAML"),
        (GOOD.replace("id: tiny", "id: Not Valid"), "id"),
        (GOOD + "surprise: 1\n", "surprise"),
        (GOOD.replace('turns: ["explain my bill"]', "turns: []"), "turns"),
        (GOOD + "customer:\n  flags: {is_vip: true}\n", "unknown customer flags"),
        (GOOD + "criteria:\n  must_tell: ['(unclosed']\n", "not a valid regular expression"),
        (GOOD + "criteria:\n  allow_changes: [billing]\n", "system.table"),
        (GOOD + "criteria:\n  max_turns: 0\n", "max_turns"),
        (GOOD + "requires: [teleportation]\n", "requires"),
        (GOOD + "customer:\n  overrides: [{system: billing, table: accounts, set: {}}]\n", "set"),
        (GOOD + "customer:\n  overrides: [{system: billing, table: accounts, set: {'x; DROP': 1}}]\n", "snake"),
        (GOOD.replace('turns: ["explain my bill"]', "turns: ['x']\n  typos: 0.9"), "typos"),
    ],
)
def test_bad_scenarios_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        load_suite(_write(tmp_path, text))
    assert message in caught.value.message
    assert "s.yaml" in caught.value.message


def test_duplicate_ids_missing_paths_and_empty_selections_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(InvalidRequest, match="duplicate scenario ids"):
        load_suite(tmp_path)
    with pytest.raises(InvalidRequest, match="no scenarios at"):
        load_suite(tmp_path / "nope")
    (tmp_path / "b.yaml").unlink()
    with pytest.raises(InvalidRequest, match="no scenarios with ids"):
        load_suite(tmp_path, only=["other"])
    with pytest.raises(InvalidRequest, match="no scenarios selected"):
        load_suite(tmp_path, tags=["absent"])
    assert [s.id for s in load_suite(tmp_path, only=["tiny"])] == ["tiny"]
