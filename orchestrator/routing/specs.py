"""What the router learns from: one ``SkillSpec`` per skill a specialist offers.

The supervisor builds these from the live AgentCards, so a new specialist's skills are routed to
as soon as its card is published; the ``route`` command builds them from the skill folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.skills import Skill


@dataclass(frozen=True)
class SkillSpec:
    """A routable skill: who owns it, what it is for, how customers ask for it, and its tags."""

    agent: str
    skill: str
    description: str = ""
    examples: Sequence[str] = field(default=())
    tags: Sequence[str] = field(default=())
    label: str = ""
    """Plain customer words for the skill, offered in a clarifying question."""

    def __post_init__(self) -> None:
        # Callers pass lists (from AgentCards); freeze them so a spec can be shared safely.
        object.__setattr__(self, "examples", tuple(self.examples))
        object.__setattr__(self, "tags", tuple(self.tags))


def skill_specs_from_skills(skills: Sequence[Skill]) -> list[SkillSpec]:
    """Specs for skills loaded from ``skills/<name>/SKILL.md`` (see ``shared.skills.load_skills``)."""
    return [
        SkillSpec(
            agent=s.agent,
            skill=s.name,
            description=s.description,
            examples=s.examples,
            tags=s.tags,
            label=s.customer_label,
        )
        for s in skills
    ]
