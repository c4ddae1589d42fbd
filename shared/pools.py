"""How many PostgreSQL connections a deployment may hold at most: the formula in docs/deploy.md.

Every pool holds at most ``db_pool_size`` connections (``SWITCHBOARD_DB_POOL_SIZE``). A process
opens one pool per store it keeps in PostgreSQL:

| process | pools | single connections |
|---|---|---|
| orchestrator | 5: conversations, channels, console sessions, network signals, the A2A front's tasks | |
| gateway | 1: the audit log (with approvals and governance state) | 1: LISTEN for governance changes |
| agent | 1: the A2A task store (a listing opens one more while it runs) | 1: the skill checkpointer (one) |
| MCP systems | 1 per system the process serves | |
| token service | none: its keys and clients are files on the data volume | |

A deployment needs the sum over its processes (replicas included), which must stay under the
server's ``max_connections`` with room for operators and migrations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

POOLS = {"orchestrator": 5, "gateway": 1, "agent": 1, "tokens": 0}
"""Pools per process of each kind; an MCP process has one per system (``Process.systems``)."""
SINGLE_CONNECTIONS = {"gateway": 1, "agent": 1}
"""Connections held outside any pool."""


@dataclass(frozen=True)
class Process:
    kind: str  # tokens | orchestrator | gateway | agent | mcp
    replicas: int = 1
    systems: int = 1
    """For ``mcp``: how many systems the process serves."""


def connections(process: Process, pool_size: int) -> int:
    """The most connections all replicas of ``process`` hold."""
    pools = process.systems if process.kind == "mcp" else POOLS[process.kind]
    return process.replicas * (pools * pool_size + SINGLE_CONNECTIONS.get(process.kind, 0))


def deployment_connections(processes: Iterable[Process], pool_size: int) -> int:
    return sum(connections(p, pool_size) for p in processes)
