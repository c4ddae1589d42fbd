"""The support specialist: troubleshoots service problems and reports ticket status."""

from agents.runtime import SkillTable
from agents.support.tickets import ticket_status
from agents.support.troubleshoot import troubleshoot_service

DESCRIPTION = "Troubleshoots service problems (line, outages, repeats) and reports on support tickets."


def create() -> SkillTable:
    return SkillTable({"troubleshoot-service": troubleshoot_service, "ticket-status": ticket_status})
