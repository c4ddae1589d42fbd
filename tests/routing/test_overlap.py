"""Overlapping skills are found by the router's own features; the shipped skills do not overlap."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.routing.overlap import overlap_warnings
from shared.skills import load_skills

SKILLS = load_skills()
REFUND = next(s for s in SKILLS if s.name == "refund-charge")


def test_the_shipped_skills_do_not_overlap() -> None:
    assert overlap_warnings(SKILLS, [s.name for s in SKILLS]) == []


def test_a_skill_repeating_examples_is_named_with_the_examples() -> None:
    copy = replace(
        REFUND, name="retention-offer", examples=("cancel my contract", "I want a refund", "i want a REFUND!")
    )
    (warning,) = overlap_warnings([*SKILLS, copy], ["retention-offer"])
    assert warning.startswith("skill retention-offer has 2 example(s) (near-)identical to refund-charge's")
    assert "'i want a REFUND!' ~ 'I want a refund'" in warning


def test_a_skill_whose_examples_reshuffle_another_skills_words_is_named() -> None:
    """No example repeats one of refund-charge's, but together they teach the same words."""
    pairs = zip(REFUND.examples, REFUND.examples[1:] + REFUND.examples[:1], strict=True)
    mixed = tuple(
        f"{a.split()[0]} {' '.join(b.split()[len(b.split()) // 2 :])} {' '.join(a.split()[1:3])}" for a, b in pairs
    )
    (warning,) = overlap_warnings([*SKILLS, replace(REFUND, name="mixed", examples=mixed)], ["mixed"])
    assert warning.startswith("skill mixed's examples are close to refund-charge's (similarity 0.9")


def test_only_changed_skills_are_checked() -> None:
    copy = replace(REFUND, name="copy")
    assert overlap_warnings([*SKILLS, copy], ["change-plan"]) == []
