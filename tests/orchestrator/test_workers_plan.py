"""Which services share a process under ``switchboard up --workers N``."""

from __future__ import annotations

import pytest

from orchestrator.commands.up import default_workers
from orchestrator.workers import plan
from shared.settings import AGENTS, SYSTEMS

EVERY_SERVICE = {"tokens", "gateway", "orchestrator", *(f"agent:{a}" for a in AGENTS), *(f"mcp:{s}" for s in SYSTEMS)}


@pytest.mark.parametrize("workers", [2, 3, 4, 5, 7, 8, 64])
def test_every_service_runs_in_exactly_one_process(workers: int) -> None:
    groups = plan(workers, AGENTS)
    served = [name for group in groups for name in group.services]
    assert sorted(served) == sorted(EVERY_SERVICE)
    # The bus users share the one process that holds the bus; the orchestrator starts last.
    [holder] = [g for g in groups if g.relays_signals]
    assert {"gateway", "tokens", *(f"mcp:{s}" for s in SYSTEMS)} == set(holder.services)
    assert holder.stages[0] == ["tokens"] and holder.stages[-1] == ["gateway"]
    assert groups[-1].services == ["orchestrator"]


def test_more_workers_spread_the_specialists_up_to_one_process_each() -> None:
    def agent_processes(workers: int) -> int:
        return sum(1 for g in plan(workers, AGENTS) if g.services[0].startswith("agent:"))

    assert [agent_processes(n) for n in (2, 3, 4, 5, 7, 8, 64)] == [1, 1, 2, 3, 5, 5, 5]
    assert len(plan(64, AGENTS)) == 7  # never more processes than groups to fill


def test_one_worker_is_the_single_process_stack() -> None:
    with pytest.raises(ValueError):
        plan(1, AGENTS)
    assert default_workers() >= 1
