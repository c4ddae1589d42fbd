"""What the LLM runtime reads from a skill: its procedure and whether it must stay deterministic.

``metadata.deterministic: "true"`` in a SKILL.md's front matter marks a procedure that moves money
or proves identity: the hand-written state machine runs it, never a model's tool loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from shared.errors import ConfigurationError
from shared.skill_steps import SkillTools, skill_tools
from shared.skills import Skill

_FRONT_MATTER = re.compile(r"^---\n(.*?)\n---\n", re.DOTALL)
_SECTION = re.compile(r"^## (Examples|Test scenarios)\s*\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})


@dataclass(frozen=True)
class SkillGuide:
    """A skill as the model sees it: the procedure (instructions) and the determinism flag."""

    name: str
    description: str
    instructions: str
    deterministic: bool
    tools: SkillTools | None = None
    """The tools the skill declares, per step; None when it declares none (the agent's grants apply)."""


def skill_guide(skill: Skill) -> SkillGuide:
    """Read ``skill``'s raw front matter for ``metadata.deterministic``; raises on an unreadable flag."""
    match = _FRONT_MATTER.match(skill.path.read_text(encoding="utf-8"))
    meta = yaml.safe_load(match.group(1)) if match else {}
    raw = str(((meta or {}).get("metadata") or {}).get("deterministic", "")).strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ConfigurationError(
            f"{skill.path}: metadata.deterministic is {raw!r}",
            hint='write deterministic: "true" or leave it out',
        )
    # Examples and test scenarios are for routing and reviewers; the model needs the procedure.
    instructions = _SECTION.sub("", skill.body).strip()
    return SkillGuide(skill.name, skill.description, instructions, raw in _TRUE, skill_tools(skill))
