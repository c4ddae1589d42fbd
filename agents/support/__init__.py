"""The support specialist: troubleshoots service problems and reports ticket status."""

from agents.runtime import SkillGraphs
from agents.support import tickets, troubleshoot

DESCRIPTION = "Troubleshoots service problems (line, outages, repeats) and reports on support tickets."


def create() -> SkillGraphs:
    return SkillGraphs({"troubleshoot-service": troubleshoot.graph(), "ticket-status": tickets.graph()})
