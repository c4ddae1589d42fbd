"""What every specialist is built from: the turn, the gateway client, skill graphs, text understanding."""

from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.gateway import GatewayClient, ToolOutcome
from agents.runtime.graph import SkillGraphs
from agents.runtime.turn import Reply, Turn

__all__ = [
    "GatewayClient",
    "Reply",
    "SkillGraphs",
    "SystemUnavailable",
    "ToolDenied",
    "ToolFailed",
    "ToolOutcome",
    "Turn",
]
