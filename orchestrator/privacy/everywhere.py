"""Subject access and erasure over wherever a deployment keeps data: its data directory, and its
PostgreSQL database when ``SWITCHBOARD_DATABASE_URL`` names one (the files that stay in the data
directory then, such as the message outbox, are covered too).

The PostgreSQL side is imported only when a deployment has one: it loads SQLAlchemy, which
``switchboard up``'s retention schedule (a neighbour of this package) would otherwise load on
SQLite too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from orchestrator.privacy.access import collect
from orchestrator.privacy.erasure import ErasureReport, erase_everywhere, erase_files
from orchestrator.privacy.pseudonyms import Pseudonyms
from orchestrator.privacy.stores import Customer, find_customer
from shared.database import DatabaseURL


def _database(database_url: str | None) -> DatabaseURL | None:
    if not database_url:
        return None
    db = DatabaseURL.parse(database_url, default_sqlite=Path("unused.db"))
    return db if db.is_postgres else None


def locate(data_dir: Path, database_url: str | None, customer_id: str) -> Customer:
    db = _database(database_url)
    if db is None:
        return find_customer(data_dir, customer_id)
    from orchestrator.privacy import postgres

    return asyncio.run(postgres.find_customer(db, customer_id))


def collect_everywhere(data_dir: Path, database_url: str | None, customer: Customer) -> dict[str, Any]:
    found = collect(data_dir, customer)
    db = _database(database_url)
    if db is not None:
        from orchestrator.privacy import postgres

        for system, held in asyncio.run(postgres.collect(db, customer)).items():
            for table, rows in held.items():
                found.setdefault(system, {}).setdefault(table, []).extend(rows)
    return found


def erase_all(data_dir: Path, database_url: str | None, customer: Customer) -> ErasureReport:
    db = _database(database_url)
    if db is None:
        return erase_everywhere(data_dir, customer)
    from orchestrator.privacy import postgres

    names = Pseudonyms.of(customer, asyncio.run(postgres.conversation_ids(db, customer)))
    report = ErasureReport()
    erase_files(data_dir, names, report)
    asyncio.run(postgres.erase(db, names, report))
    return report
