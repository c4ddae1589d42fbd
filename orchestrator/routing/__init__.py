"""Routing a customer turn to the specialist and skill that own the goal.

``Brain`` is the extension point; ``OfflineBrain`` is the default that needs no network.
"""

from orchestrator.routing.brain import Brain
from orchestrator.routing.decision import RouteAlternative, RouteDecision
from orchestrator.routing.offline import OfflineBrain
from orchestrator.routing.specs import SkillSpec, skill_specs_from_skills

__all__ = ["Brain", "OfflineBrain", "RouteAlternative", "RouteDecision", "SkillSpec", "skill_specs_from_skills"]
