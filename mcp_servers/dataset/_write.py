"""Writing the generated dataset into the system databases (stdlib sqlite3, once at seeding)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

from mcp_servers._time import iso
from mcp_servers.dataset._catalog import ARTICLES, PLANS
from mcp_servers.dataset._generate import OUTAGE_ROWS, Customer, Dataset
from shared.database import DatabaseURL
from shared.migrations import upgrade


def _write_crm(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                c.email,
                f"{c.first_name} {c.last_name}",
                c.segment,
                c.preferred_channel,
                c.area,
                c.customer_since.isoformat(),
                (c.previous_plan or c.plan).name,
            )
            for c in ds.customers
        ],
    )
    db.executemany(
        "INSERT INTO interactions (interaction_id, email, channel, started_at, age_minutes, topic, summary,"
        " outcome, conversation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                x.interaction_id,
                x.email,
                x.channel,
                iso(x.started_at) if x.started_at else None,
                x.age_minutes,
                x.topic,
                x.summary,
                x.outcome,
                x.conversation_id,
            )
            for x in ds.interactions
        ],
    )


CONTRACT_MONTHS = 24
NOTICE_DAYS = 30


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


def _contract(c: Customer, reference: date) -> tuple[object, ...]:
    """A 24-month minimum term. Two customers in three re-signed at their last renewal (still in
    term); the rest never did, so their first term ended long ago (or ends soon, if new)."""
    started = c.customer_since
    if int(c.customer_id[-5:]) % 3 != 0:
        while _add_months(started, CONTRACT_MONTHS) <= reference:
            started = _add_months(started, CONTRACT_MONTHS)
    ends = _add_months(started, CONTRACT_MONTHS)
    return (c.msisdn, started.isoformat(), CONTRACT_MONTHS, ends.isoformat(), c.plan.monthly_fee_pence, NOTICE_DAYS)


ORDER_ITEMS = ("Pixel 9 128GB", "Replacement SIM", "iPhone 16 128GB", "Galaxy S25 case", "Galaxy A56 5G")
# (status, ordered days ago, delivery in days (negative: delivered that long ago), option, tracked)
ORDER_STAGES = (
    ("processing", 1, 3, "standard", False),
    ("dispatched", 2, 1, "next-day", True),
    ("delivered", 12, -8, "standard", True),
)


def _order(c: Customer) -> tuple[object, ...] | None:
    """One customer in three has an order: being prepared, with the courier, or delivered."""
    n = int(c.customer_id[-5:])
    if n % 3 != 1:
        return None
    status, ordered, arrives, option, tracked = ORDER_STAGES[(n // 3) % len(ORDER_STAGES)]
    item = ORDER_ITEMS[n % len(ORDER_ITEMS)]
    return (f"ORD-{n:05d}", c.email, item, status, ordered, arrives, option, f"TRK{n:07d}" if tracked else None)


def _payment_method(c: Customer, reference: date) -> tuple[object, ...]:
    """One card in five expired at the end of the month before the reference date (declined
    payments); one account in four pays each invoice by hand (autopay off)."""
    n = int(c.customer_id[-5:])
    expired = _add_months(reference.replace(day=1), -1)
    expiry = expired if n % 5 == 0 else _add_months(reference.replace(day=1), 6 + n % 30)
    return (c.account_number, c.card_last4, f"{expiry.year:04d}-{expiry.month:02d}", int(n % 4 != 0))


def _write_billing(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO plans VALUES (?, ?, ?, ?, ?)",
        [(p.plan_id, p.name, p.monthly_fee_pence, p.data_gb, json.dumps(list(p.features))) for p in PLANS],
    )
    next_bill = ds.reference_date.replace(day=1)
    next_bill = (
        next_bill.replace(year=next_bill.year + 1, month=1)
        if next_bill.month == 12
        else next_bill.replace(month=next_bill.month + 1)
    )
    db.executemany(
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
        [
            (
                c.msisdn,
                c.plan.plan_id,
                "active",
                next_bill.isoformat(),
                iso(datetime.combine(c.plan_changed_on, time(9, 0), UTC)),
            )
            for c in ds.customers
        ],
    )
    db.executemany(
        "INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?)", [_contract(c, ds.reference_date) for c in ds.customers]
    )
    db.executemany("INSERT INTO billing_contacts VALUES (?, ?)", [(c.msisdn, c.email) for c in ds.customers])
    db.executemany(
        "INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?)",
        [(v.invoice_id, v.msisdn, v.period, v.issued_on.isoformat(), v.total_pence, v.status) for v in ds.invoices],
    )
    db.executemany(
        "INSERT INTO invoice_lines VALUES (?, ?, ?, ?)",
        [(v.invoice_id, n, desc, amount) for v in ds.invoices for n, (desc, amount) in enumerate(v.lines, 1)],
    )


def _write_payments(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO accounts VALUES (?, ?, ?)",
        [(c.account_number, "GBP", c.card_last4) for c in ds.customers],
    )
    db.executemany(
        "INSERT INTO payment_methods (account_number, card_last4, card_expiry, autopay) VALUES (?, ?, ?, ?)",
        [_payment_method(c, ds.reference_date) for c in ds.customers],
    )
    db.executemany(
        "INSERT INTO charges (charge_id, account_number, invoice_id, amount_pence, currency, charged_at,"
        " card_last4) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                c.charge_id,
                c.account_number,
                c.invoice_id,
                c.amount_pence,
                "GBP",
                iso(c.charged_at),
                c.card_last4,
            )
            for c in ds.charges
        ],
    )


def _write_support(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO customers VALUES (?, ?)",
        [(c.email, f"{c.first_name} {c.last_name}") for c in ds.customers],
    )
    db.executemany(
        "INSERT INTO tickets (ticket_id, email, category, summary, status, priority, opened_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(t.ticket_id, t.email, t.category, t.summary, t.status, t.priority, iso(t.opened_at)) for t in ds.tickets],
    )
    db.executemany(
        "INSERT INTO orders (order_id, email, item, status, ordered_days_ago, delivery_in_days, delivery_option,"
        " tracking_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [row for c in ds.customers if (row := _order(c)) is not None],
    )
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
        [(a.article_id, a.title, a.summary, json.dumps(list(a.steps)), json.dumps(list(a.tags))) for a in ARTICLES],
    )
    db.executemany(
        "INSERT INTO articles_fts (article_id, title, summary, body, tags) VALUES (?, ?, ?, ?, ?)",
        [(a.article_id, a.title, a.summary, " ".join(a.steps), " ".join(a.tags)) for a in ARTICLES],
    )


def _write_network(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                n.msisdn,
                n.iccid,
                "active",
                n.device_model,
                n.connectivity,
                int(n.roaming),
                n.area,
                iso(n.last_sim_change) if n.last_sim_change else None,
                n.sim_change_age_minutes,
            )
            for n in ds.lines
        ],
    )
    db.executemany("INSERT INTO outages VALUES (?, ?, ?, ?, ?)", OUTAGE_ROWS)


def _write_identity(db: sqlite3.Connection, ds: Dataset) -> None:
    db.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                c.customer_id,
                c.first_name,
                f"{c.first_name} {c.last_name}",
                c.email,
                c.msisdn,
                c.account_number,
            )
            for c in ds.customers
        ],
    )
    db.executemany(
        "INSERT INTO postal_addresses (customer_id, line1, line2, town, postcode, changed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [_address(c) for c in ds.customers],
    )


_STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Victoria Street", "Orchard Way")
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _address(c: Customer) -> tuple[str, str, None, str, str, str]:
    """A postal address in the customer's area, derived from their id: the generator's draws stay as they were."""
    n = int(c.customer_id.removeprefix("CUST-"))
    initials = "".join(word[0] for word in c.area.split())[:2].upper().ljust(2, "X")
    postcode = f"{initials}{n % 9 + 1} {n % 10}{_LETTERS[n % 20]}{_LETTERS[(n // 20) % 20]}"
    line1 = f"{n % 97 + 1} {_STREETS[n % len(_STREETS)]}"
    return (c.customer_id, line1, None, c.area, postcode, iso(datetime.combine(c.customer_since, time(), UTC)))


def _write_consent(db: sqlite3.Connection, ds: Dataset) -> None:
    # Here, not at the top: the purposes come with the MCP types, which a warm start never needs.
    from mcp_servers.dataset._consent import consent_rows

    rows = consent_rows(ds)
    db.executemany("INSERT INTO consents VALUES (?, ?, ?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO consent_history VALUES (?, ?, ?, ?, ?, NULL)", [(c, p, g, at, src) for c, p, g, at, src in rows]
    )


WRITERS: dict[str, Callable[[sqlite3.Connection, Dataset], None]] = {
    "crm": _write_crm,
    "billing": _write_billing,
    "payments": _write_payments,
    "support": _write_support,
    "identity": _write_identity,
    "network": _write_network,
    "consent": _write_consent,
}
"""Which systems the dataset fills, and how; their tables come from each system's revisions."""


def write_system(path: Path, system: str, ds: Dataset) -> None:
    """Write one system's database at ``path`` (which must not exist yet): its tables at the head
    revision (with any rows the revisions add), then the generated dataset."""
    upgrade(DatabaseURL("sqlite", path=path), system)
    db = sqlite3.connect(path)
    try:
        WRITERS[system](db, ds)
        db.commit()
    finally:
        db.close()
