"""What every specialist is built from: the turn, the gateway client, text understanding."""

from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.gateway import GatewayClient, ToolOutcome
from agents.runtime.outcomes import SkillTable
from agents.runtime.turn import Reply, Specialist, Turn

__all__ = [
    "GatewayClient",
    "Reply",
    "SkillTable",
    "Specialist",
    "SystemUnavailable",
    "ToolDenied",
    "ToolFailed",
    "ToolOutcome",
    "Turn",
]
