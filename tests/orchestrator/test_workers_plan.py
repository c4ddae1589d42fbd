"""Which services share a process under ``switchboard up --workers N``."""

from __future__ import annotations

import argparse

import pytest

from orchestrator.commands import up
from orchestrator.commands.up import default_workers
from orchestrator.workers.plan import plan
from shared.errors import ConfigurationError
from shared.settings import AGENTS, SYSTEMS

EVERY_SERVICE = {"tokens", "gateway", "orchestrator", *(f"agent:{a}" for a in AGENTS), *(f"mcp:{s}" for s in SYSTEMS)}


@pytest.mark.parametrize("workers", [2, 3, 4, 5, 7, 8, 64])
def test_every_service_runs_in_exactly_one_process_but_the_orchestrator(workers: int) -> None:
    groups = plan(workers, AGENTS)
    served = [name for group in groups for name in group.services if name != "orchestrator"]
    assert sorted(served) == sorted(EVERY_SERVICE - {"orchestrator"})
    assert all(g.services == ["orchestrator"] for g in groups if g.is_orchestrator)
    # The bus users share the one process that holds the bus; the orchestrator starts last.
    [holder] = [g for g in groups if g.relays_signals]
    assert {"gateway", "tokens", *(f"mcp:{s}" for s in SYSTEMS)} == set(holder.services)
    assert holder.stages[0] == ["tokens"] and holder.stages[-1] == ["gateway"]
    assert groups[-1].services == ["orchestrator"]


def test_more_workers_spread_the_specialists_up_to_one_process_each() -> None:
    def agent_processes(workers: int) -> int:
        return sum(1 for g in plan(workers, AGENTS) if g.services[0].startswith("agent:"))

    assert [agent_processes(n) for n in (2, 3, 4, 5, 7, 8, 64)] == [1, 1, 1, 2, 4, 5, 5]


def test_from_three_workers_several_orchestrator_processes_share_its_socket() -> None:
    def fronts(workers: int) -> list[tuple[str, int, int]]:
        return [(g.name, g.worker, g.of) for g in plan(workers, AGENTS) if g.is_orchestrator]

    assert fronts(2) == [("orchestrator", 0, 1)]
    assert fronts(3) == [("orchestrator-1", 0, 2), ("orchestrator-2", 1, 2)]
    assert [len(fronts(n)) for n in (4, 8, 12, 16, 32)] == [2, 2, 3, 4, 8]
    # Every orchestrator process starts after the specialists it calls (they are listed last).
    groups = plan(3, AGENTS)
    assert [g.is_orchestrator for g in groups] == [False, False, True, True]


def test_one_worker_is_the_single_process_stack() -> None:
    with pytest.raises(ValueError):
        plan(1, AGENTS)
    assert default_workers() >= 1


def test_without_pidfds_up_runs_one_process_and_refuses_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system has no pidfds (not Linux), ``up`` still starts: in one process."""
    monkeypatch.setattr(up, "WORKERS_SUPPORTED", False)
    assert up.default_workers() == 1
    args = argparse.Namespace(reload=False, workers=2)
    with pytest.raises(ConfigurationError, match="needs Linux"):
        up.cmd_up(args)
