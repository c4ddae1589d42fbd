"""The support specialist: troubleshoots service problems and reports ticket status."""

from agents.runtime import SkillGraphs
from agents.support import complaint, lost_phone, orders, tickets, troubleshoot

DESCRIPTION = (
    "Troubleshoots service problems (line, outages, repeats), reports on support tickets, blocks "
    "the SIM of a lost or stolen phone, records complaints and tracks or changes orders."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {
            "troubleshoot-service": troubleshoot.graph(),
            "ticket-status": tickets.graph(),
            "report-lost-phone": lost_phone.graph(),
            "make-complaint": complaint.graph(),
            "track-order": orders.graph(),
        }
    )
