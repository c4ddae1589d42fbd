"""The reference dataset: a fictional mobile operator, "Northwind Mobile".

``ensure_seeded`` writes one SQLite database per enterprise system under
``<data_dir>/systems/`` (deterministic from the seed; see ``mcp_servers._time`` for how dates
work); ``prepare_dataset`` does that, or loads the same rows into PostgreSQL (one schema per
system) when a PostgreSQL URL is given; ``sample_customers`` picks real customers by scenario
flags so end-to-end tests never hard-code a customer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

from mcp_servers._time import parse_iso, utcnow
from mcp_servers.dataset._catalog import NETWORK_TOPICS
from mcp_servers.dataset._generate import generate
from mcp_servers.dataset._write import WRITERS, write_system
from shared.database import DatabaseURL
from shared.errors import InvalidRequest

__all__ = ["FLAGS", "ensure_seeded", "prepare_dataset", "sample_customers", "system_db_path"]

log = logging.getLogger("switchboard.dataset")

DATASET_VERSION = (
    5  # 2: the consent registry; 3: contracts (minimum terms and exit fees); 4: orders; 5: payment methods
)
RECENT_INTERACTION_DAYS = 30
RECENT_SIM_SWAP_HOURS = 240

FLAGS = (
    "has_duplicate_charge",
    "has_recent_network_interaction",
    "plan_id",
    "crm_plan_stale",
    "has_open_ticket",
    "has_recent_sim_swap",
    "in_outage_area",
    "has_unpaid_invoice",
    "has_marketing_consent",
)
"""Keyword filters ``sample_customers`` accepts (compared for equality)."""


def system_db_path(data_dir: Path, system: str) -> Path:
    return Path(data_dir) / "systems" / f"{system}.db"


def _marker_path(data_dir: Path) -> Path:
    return Path(data_dir) / "systems" / "dataset.json"


def _is_current(data_dir: Path, wanted: dict[str, int]) -> bool:
    marker = _marker_path(data_dir)
    if not marker.exists() or not all(system_db_path(data_dir, s).exists() for s in WRITERS):
        return False
    try:
        found = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return all(found.get(k) == v for k, v in wanted.items())


def ensure_seeded(data_dir: Path, *, customers: int = 240, seed: int = 7) -> None:
    """Write every system database unless they already hold this seed and size.

    Re-seeding replaces the databases (and anything written to them since): run it before
    the MCP servers start, never while they run.
    """
    data_dir = Path(data_dir)
    wanted = {"version": DATASET_VERSION, "seed": seed, "customers": customers}
    if _is_current(data_dir, wanted):
        return
    dataset = generate(customers, seed)
    systems_dir = data_dir / "systems"
    systems_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seeding-", dir=systems_dir))
    try:
        for system in WRITERS:
            write_system(staging / f"{system}.db", system, dataset)
        # The marker goes first: a crash half-way through the swap then re-seeds on next start.
        _marker_path(data_dir).unlink(missing_ok=True)
        for system in WRITERS:
            target = system_db_path(data_dir, system)
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(staging / f"{system}.db", target)
        marker_tmp = staging / "dataset.json"
        marker_tmp.write_text(json.dumps({**wanted, "reference_date": dataset.reference_date.isoformat()}))
        os.replace(marker_tmp, _marker_path(data_dir))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _postgres_url(database_url: str | None) -> DatabaseURL | None:
    if not database_url:
        return None
    db = DatabaseURL.parse(database_url, default_sqlite=Path("unused.db"))
    return db if db.is_postgres else None


async def prepare_dataset(data_dir: Path, database_url: str | None, *, customers: int = 240, seed: int = 7) -> None:
    """Seed where the reference backends will run: PostgreSQL when ``database_url`` names it
    (each system's schema once, never re-seeded), else the SQLite files under ``data_dir``."""
    db = _postgres_url(database_url)
    if db is None:
        await asyncio.to_thread(ensure_seeded, data_dir, customers=customers, seed=seed)
        return
    from mcp_servers.dataset._postgres import seed_postgres

    seeded = await seed_postgres(db, customers=customers, seed=seed, version=DATASET_VERSION)
    if seeded:
        log.info("reference dataset loaded into PostgreSQL for %s", ", ".join(seeded))


def _sqlite_rows(data_dir: Path, queries: dict[str, tuple[str, str]]) -> dict[str, list[sqlite3.Row]]:
    found = {}
    for name, (system, sql) in queries.items():
        with closing(sqlite3.connect(system_db_path(data_dir, system))) as db:
            db.row_factory = sqlite3.Row
            found[name] = db.execute(sql).fetchall()
    return found


def _is_recent(started_at: str | None, age_minutes: int | None, window: timedelta) -> bool:
    if age_minutes is not None:
        return timedelta(minutes=age_minutes) <= window
    return started_at is not None and parse_iso(started_at) >= utcnow() - window


# What the flags are computed from: (system, query) by name, in SQL both databases run.
_QUERIES = {
    "plans": ("billing", "SELECT plan_id, name FROM plans"),
    "accounts": ("billing", "SELECT msisdn, plan_id FROM accounts"),
    "unpaid": ("billing", "SELECT msisdn FROM invoices WHERE status != 'paid'"),
    "profiles": ("crm", "SELECT email, plan_name FROM profiles"),
    "views": ("crm", "SELECT customer_id, doc FROM customer_view"),
    "network_interactions": (
        "crm",
        "SELECT email, started_at, age_minutes FROM interactions WHERE topic IN ({})".format(
            ", ".join(f"'{t}'" for t in NETWORK_TOPICS)
        ),
    ),
    "duplicates": (
        "payments",
        "SELECT c.account_number, MAX(c.amount_pence - c.refunded_pence) AS pence FROM charges c"
        " WHERE c.refunded_pence < c.amount_pence AND EXISTS ("
        " SELECT 1 FROM charges e WHERE e.invoice_id = c.invoice_id AND e.charged_at < c.charged_at)"
        " GROUP BY c.account_number",
    ),
    "open_tickets": ("support", "SELECT email FROM tickets WHERE status = 'open'"),
    "lines": ("network", "SELECT msisdn, area, last_sim_change, sim_change_age_minutes FROM lines"),
    "outages": ("network", "SELECT area FROM outages WHERE active = 1"),
    "marketing": ("consent", "SELECT customer_id FROM consents WHERE purpose = 'marketing' AND granted = 1"),
    "customers": ("identity", "SELECT * FROM customers ORDER BY customer_id"),
}


def _all_customers(rows: dict[str, list[Any]]) -> list[dict[str, Any]]:
    plans = {r["plan_id"]: r["name"] for r in rows["plans"]}
    billing = {r["msisdn"]: r["plan_id"] for r in rows["accounts"]}
    unpaid = {r["msisdn"] for r in rows["unpaid"]}
    crm_plan = {r["email"]: r["plan_name"] for r in rows["profiles"]}
    network_window = timedelta(days=RECENT_INTERACTION_DAYS)
    recent_network = {
        r["email"]
        for r in rows["network_interactions"]
        if _is_recent(r["started_at"], r["age_minutes"], network_window)
    }
    duplicates = {r["account_number"]: r["pence"] for r in rows["duplicates"]}
    open_tickets = {r["email"] for r in rows["open_tickets"]}
    swap_window = timedelta(hours=RECENT_SIM_SWAP_HOURS)
    lines = rows["lines"]
    swapped = {r["msisdn"] for r in lines if _is_recent(r["last_sim_change"], r["sim_change_age_minutes"], swap_window)}
    outage_areas = {r["area"] for r in rows["outages"]}
    area_of = {r["msisdn"]: r["area"] for r in lines}
    marketing = {r["customer_id"] for r in rows["marketing"]}
    # The CRM's customer view follows billing's plan-changed events: where it has seen one, it
    # is newer than the CRM's own copy, so that is what the CRM shows.
    views = {r["customer_id"]: json.loads(r["doc"]) for r in rows["views"]}
    people = []
    for r in rows["customers"]:
        plan_id = billing.get(r["msisdn"])
        view = views.get(r["customer_id"], {})
        crm_plan_name = (view.get("plan") or {}).get("plan_name") or crm_plan.get(r["email"])
        last = view.get("last_event") or {}
        people.append(
            {
                "customer_id": r["customer_id"],
                "email": r["email"],
                "msisdn": r["msisdn"],
                "account_number": r["account_number"],
                "display_name": r["first_name"],
                "full_name": r["full_name"],
                "plan_id": plan_id,
                "plan_name": plans.get(plan_id),
                "crm_plan_name": crm_plan_name,
                "crm_plan_stale": crm_plan_name != plans.get(plan_id),
                "crm_view_lag_seconds": (
                    round(last["applied_at"] - last["time"], 3) if "applied_at" in last and "time" in last else None
                ),
                "has_duplicate_charge": r["account_number"] in duplicates,
                "duplicate_charge_pence": duplicates.get(r["account_number"], 0),
                "has_recent_network_interaction": r["email"] in recent_network,
                "has_open_ticket": r["email"] in open_tickets,
                "has_recent_sim_swap": r["msisdn"] in swapped,
                "in_outage_area": area_of.get(r["msisdn"]) in outage_areas,
                "has_unpaid_invoice": r["msisdn"] in unpaid,
                "has_marketing_consent": r["customer_id"] in marketing,
            }
        )
    return people


def sample_customers(
    data_dir: Path, n: int = 5, *, database_url: str | None = None, **flags: Any
) -> list[dict[str, Any]]:
    """Up to ``n`` customers (in customer-id order) whose flags equal the given keyword values.

    Each has every key (customer_id, email, msisdn, account_number), display_name, plan and
    the scenario flags in ``FLAGS``; read from the databases (PostgreSQL when
    ``database_url`` names it), so changes made at run time (a refund, a plan change) are
    reflected.
    """
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise InvalidRequest(f"unknown customer flags {unknown}", hint=f"use any of {list(FLAGS)}")
    db = _postgres_url(database_url)
    if db is None:
        if not _marker_path(data_dir).exists():
            raise InvalidRequest(f"no reference dataset under {data_dir}", hint="call ensure_seeded first")
        rows: dict[str, list[Any]] = dict(_sqlite_rows(Path(data_dir), _QUERIES))
    else:
        from mcp_servers.dataset._postgres import fetch_rows, has_dataset, run_sync

        if not run_sync(has_dataset(db)):
            raise InvalidRequest(f"no reference dataset in {db.redacted()}", hint="run 'switchboard prepare' first")
        rows = dict(run_sync(fetch_rows(db, _QUERIES)))
    matches = [c for c in _all_customers(rows) if all(c[k] == v for k, v in flags.items())]
    return matches[:n]


def reference_date(data_dir: Path) -> str:
    """The fixed date the dataset's history is dated from (ISO), as stored at seeding."""
    return str(json.loads(_marker_path(data_dir).read_text())["reference_date"])
