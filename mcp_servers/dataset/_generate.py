"""Deterministic generation of the reference dataset (pure: seed in, records out).

One ``random.Random(seed)`` drives every choice in a fixed order, so the same seed and size
always give the same records. The size caps at 1000 because Ofcom's drama range holds 1000
mobile numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from mcp_servers.dataset._catalog import (
    AREAS,
    CHANNELS,
    DEVICES,
    EMAIL_DOMAINS,
    EXTRAS,
    FIRST_NAMES,
    LAST_NAMES,
    NETWORK_TOPICS,
    OUTAGES,
    PLAN_WEIGHTS,
    PLANS,
    SEGMENTS,
    TOPICS,
    Plan,
)
from shared.errors import ConfigurationError

REFERENCE_DATE = date(2026, 10, 31)
MAX_CUSTOMERS = 1000
INVOICE_MONTHS = 6
_DAY_MINUTES = 24 * 60


@dataclass
class Customer:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    msisdn: str
    account_number: str
    area: str
    segment: str
    preferred_channel: str
    customer_since: date
    plan: Plan
    previous_plan: Plan | None
    plan_changed_on: date
    device: str
    card_last4: str


@dataclass
class Invoice:
    invoice_id: str
    msisdn: str
    period: str
    issued_on: date
    lines: list[tuple[str, int]]
    status: str

    @property
    def total_pence(self) -> int:
        return sum(amount for _, amount in self.lines)


@dataclass
class Charge:
    charge_id: str
    account_number: str
    invoice_id: str
    amount_pence: int
    charged_at: datetime
    card_last4: str


@dataclass
class Interaction:
    interaction_id: str
    email: str
    channel: str
    started_at: datetime | None
    age_minutes: int | None
    topic: str
    summary: str
    outcome: str
    conversation_id: str


@dataclass
class Ticket:
    ticket_id: str
    email: str
    category: str
    summary: str
    status: str
    priority: str
    opened_at: datetime


@dataclass
class Line:
    msisdn: str
    iccid: str
    device_model: str
    connectivity: str
    roaming: bool
    area: str
    last_sim_change: datetime | None
    sim_change_age_minutes: int | None


@dataclass
class Dataset:
    seed: int
    reference_date: date
    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def _months_back(ref: date, count: int) -> list[date]:
    """First days of the ``count`` months ending with the reference month, oldest first."""
    year, month = ref.year, ref.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(0, 0), UTC) + timedelta(minutes=minutes)


def _pick_share(rng: random.Random, pool: list[int], share: float) -> set[int]:
    return set(rng.sample(pool, max(1, round(len(pool) * share))))


def generate(customers: int, seed: int) -> Dataset:
    """Build the whole dataset in memory."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ConfigurationError(
            f"the reference dataset holds 1 to {MAX_CUSTOMERS} customers, not {customers}",
            hint="set customers to a value in that range",
        )
    rng = random.Random(seed)
    ds = Dataset(seed=seed, reference_date=REFERENCE_DATE)
    ref = REFERENCE_DATE
    numbers = rng.sample(range(1000), customers)
    accounts = rng.sample(range(1_000_000, 10_000_000), customers)
    everyone = list(range(customers))
    duplicates = _pick_share(rng, everyone, 0.10)
    recent_network = _pick_share(rng, everyone, 0.30)
    stale_crm = _pick_share(rng, everyone, 0.15)
    # SIM-swapped customers are kept apart from the refund and repeat-issue scenarios so that
    # a test picking one of those is never blocked by an unrelated fraud signal.
    swap_pool = [i for i in everyone if i not in duplicates and i not in recent_network] or everyone
    sim_swapped = _pick_share(rng, swap_pool, 0.04)
    open_tickets = _pick_share(rng, everyone, 0.06)
    seen_emails: set[str] = set()
    months = _months_back(ref, INVOICE_MONTHS)
    ticket_seq = interaction_seq = 0

    for i in everyone:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}@{rng.choice(EMAIL_DOMAINS)}".lower()
        if email in seen_emails:
            local, _, domain = email.partition("@")
            email = f"{local}{i + 1}@{domain}"
        seen_emails.add(email)
        plan = rng.choices(PLANS, weights=PLAN_WEIGHTS)[0]
        previous = None
        since = ref - timedelta(days=rng.randint(200, 3000))
        changed_on = since
        if i in stale_crm:
            # The customer moved plan in billing recently; the CRM copy still shows the old one.
            previous = rng.choice([p for p in PLANS if p.plan_id != plan.plan_id])
            changed_on = months[rng.randint(2, INVOICE_MONTHS - 1)] + timedelta(days=rng.randint(0, 20))
        area = rng.choice(AREAS)
        cust = Customer(
            customer_id=f"CUST-{i + 1:05d}",
            first_name=first,
            last_name=last,
            email=email,
            msisdn=f"+447700900{numbers[i]:03d}",
            account_number=f"ACC-{accounts[i]}",
            area=area,
            segment=rng.choice(SEGMENTS),
            preferred_channel=rng.choice(CHANNELS),
            customer_since=since,
            plan=plan,
            previous_plan=previous,
            plan_changed_on=changed_on,
            device=rng.choice(DEVICES),
            card_last4=f"{rng.randint(0, 9999):04d}",
        )
        ds.customers.append(cust)

        unpaid_last = rng.random() < 0.08
        paid: list[Invoice] = []
        for m, first_day in enumerate(months):
            billed = previous if previous and first_day < changed_on else plan
            lines = [(f"{billed.name} monthly plan", billed.monthly_fee_pence)]
            if rng.random() < 0.3:
                lines.append(rng.choice(EXTRAS))
            is_last = m == INVOICE_MONTHS - 1
            inv = Invoice(
                invoice_id=f"INV-{first_day:%Y%m}-{i + 1:05d}",
                msisdn=cust.msisdn,
                period=f"{first_day:%Y-%m}",
                issued_on=first_day,
                lines=lines,
                status="due" if is_last and unpaid_last else "paid",
            )
            ds.invoices.append(inv)
            if inv.status == "paid":
                paid.append(inv)
                ds.charges.append(
                    Charge(
                        charge_id=f"CH-{rng.getrandbits(40):010X}",
                        account_number=cust.account_number,
                        invoice_id=inv.invoice_id,
                        amount_pence=inv.total_pence,
                        charged_at=_at(first_day + timedelta(days=3), rng.randint(8 * 60, 18 * 60)),
                        card_last4=cust.card_last4,
                    )
                )
        if i in duplicates and paid:
            twice = rng.choice(paid[-3:])
            first_charge = next(c for c in ds.charges if c.invoice_id == twice.invoice_id)
            ds.charges.append(
                Charge(
                    charge_id=f"CH-{rng.getrandbits(40):010X}",
                    account_number=cust.account_number,
                    invoice_id=twice.invoice_id,
                    amount_pence=twice.total_pence,
                    charged_at=first_charge.charged_at + timedelta(minutes=rng.randint(5, 180)),
                    card_last4=cust.card_last4,
                )
            )

        for _ in range(rng.randint(1, 3)):
            interaction_seq += 1
            topic = rng.choice(sorted(TOPICS))
            summary, outcome, _category = TOPICS[topic]
            ds.interactions.append(
                Interaction(
                    interaction_id=f"INT-{interaction_seq:07d}",
                    email=email,
                    channel=rng.choice(CHANNELS),
                    started_at=_at(ref - timedelta(days=rng.randint(45, 400)), rng.randint(8 * 60, 20 * 60)),
                    age_minutes=None,
                    topic=topic,
                    summary=summary,
                    outcome=outcome,
                    conversation_id=f"CONV-{rng.getrandbits(32):08x}",
                )
            )
        if i in recent_network:
            interaction_seq += 1
            topic = rng.choice(NETWORK_TOPICS)
            summary, _outcome, _category = TOPICS[topic]
            ds.interactions.append(
                Interaction(
                    interaction_id=f"INT-{interaction_seq:07d}",
                    email=email,
                    channel=rng.choice(CHANNELS),
                    started_at=None,
                    age_minutes=rng.randint(2 * _DAY_MINUTES, 25 * _DAY_MINUTES),
                    topic=topic,
                    summary=summary + " (issue came back later)",
                    outcome=rng.choice(("resolved", "pending")),
                    conversation_id=f"CONV-{rng.getrandbits(32):08x}",
                )
            )

        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 2)):
                ticket_seq += 1
                topic = rng.choice(sorted(TOPICS))
                summary, _outcome, category = TOPICS[topic]
                ds.tickets.append(
                    Ticket(
                        ticket_id=f"TCK-{ticket_seq:06d}",
                        email=email,
                        category=category,
                        summary=summary,
                        status="closed",
                        priority=rng.choice(("low", "normal", "normal", "high")),
                        opened_at=_at(ref - timedelta(days=rng.randint(40, 300)), rng.randint(8 * 60, 20 * 60)),
                    )
                )
        if i in open_tickets:
            ticket_seq += 1
            ds.tickets.append(
                Ticket(
                    ticket_id=f"TCK-{ticket_seq:06d}",
                    email=email,
                    category="device",
                    summary="Replacement handset ordered, awaiting delivery",
                    status="open",
                    priority="normal",
                    opened_at=_at(ref - timedelta(days=rng.randint(1, 10)), rng.randint(8 * 60, 20 * 60)),
                )
            )

        degraded = i in recent_network and rng.random() < 0.5
        ds.lines.append(
            Line(
                msisdn=cust.msisdn,
                iccid=f"8944{rng.getrandbits(50):015d}"[:19],
                device_model=cust.device,
                connectivity="degraded" if degraded else "normal",
                roaming=rng.random() < 0.05,
                area=area,
                last_sim_change=None if i in sim_swapped else _at(since, rng.randint(9 * 60, 17 * 60)),
                sim_change_age_minutes=rng.randint(2 * 60, 72 * 60) if i in sim_swapped else None,
            )
        )
    return ds


OUTAGE_ROWS = [
    (f"OUT-{n + 1:03d}", area, text, 90 + 60 * n if active else 9 * _DAY_MINUTES, int(active))
    for n, (area, text, active) in enumerate(OUTAGES)
]
