"""The escalation specialist: hands the conversation to a human agent."""

from agents.escalation import handoff
from agents.runtime import SkillGraphs

DESCRIPTION = "Hands the conversation to a human agent with the case so far, verified or not."


def create() -> SkillGraphs:
    return SkillGraphs({"human-handoff": handoff.graph()})
