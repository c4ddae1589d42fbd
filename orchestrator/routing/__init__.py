"""Routing a customer turn to the specialist and skill that own the goal.

``Brain`` is the extension point; ``OfflineBrain`` is the default that needs no network;
``LLMBrain`` asks a model and falls back to it; ``build_brain`` picks one from the settings.
"""

from orchestrator.routing.brain import Brain
from orchestrator.routing.build import build_brain
from orchestrator.routing.decision import RouteAlternative, RouteDecision
from orchestrator.routing.llm import LLMBrain
from orchestrator.routing.offline import OfflineBrain
from orchestrator.routing.specs import SkillSpec, skill_specs_from_skills

__all__ = [
    "Brain",
    "LLMBrain",
    "OfflineBrain",
    "RouteAlternative",
    "RouteDecision",
    "SkillSpec",
    "build_brain",
    "skill_specs_from_skills",
]
