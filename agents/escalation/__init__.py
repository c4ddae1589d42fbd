"""The escalation specialist: hands the conversation to a human agent."""

from agents.escalation.handoff import human_handoff
from agents.runtime import SkillTable

DESCRIPTION = "Hands the conversation to a human agent with the case so far, verified or not."


def create() -> SkillTable:
    return SkillTable({"human-handoff": human_handoff})
