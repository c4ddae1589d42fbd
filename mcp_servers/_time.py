"""Time for the reference backends.

Rule for the reference dataset: history (invoices, charges, tickets, older conversations,
SIM activations) is dated from the fixed reference date stored with the dataset, so the same
seed always gives the same data. "Live" facts (conversations in the last 30 days, recent SIM
swaps, current area outages) are stored as an age and rendered relative to the current time
when read, so a 30-day repeat check or a 240-hour SIM-swap check works on any day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC timestamp, seconds precision, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def live_time(age_minutes: int, *, now: datetime | None = None) -> str:
    """The timestamp of a live fact stored as an age."""
    return iso((now or utcnow()) - timedelta(minutes=age_minutes))
