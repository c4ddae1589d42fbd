"""Least privilege per skill step: which tools a skill may call, and which subset each step needs.

A skill's SKILL.md declares its tools in the Agent Skills ``allowed-tools`` field (space separated
catalog names) and its steps in ``metadata.steps``, a string because skill metadata values are
strings::

    allowed-tools: billing.get_account billing.list_plans billing.change_plan
    metadata:
      steps: "choose: billing.get_account billing.list_plans; change after yes: billing.change_plan"

A step marked ``after yes`` is entered only on the turn the customer answered an explicit yes to
the proposal the step before it made; every other turn runs in the first step. A skill that
declares tools but no steps has one step, ``all``, holding every tool it declares.

The step travels with every tool call as ``_meta[STEP_META_KEY]`` (a ``StepClaim``). The claim is
made by the agent runtime, never by a model, and the gateway checks it against the agent its token
names: the skill must belong to that agent, the step to the skill, and the tool to the step. An
agent can therefore claim any step of its own skills, and nothing beyond them; a call without a
claim is held to the agent's policy grants alone, which are never wider than its skills' tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from shared.errors import ConfigurationError
from shared.skills import SKILLS_DIR, Skill, load_skills, safe_yaml

STEP_META_KEY = "switchboard/step"
"""Request ``_meta`` of a tool call: the skill and step the calling agent is in (a ``StepClaim``)."""

ALL_STEP = "all"
_FRONT_MATTER = re.compile(r"^---\n(.*?)\n---\n", re.DOTALL)
_STEP = re.compile(r"^\s*([a-z][a-z0-9-]*)(\s+after\s+yes)?\s*:\s*(.*)$")
_TOOL = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class StepClaim(BaseModel):
    """Which skill and step a tool call belongs to, as the agent runtime states it."""

    skill: str = Field(max_length=100)
    step: str = Field(max_length=100)


@dataclass(frozen=True)
class Step:
    name: str
    tools: frozenset[str]
    after_yes: bool = False


@dataclass(frozen=True)
class SkillTools:
    """A skill's declared tools and its steps, in order."""

    skill: str
    agent: str
    tools: frozenset[str]
    steps: tuple[Step, ...]

    @property
    def first(self) -> Step:
        return self.steps[0]

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def after_yes(self) -> Step | None:
        """The step a customer's explicit yes to a proposal opens, if the skill has one."""
        return next((s for s in self.steps if s.after_yes), None)


def skill_tools(skill: Skill) -> SkillTools | None:
    """``skill``'s declared tools and steps, or None when it declares no tools; raises on a bad declaration."""
    match = _FRONT_MATTER.match(skill.path.read_text(encoding="utf-8"))
    meta = (safe_yaml(match.group(1)) if match else None) or {}
    declared = str(meta.get("allowed-tools") or "").split()
    if not declared:
        return None
    bad = [t for t in declared if not _TOOL.match(t)]
    if bad:
        raise ConfigurationError(f"{skill.path}: allowed-tools has {bad[0]!r}", hint="write <system>.<tool> names")
    tools = frozenset(declared)
    raw = str((meta.get("metadata") or {}).get("steps") or "").strip()
    steps = tuple(_steps(skill.path, raw, tools)) if raw else (Step(ALL_STEP, tools),)
    if steps[0].after_yes:
        raise ConfigurationError(f"{skill.path}: the first step cannot wait for a yes", hint="put the reads first")
    return SkillTools(skill.name, skill.agent, tools, steps)


def _steps(path: Path, raw: str, tools: frozenset[str]) -> Iterable[Step]:
    names: set[str] = set()
    for part in raw.split(";"):
        found = _STEP.match(part)
        if found is None:
            raise ConfigurationError(f"{path}: metadata.steps has {part.strip()!r}", hint="write 'name: tool tool'")
        name, after_yes, listed = found.group(1), bool(found.group(2)), frozenset(found.group(3).split())
        if name in names or not listed or not listed <= tools:
            raise ConfigurationError(
                f"{path}: step {name!r} is repeated, empty or names a tool not in allowed-tools",
                hint="every step's tools must be among the skill's allowed-tools",
            )
        names.add(name)
        yield Step(name, listed, after_yes)


class StepGrants:
    """Every skill's steps, and the check the gateway makes on a call that claims one."""

    def __init__(self, skills: Mapping[str, SkillTools]) -> None:
        self._skills = dict(skills)

    @classmethod
    def load(cls, root: Path = SKILLS_DIR) -> StepGrants:
        return _load(root)

    def skill(self, name: str) -> SkillTools | None:
        return self._skills.get(name)

    def refusal(self, agent: str, tool: str, claim: StepClaim) -> str | None:
        """Why ``agent`` may not call ``tool`` in the step it claims, or None when it may."""
        declared = self._skills.get(claim.skill)
        if declared is None or declared.agent != agent:
            return f"skill {claim.skill!r} is not one of the {agent} agent's skills"
        step = declared.step(claim.step)
        if step is None:
            return f"skill {claim.skill!r} has no step {claim.step!r}"
        if tool not in step.tools:
            granted = ", ".join(sorted(step.tools))
            return f"{tool} is outside step {claim.step!r} of skill {claim.skill!r}, which may call only {granted}"
        return None


@cache
def _load(root: Path) -> StepGrants:
    found = {s.name: t for s in load_skills(root) if (t := skill_tools(s)) is not None}
    return StepGrants(found)
