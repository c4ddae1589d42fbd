"""The support specialist: troubleshoots service problems and reports ticket status."""

from agents.runtime import SkillGraphs
from agents.support import (
    complaint,
    device_order,
    fraud,
    lost_phone,
    orders,
    outage,
    porting,
    roaming,
    sim,
    tickets,
    troubleshoot,
)

DESCRIPTION = (
    "Troubleshoots service problems (line, outages, repeats), reports on support tickets, blocks "
    "the SIM of a lost or stolen phone, records complaints, takes and tracks orders, and looks after "
    "roaming, numbers brought in and porting codes to leave, SIM and eSIM activation, outage compensation and "
    "reports of fraud."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {
            "troubleshoot-service": troubleshoot.graph(),
            "ticket-status": tickets.graph(),
            "report-lost-phone": lost_phone.graph(),
            "make-complaint": complaint.graph(),
            "track-order": orders.graph(),
            "roaming": roaming.graph(),
            "number-porting": porting.graph(),
            "esim-activation": sim.graph(),
            "outage-status": outage.graph(),
            "report-fraud": fraud.graph(),
            "order-device": device_order.graph(),
        }
    )
