"""A scenario's initial state, and the diff of the enterprise systems it leaves behind.

The fixture mechanism is deliberately small: a scenario names dataset flags (which reference
customer plays the part) and optional ``overrides`` that set columns in that customer's own
rows before the stack starts. Each scenario gets a different customer, so scenarios can run in
parallel on one stack and each one's diff covers only its own customer's rows (plus rows
written under its conversation id, such as a handoff before the customer was identified).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from mcp_servers.dataset import sample_customers, system_db_path
from orchestrator.evaluation.scenario import Override, Scenario, StateChange
from shared.errors import InvalidRequest

KEY_KINDS = ("customer_id", "email", "msisdn", "account_number")

TABLES: dict[tuple[str, str], tuple[str, str]] = {
    # (system, table): (the column naming the customer, the row's primary key)
    ("crm", "profiles"): ("email", "email"),
    ("crm", "interactions"): ("email", "interaction_id"),
    ("billing", "accounts"): ("msisdn", "msisdn"),
    ("billing", "invoices"): ("msisdn", "invoice_id"),
    ("billing", "plan_changes"): ("msisdn", "change_id"),
    ("billing", "invoice_copies"): ("msisdn", "copy_id"),
    ("billing", "payment_arrangements"): ("msisdn", "arrangement_id"),
    ("billing", "account_closures"): ("msisdn", "closure_id"),
    ("payments", "accounts"): ("account_number", "account_number"),
    ("payments", "charges"): ("account_number", "charge_id"),
    ("payments", "refunds"): ("account_number", "refund_id"),
    ("support", "tickets"): ("email", "ticket_id"),
    ("support", "handoffs"): ("email", "handoff_id"),
    ("identity", "customers"): ("customer_id", "customer_id"),
    ("identity", "postal_addresses"): ("customer_id", "customer_id"),
    ("identity", "verifications"): ("customer_id", "verification_id"),
    ("identity", "lockouts"): ("customer_id", "customer_id"),
    ("network", "lines"): ("msisdn", "msisdn"),
    ("network", "roaming_settings"): ("msisdn", "msisdn"),
    ("network", "porting_codes"): ("msisdn", "msisdn"),
    ("network", "port_in_requests"): ("msisdn", "reference"),
    ("network", "line_locks"): ("msisdn", "msisdn"),
    ("network", "sim_activations"): ("msisdn", "activation_id"),
    ("billing", "credits"): ("msisdn", "credit_id"),
    ("support", "orders"): ("email", "order_id"),
    ("consent", "consents"): ("customer_id", "purpose"),
}
"""The customer-owned tables a diff covers; reference data (plans, articles) never changes."""

Snapshot = dict[str, dict[str, dict[str, Any]]]
"""``{"system.table": {primary key: row}}``"""


def allocate_customers(
    data_dir: Path, scenarios: list[Scenario], trials: int = 1, *, from_end: bool = False
) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[str, Any]]:
    """Give every (scenario, trial) its own reference customer matching its flags.

    A trial must not inherit what an earlier trial did (a refund already issued), so each
    trial plays a fresh customer with the same flags, the way a benchmark resets its database.
    Also returns one customer nobody plays: the "other customer" hostile scenarios ask about.
    ``from_end`` picks from the highest customer ids first (to stay clear of low ones in use).
    """
    taken: set[str] = set()
    chosen: dict[tuple[str, int], dict[str, Any]] = {}
    pools: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
    for trial in range(trials):
        for scenario in scenarios:
            if scenario.customer.keys:
                chosen[(scenario.id, trial)] = {**scenario.customer.keys}
                continue
            flags = scenario.customer.flags
            cache_key = tuple(sorted(flags.items()))
            if cache_key not in pools:
                wanted: dict[str, Any] = dict(flags)
                pool = sample_customers(data_dir, 10_000, **wanted)
                pools[cache_key] = pool[::-1] if from_end else pool
            free = [c for c in pools[cache_key] if c["customer_id"] not in taken]
            if not free:
                raise InvalidRequest(
                    f"scenario {scenario.id} trial {trial + 1}: no free reference customer with {flags or 'any flags'}",
                    hint="seed more customers (SWITCHBOARD_CUSTOMERS), run fewer trials, or loosen the flags",
                )
            taken.add(free[0]["customer_id"])
            chosen[(scenario.id, trial)] = free[0]
    bystanders = [c for c in sample_customers(data_dir, 10_000) if c["customer_id"] not in taken]
    other = (bystanders[0] if from_end else bystanders[-1]) if bystanders else {}
    return chosen, other


def apply_overrides(data_dir: Path, customer: dict[str, Any], overrides: list[Override]) -> None:
    """Set columns in the customer's own rows. Run before the MCP servers start."""
    for override in overrides:
        if (override.system, override.table) not in TABLES:
            raise InvalidRequest(
                f"cannot override {override.system}.{override.table}",
                hint=f"use one of {sorted(f'{s}.{t}' for s, t in TABLES)}",
            )
        key_column, _ = TABLES[(override.system, override.table)]
        with closing(sqlite3.connect(system_db_path(data_dir, override.system))) as db:
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({override.table})")}
            unknown = sorted((set(override.set) | set(override.where)) - columns)
            if unknown:
                raise InvalidRequest(
                    f"{override.system}.{override.table} has no columns {unknown}", hint=f"columns: {sorted(columns)}"
                )
            assignments = ", ".join(f"{column} = ?" for column in override.set)
            where = "".join(f" AND {column} = ?" for column in override.where)
            db.execute(
                f"UPDATE {override.table} SET {assignments} WHERE {key_column} = ?{where}",
                (*override.set.values(), customer[key_column], *override.where.values()),
            )
            db.commit()


