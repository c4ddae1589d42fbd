"""The routing set: large and varied enough to mean something, and the brain's floor on its test split."""

from __future__ import annotations

from collections import Counter

import pytest

from orchestrator.routing import OfflineBrain
from orchestrator.routing.corpus import KINDS, evaluation_rows, training_rows
from orchestrator.routing.text import normalize
from shared.resources import package_dir
from shared.settings import Settings
from shared.skills import MAX_ROUTING_ROWS, MIN_ROUTING_ROWS, Skill, load_skills

THRESHOLD = Settings().route_threshold
SOURCES = package_dir("evals", "routing", "source")
# Regression floors on the held-out split, just under what the brain reaches (docs/routing.md) and
# below the targets (95% in-domain, at most 2% confident wrong); benchmarks/routing_accuracy.py
# holds the same floors. In-domain counts confident right answers only, so calibrating confidence
# (a doubtful answer becomes a question) lowered it while confident wrong answers fell to half.
# The floors follow the split, which gets harder with each round's rows (they are the wordings the
# brain misread, and a third of them is held out): on the current 2,763 messages the brain from
# before the last rows (5df0f2b) prints 7.1% confident wrong and 53.8% out of scope, so the hard
# out-of-scope rows moved the ceiling and the out-of-scope floor (docs/routing.md). They must
# also hold with the new specialist the scaffold walkthrough adds (tests/scaffold/test_walkthrough.py).
IN_DOMAIN_FLOOR = 0.78
# The same messages routed confidently to a skill of the specialist that owns them.
AGENT_FLOOR = 0.81
CONFIDENT_WRONG_CEILING = 0.075
OUT_OF_SCOPE_FLOOR = 0.52
LANGUAGE_FLOOR = 0.95


def test_the_set_is_large_labelled_and_varied() -> None:
    rows = training_rows() + evaluation_rows("test")
    assert len(rows) >= 1500
    owners = {s.name: s.agent for s in load_skills()}
    for row in rows:
        assert row.kind in KINDS
        if row.skill is not None:
            assert owners[row.skill] == row.agent, row
        if row.kind == "two-requests":
            assert row.then_skill is not None and owners[row.then_skill] == row.then_agent
    kinds = Counter(r.kind for r in rows)
    styles = Counter(r.style for r in rows)
    assert kinds["out-of-scope"] >= 100 and kinds["small-talk"] >= 50 and kinds["two-requests"] >= 100
    assert styles["typos"] >= 200 and styles["rambling"] >= 100
    assert {r.lang for r in rows if r.kind == "other-language"} >= {"es", "de", "fr", "it", "pt", "pl"}
    per_skill = Counter(r.skill for r in rows if r.skill)
    assert all(per_skill[name] >= 60 for name in owners), per_skill


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_every_skill_has_its_labelled_routing_rows(skill: Skill) -> None:
    path = SOURCES / f"{skill.name}.txt"
    assert path.exists(), f"add {path.relative_to(SOURCES.parents[2])}: one customer message a line"
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert MIN_ROUTING_ROWS <= len(rows) <= MAX_ROUTING_ROWS, f"{skill.name}: {len(rows)} routing rows"


def test_the_set_is_not_the_skills_examples() -> None:
    examples = {normalize(e) for s in load_skills() for e in s.examples}
    rows = training_rows() + evaluation_rows("test")
    assert not [r.text for r in rows if normalize(r.text) in examples]


def test_the_test_split_shares_no_message_with_training() -> None:
    train = {normalize(r.text) for r in training_rows()}
    test = evaluation_rows("test")
    assert len(test) >= 450
    # Punctuation alone ("?", "...") normalises to nothing in both splits; it carries no words to learn.
    assert not [r.text for r in test if normalize(r.text) and normalize(r.text) in train]


@pytest.fixture(scope="module")
def held_out(brain: OfflineBrain) -> dict[str, float]:
    in_domain: list[bool] = []
    agent: list[bool] = []
    wrong: list[bool] = []
    out_of_scope: list[bool] = []
    language: list[bool] = []
    for row in evaluation_rows("test"):
        decision = brain.decide(row.text)
        if row.kind == "other-language":
            language.append(decision.language == row.lang)
            continue
        routed = decision.routes(THRESHOLD)
        if row.skill is not None:
            in_domain.append(routed and decision.skill == row.skill)
            agent.append(routed and decision.agent == row.agent)
        if row.kind == "out-of-scope":
            out_of_scope.append(decision.intent == "out-of-scope")
        wrong.append(routed and decision.skill != row.skill)
    return {
        "in_domain": sum(in_domain) / len(in_domain),
        "agent": sum(agent) / len(agent),
        "confident_wrong": sum(wrong) / len(wrong),
        "out_of_scope": sum(out_of_scope) / len(out_of_scope),
        "language": sum(language) / len(language),
    }


def test_held_out_in_domain_accuracy_keeps_its_floor(held_out: dict[str, float]) -> None:
    assert held_out["in_domain"] >= IN_DOMAIN_FLOOR


def test_held_out_messages_reach_the_right_specialist(held_out: dict[str, float]) -> None:
    assert held_out["agent"] >= AGENT_FLOOR


def test_held_out_confident_wrong_answers_stay_under_the_ceiling(held_out: dict[str, float]) -> None:
    assert held_out["confident_wrong"] <= CONFIDENT_WRONG_CEILING


def test_held_out_out_of_scope_and_languages_are_recognised(held_out: dict[str, float]) -> None:
    assert held_out["out_of_scope"] >= OUT_OF_SCOPE_FLOOR
    assert held_out["language"] >= LANGUAGE_FLOOR
