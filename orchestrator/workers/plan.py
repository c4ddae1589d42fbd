"""Which services share a process when the embedded default runs on several cores.

Every service that uses the event bus shares one process, because the embedded bus is
in-process: the MCP systems (they relay their outboxes and consume each other's events), the
gateway (network signals set fraud holds) and the relay and reaction rules of network
signals. The token service joins them. The specialists need no bus, so they spread over the
processes the worker count leaves. The orchestrator runs in one process of its own: the
conversation locks, the live event streams of the web chat and consoles, the staff sessions
and the admission counts are in its memory (docs/deploy.md lists them).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from shared.settings import SYSTEMS

SYSTEMS_GROUP = "systems"
ORCHESTRATOR_GROUP = "orchestrator"


class Group(BaseModel):
    """One child process: its services, started stage by stage (a stage's services together)."""

    name: str
    stages: list[list[str]]
    relays_signals: bool = False
    """Runs the event bus, and relays and reacts to the network signals the orchestrator records."""

    @property
    def services(self) -> list[str]:
        return [name for stage in self.stages for name in stage]


def plan(workers: int, agents: Sequence[str]) -> list[Group]:
    """The groups for ``workers`` processes (at least 2), in start order.

    Two or three workers: systems with the gateway, the specialists, the orchestrator. More
    give the specialists more processes, up to one each.
    """
    if workers < 2:
        raise ValueError("a plan needs at least two workers; one worker is the single-process stack")
    systems = Group(
        name=SYSTEMS_GROUP,
        # The token service first (everyone asks it for tokens), the gateway after its upstreams.
        stages=[["tokens"], [f"mcp:{s}" for s in SYSTEMS], ["gateway"]],
        relays_signals=True,
    )
    shares = max(1, min(len(agents), workers - 2))
    agent_groups = [
        Group(name="agents" if shares == 1 else f"agents-{i + 1}", stages=[[f"agent:{a}" for a in agents[i::shares]]])
        for i in range(shares)
    ]
    return [systems, *agent_groups, Group(name=ORCHESTRATOR_GROUP, stages=[["orchestrator"]])]
