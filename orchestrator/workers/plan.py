"""Which services share a process when the embedded default runs on several cores.

Every service that uses the event bus shares one process, because the embedded bus is
in-process: the MCP systems (they relay their outboxes and consume each other's events), the
gateway (network signals set fraud holds) and the relay and reaction rules of network
signals. The token service joins them. The specialists need no bus, so they spread over the
processes the worker count leaves. The orchestrator is the front every customer reaches: from
three workers on, two or more orchestrator processes serve its port (``parent`` gives each a
socket on it, and the kernel spreads new connections over them). What they keep is shared through the data
directory: conversations (versioned rows), channel state, staff sessions, the A2A front's
tasks; the admission limit and the signal refusal budget are divided among them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from shared.settings import SYSTEMS

SYSTEMS_GROUP = "systems"
ORCHESTRATOR_GROUP = "orchestrator"
ORCHESTRATOR_SERVICE = "orchestrator"

CORES_PER_ORCHESTRATOR = 4
"""The orchestrator's share of a turn's CPU is about a sixth (docs/deploy.md): past two
orchestrator processes, one more for every four cores keeps the front from being the bound."""


class Group(BaseModel):
    """One child process: its services, started stage by stage (a stage's services together)."""

    name: str
    stages: list[list[str]]
    relays_signals: bool = False
    """Runs the event bus, and relays and reacts to the network signals the orchestrator records."""
    worker: int = 0
    """For an orchestrator process: its place among them (0-based), for its share of the limits."""
    of: int = 1
    """For an orchestrator process: how many orchestrator processes serve the port."""

    @property
    def services(self) -> list[str]:
        return [name for stage in self.stages for name in stage]

    @property
    def is_orchestrator(self) -> bool:
        return ORCHESTRATOR_SERVICE in self.services


def orchestrator_processes(workers: int) -> int:
    """One below three workers; then two, and one more for every further four cores."""
    return 1 if workers < 3 else max(2, workers // CORES_PER_ORCHESTRATOR)


def plan(workers: int, agents: Sequence[str]) -> list[Group]:
    """The groups for ``workers`` processes (at least 2), in start order.

    Two workers: systems with the gateway, the specialists, the orchestrator. Three or more:
    two or more orchestrator processes (``orchestrator_processes``), and the specialists over
    what is left, up to one process each.
    """
    if workers < 2:
        raise ValueError("a plan needs at least two workers; one worker is the single-process stack")
    systems = Group(
        name=SYSTEMS_GROUP,
        # The token service first (everyone asks it for tokens), the gateway after its upstreams.
        stages=[["tokens"], [f"mcp:{s}" for s in SYSTEMS], ["gateway"]],
        relays_signals=True,
    )
    fronts = orchestrator_processes(workers)
    shares = max(1, min(len(agents), workers - 1 - fronts))
    agent_groups = [
        Group(name="agents" if shares == 1 else f"agents-{i + 1}", stages=[[f"agent:{a}" for a in agents[i::shares]]])
        for i in range(shares)
    ]
    orchestrators = [
        Group(
            name=ORCHESTRATOR_GROUP if fronts == 1 else f"{ORCHESTRATOR_GROUP}-{i + 1}",
            stages=[[ORCHESTRATOR_SERVICE]],
            worker=i,
            of=fronts,
        )
        for i in range(fronts)
    ]
    return [systems, *agent_groups, *orchestrators]
