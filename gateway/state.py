"""Governance switches the gateway reads on every call: fraud holds, kill switches, policy modes.

They live in the gateway's database (next to the audit log) and are mirrored in memory: every
change is committed together with the audit record that explains it, then applied to the
mirror. A call therefore sees a change the moment its commit returns, with no read on the hot
path. On PostgreSQL several gateway replicas share the tables: the commit also notifies the
others (LISTEN/NOTIFY, ``audit_store_pg``), which reload their mirror within milliseconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gateway.audit_store import AuditStore
    from gateway.audit_store_pg import PostgresAuditStore

# The tables are defined in ``gateway.tables``; the audit store's opening brings them to the head revision.
# A commit touching one of these tells the other replicas to reload their mirror.
STATE_TABLES = ("fraud_holds", "kill_switches", "policy_modes")

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
    async def load(cls, store: AuditStore | PostgresAuditStore) -> GovernanceState:
        state = cls()
        await state.reload(store)
        return state

    async def reload(self, store: AuditStore | PostgresAuditStore) -> None:
        """Replace the mirror with what the database holds, in place (holders keep their references)."""
        while True:
            # A change this replica commits while we read is mirrored by its caller right after
            # the commit; a snapshot read before it would drop it again, so read once more.
            version = getattr(store, "state_version", 0)
            holds = await store.fetch("SELECT customer_id, reason, set_by, set_at FROM fraud_holds")
            switches = await store.fetch("SELECT scope, set_by, set_at, reason FROM kill_switches")
            modes = await store.fetch("SELECT policy_id, mode FROM policy_modes")
            if getattr(store, "state_version", 0) == version:
                break
        # No await below: a call never sees a half-replaced mirror.
        fresh = {r[0]: {"reason": r[1], "set_by": r[2], "set_at": r[3]} for r in holds}
        for customer_id, hold in self.fraud_holds.items():
            if customer_id in fresh and "signal_id" in hold:
                fresh[customer_id]["signal_id"] = hold["signal_id"]
        self.fraud_holds.clear()
        self.fraud_holds.update(fresh)
        self.kill_switches.clear()
        self.kill_switches.update({r[0]: {"set_by": r[1], "set_at": r[2], "reason": r[3]} for r in switches})
        self.policy_modes.clear()
        self.policy_modes.update({r[0]: r[1] for r in modes})

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
            sql = (
                "INSERT INTO fraud_holds (customer_id, reason, set_by, set_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (customer_id) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,"
                " set_at = excluded.set_at"
            )
            return ((sql, (customer_id, reason, by, time.time())),)
        return (("DELETE FROM fraud_holds WHERE customer_id = ?", (customer_id,)),)

    @staticmethod
    def switch_statements(scope: str, reason: str, by: str, on: bool) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        if on:
            sql = (
                "INSERT INTO kill_switches (scope, set_by, set_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (scope)"
                " DO UPDATE SET set_by = excluded.set_by, set_at = excluded.set_at, reason = excluded.reason"
            )
            return ((sql, (scope, by, time.time(), reason)),)
        return (("DELETE FROM kill_switches WHERE scope = ?", (scope,)),)

    @staticmethod
    def mode_statements(policy_id: str, mode: str, by: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        sql = (
            "INSERT INTO policy_modes (policy_id, mode, set_by, set_at) VALUES (?, ?, ?, ?) ON CONFLICT (policy_id)"
            " DO UPDATE SET mode = excluded.mode, set_by = excluded.set_by, set_at = excluded.set_at"
        )
        return ((sql, (policy_id, mode, by, time.time())),)
