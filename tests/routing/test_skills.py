"""The skill folders load, validate and follow the house layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.handoff import HUMAN_REQUEST_TAG, REQUIRES_VERIFIED_IDENTITY_TAG, VERIFIES_IDENTITY_TAG
from shared.skills import SKILLS_DIR, Skill, load_skills

EXPECTED = {
    "verify-identity": "identity",
    "sign-in-help": "identity",
    "explain-bill": "billing",
    "change-plan": "billing",
    "contract-end": "billing",
    "refund-charge": "payment",
    "payment-history": "payment",
    "payment-method": "payment",
    "troubleshoot-service": "support",
    "ticket-status": "support",
    "report-lost-phone": "support",
    "make-complaint": "support",
    "track-order": "support",
    "human-handoff": "escalation",
}
CATALOG = Path(__file__).resolve().parents[2] / "docs" / "action-catalog.md"


def _catalog_tools() -> set[str]:
    tools: set[str] = set()
    system = None
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\w+) \(", line)
        if heading:
            system = heading.group(1)
        row = re.match(r"^\| (\w+) \|", line)
        if system and row and row.group(1) not in {"tool", "agent"}:
            tools.add(f"{system}.{row.group(1)}")
    return tools


def test_exactly_the_catalog_skills_with_their_agents() -> None:
    assert {s.name: s.agent for s in load_skills()} == EXPECTED


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_skill_layout(skill) -> None:
    assert skill.version == "1.0"
    assert 30 <= len(skill.examples) <= 45
    assert len(set(skill.examples)) == len(skill.examples), "duplicate example"
    for section in ("## Procedure", "## Examples", "## Test scenarios"):
        assert section in skill.body
    steps = re.search(r"## Procedure\n(.*?)\n## ", skill.body, re.DOTALL)
    assert steps and re.search(r"^1\. ", steps.group(1), re.MULTILINE)


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_procedures_name_only_catalog_tools(skill) -> None:
    named = set(re.findall(r"`(\w+\.\w+)`", skill.body))
    assert named, "a procedure names the governed tools it calls"
    assert named <= _catalog_tools()


def test_tags() -> None:
    tags = {s.name: set(s.tags) for s in load_skills()}
    for name, skill_tags in tags.items():
        needs = name not in {"verify-identity", "human-handoff"}
        assert (REQUIRES_VERIFIED_IDENTITY_TAG in skill_tags) is needs, name
    assert [n for n, t in tags.items() if HUMAN_REQUEST_TAG in t] == ["human-handoff"]
    assert [n for n, t in tags.items() if VERIFIES_IDENTITY_TAG in t] == ["verify-identity"]


def test_load_skills_filters_by_agent() -> None:
    payment = [s.name for s in load_skills(SKILLS_DIR, agent="payment")]
    assert payment == sorted(n for n, agent in EXPECTED.items() if agent == "payment")


# Words a customer should never read: how we name things inside.
_INTERNAL = re.compile(
    r"\b(skill|agent|specialist|hydrated|handoff|hand-off|escalat\w*|procedure|tool|customer)\b", re.IGNORECASE
)


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_every_skill_has_a_short_plain_customer_label(skill: Skill) -> None:
    label = skill.customer_label
    assert label, f"{skill.name}: add metadata.customer_label to its SKILL.md"
    assert len(label.split()) <= 9 and label == label.lower() and not label.endswith(".")
    assert not _INTERNAL.search(label), label
