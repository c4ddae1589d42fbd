"""The skill folders load, validate and follow the house layout."""

from __future__ import annotations

import re

import pytest

from agents import agent_names
from orchestrator import registry
from shared.handoff import HUMAN_REQUEST_TAG, NEWCOMERS_TAG, REQUIRES_VERIFIED_IDENTITY_TAG, VERIFIES_IDENTITY_TAG
from shared.skills import MAX_EXAMPLES, MIN_EXAMPLES, SKILLS_DIR, Skill, label_problem, load_skills

# Every list below is derived from the skill folders, the MCP servers and the agent packages
# (orchestrator/registry.py): adding a skill or an agent needs no change here.
TOOLS = registry.tools()
GRANTS = registry.grants(catalog=TOOLS)


def test_every_skill_belongs_to_an_agent_package_and_every_agent_has_a_skill() -> None:
    owners = {s.agent for s in load_skills()}
    assert owners == set(agent_names()), "an agent package without skills, or a skill naming no agent package"
    assert sorted(registry.agents()) == agent_names()


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_skill_layout(skill) -> None:
    assert skill.version == "1.0"
    assert MIN_EXAMPLES <= len(skill.examples) <= MAX_EXAMPLES, f"{skill.name}: {len(skill.examples)} examples"
    assert len(set(skill.examples)) == len(skill.examples), "duplicate example"
    for section in ("## Procedure", "## Examples", "## Test scenarios"):
        assert section in skill.body
    steps = re.search(r"## Procedure\n(.*?)\n## ", skill.body, re.DOTALL)
    assert steps and re.search(r"^1\. ", steps.group(1), re.MULTILINE)


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_procedures_name_only_catalog_tools(skill) -> None:
    named = set(re.findall(r"`(\w+\.\w+)`", skill.body))
    assert named, "a procedure names the governed tools it calls"
    assert named <= set(TOOLS), f"not in the action catalog: {sorted(named - set(TOOLS))}"


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_procedures_name_only_tools_their_agent_is_granted(skill: Skill) -> None:
    named = set(re.findall(r"`(\w+\.\w+)`", skill.body))
    granted = set(GRANTS[skill.agent])
    assert named <= granted, f"{skill.agent} is not granted {sorted(named - granted)}: add a grant in gateway/policies/"


def test_tags() -> None:
    tags = {s.name: set(s.tags) for s in load_skills()}
    # One skill verifies the customer and one takes a request for a person; both must work for a
    # stranger, as must the skills for newcomers. Every other skill acts on a customer's data, so
    # it needs a verified one.
    verifies = [n for n, t in tags.items() if VERIFIES_IDENTITY_TAG in t]
    human = [n for n, t in tags.items() if HUMAN_REQUEST_TAG in t]
    newcomers = [n for n, t in tags.items() if NEWCOMERS_TAG in t]
    assert len(verifies) == 1 and len(human) == 1
    for name, skill_tags in tags.items():
        needs = name not in {*verifies, *human, *newcomers}
        assert (REQUIRES_VERIFIED_IDENTITY_TAG in skill_tags) is needs, f"{name}: add {REQUIRES_VERIFIED_IDENTITY_TAG}"


@pytest.mark.parametrize("skill", [s for s in load_skills() if NEWCOMERS_TAG in s.tags], ids=lambda s: s.name)
def test_a_skill_for_newcomers_reads_no_customer_data(skill: Skill) -> None:
    # Nobody is verified before it runs, so a tool keyed by a customer would act on a stranger's word.
    named = set(re.findall(r"`(\w+\.\w+)`", skill.body))
    assert not [t for t in named if TOOLS[t].subject is not None], f"{skill.name} names customer-scoped tools"


@pytest.mark.parametrize("agent", agent_names())
def test_load_skills_filters_by_agent(agent: str) -> None:
    every = load_skills(SKILLS_DIR)
    assert load_skills(SKILLS_DIR, agent=agent) == [s for s in every if s.agent == agent]


@pytest.mark.parametrize("skill", load_skills(), ids=lambda s: s.name)
def test_every_skill_has_a_short_plain_customer_label(skill: Skill) -> None:
    assert skill.customer_label, f"{skill.name}: add metadata.customer_label to its SKILL.md"
    assert label_problem(skill.customer_label) is None, (skill.customer_label, label_problem(skill.customer_label))


@pytest.mark.parametrize(
    "label",
    ["", "Changing Your Plan", "a refund.", "talk to an agent", "one two three four five six seven eight nine ten"],
)
def test_labels_a_customer_would_not_understand_are_refused(label: str) -> None:
    assert label_problem(label) is not None
