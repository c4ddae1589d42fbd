"""Small conversions the identity system's parts share: a customer row to its keys, a time to text."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp_servers._database import Row
from shared.envelope import CustomerKeys


def customer_keys(row: Row) -> CustomerKeys:
    return CustomerKeys(
        customer_id=row["customer_id"], email=row["email"], msisdn=row["msisdn"], account_number=row["account_number"]
    )


def iso_seconds(epoch: float) -> str:
    """A Unix time as UTC text, seconds precision, ``Z`` suffix."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
