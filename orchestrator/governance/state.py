"""Governance switches the gateway reads on every call: fraud holds, kill switches, policy modes.

They live in the gateway's database (next to the audit log) and are mirrored in memory: the
gateway is their only writer, and every change is committed together with the audit record
that explains it, then applied to the mirror. A call therefore sees a change the moment its
commit returns, with no read on the hot path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS fraud_holds (
    customer_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kill_switches (
    scope TEXT PRIMARY KEY,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_modes (
    policy_id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL
);
-- Bus events the gateway has applied (network signals), committed with their audit record.
CREATE TABLE IF NOT EXISTS applied_events (
    event_id TEXT PRIMARY KEY,
    applied_at REAL NOT NULL
);
"""

ALL_SCOPE = "all"
KillScope = Literal["all", "agent", "tool"]


def kill_scope(kind: KillScope, target: str | None = None) -> str:
    """The stored key of a kill switch: ``all``, ``agent:<name>`` or ``tool:<system.tool>``."""
    return ALL_SCOPE if kind == "all" else f"{kind}:{target}"


@dataclass
class GovernanceState:
    """The in-memory mirror; ``load`` fills it at start-up."""

    fraud_holds: dict[str, dict[str, Any]] = field(default_factory=dict)
    kill_switches: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy_modes: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: aiosqlite.Connection) -> GovernanceState:
        await conn.executescript(SCHEMA)
        await conn.commit()
        state = cls()
        async with conn.execute("SELECT customer_id, reason, set_by, set_at FROM fraud_holds") as cur:
            for row in await cur.fetchall():
                state.fraud_holds[row[0]] = {"reason": row[1], "set_by": row[2], "set_at": row[3]}
        async with conn.execute("SELECT scope, set_by, set_at, reason FROM kill_switches") as cur:
            for row in await cur.fetchall():
                state.kill_switches[row[0]] = {"set_by": row[1], "set_at": row[2], "reason": row[3]}
        async with conn.execute("SELECT policy_id, mode FROM policy_modes") as cur:
            state.policy_modes = {row[0]: row[1] for row in await cur.fetchall()}
        return state

    def killed(self, agent: str, tool: str) -> str | None:
        """The kill switch that stops this call, or None. Three dict look-ups: cheap per call."""
        switches = self.kill_switches
        if not switches:
            return None
        for scope in (ALL_SCOPE, f"agent:{agent}", f"tool:{tool}"):
            if scope in switches:
                return scope
        return None

    @staticmethod
    def hold_statements(customer_id: str, reason: str, by: str, on: bool) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        if on:
            sql = "INSERT OR REPLACE INTO fraud_holds VALUES (?, ?, ?, ?)"
            return ((sql, (customer_id, reason, by, time.time())),)
        return (("DELETE FROM fraud_holds WHERE customer_id = ?", (customer_id,)),)

    @staticmethod
    def switch_statements(scope: str, reason: str, by: str, on: bool) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        if on:
            return (("INSERT OR REPLACE INTO kill_switches VALUES (?, ?, ?, ?)", (scope, by, time.time(), reason)),)
        return (("DELETE FROM kill_switches WHERE scope = ?", (scope,)),)

    @staticmethod
    def mode_statements(policy_id: str, mode: str, by: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        return (("INSERT OR REPLACE INTO policy_modes VALUES (?, ?, ?, ?)", (policy_id, mode, by, time.time())),)