def snapshot(data_dir: Path, customer: dict[str, Any], conversation_id: str | None = None) -> Snapshot:
    """The customer's rows in every customer-owned table (read-only, safe while servers run)."""
    result: Snapshot = {}
    by_system: dict[str, list[tuple[str, str, str]]] = {}
    for (system, table), (key_column, pk) in TABLES.items():
        by_system.setdefault(system, []).append((table, key_column, pk))
    for system, tables in by_system.items():
        path = system_db_path(data_dir, system)
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            for table, key_column, pk in tables:
                columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                where, params = f"{key_column} = ?", [customer.get(key_column)]
                if conversation_id and "conversation_id" in columns:
                    where += " OR conversation_id = ?"
                    params.append(conversation_id)
                rows = db.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchall()
                result[f"{system}.{table}"] = {str(r[pk]): dict(r) for r in rows}
    return result


def diff(before: Snapshot, after: Snapshot) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{"system.table": {"added": [row], "removed": [row], "changed": [{key, before, after}]}}``."""
    changes: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        added = [new[k] for k in sorted(set(new) - set(old))]
        removed = [old[k] for k in sorted(set(old) - set(new))]
        changed = [
            {"key": k, "before": old[k], "after": new[k]} for k in sorted(set(old) & set(new)) if old[k] != new[k]
        ]
        if added or removed or changed:
            changes[name] = {"added": added, "removed": removed, "changed": changed}
    return changes


def _row_matches(row: dict[str, Any], match: dict[str, Any]) -> bool:
    return all(str(row.get(field)) == str(value) for field, value in match.items())


def check_state(
    changes: dict[str, dict[str, list[dict[str, Any]]]], expected: list[StateChange], allowed: list[str]
) -> list[str]:
    """Failures (empty when the systems ended as expected, and nothing else changed)."""
    failures: list[str] = []
    explained: set[str] = set(allowed)
    for want in expected:
        name = f"{want.system}.{want.table}"
        explained.add(name)
        entries = changes.get(name, {}).get(want.op, [])
        rows = [e["after"] if want.op == "changed" else e for e in entries]
        found = sum(1 for r in rows if _row_matches(r, want.match))
        if found != want.count:
            failures.append(f"expected {want.count} {want.op} row(s) in {name} matching {want.match}, found {found}")
    for name in sorted(set(changes) - explained):
        kinds = {k: len(v) for k, v in changes[name].items() if v}
        failures.append(f"unexpected change in {name}: {kinds}")
    return failures
