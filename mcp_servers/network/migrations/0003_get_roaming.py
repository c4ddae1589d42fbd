"""Roaming: the line's setting and the daily price in each country.

Revision ID: 0003
Revises: 0002

Adds tables and rows only: every existing row stays, and a data directory or database that
already holds the reference dataset gets these rows on upgrade (nothing is re-seeded).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.migrations.types import Real

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ZONES = {
    "eu": (2.0, ("Spain", "France", "Italy", "Germany", "Portugal", "Greece", "Ireland", "Netherlands", "Poland")),
    "europe-other": (3.0, ("Switzerland", "Norway", "Turkey", "Iceland")),
    "world-1": (6.0, ("United States", "Canada", "Australia", "New Zealand", "Japan")),
    "world-2": (9.0, ("Thailand", "Mexico", "Brazil", "India", "South Africa", "Egypt", "Morocco")),
}
ROWS = [
    {"country": name.lower(), "country_name": name, "zone": zone, "daily_fee": fee, "currency": "GBP"}
    for zone, (fee, names) in _ZONES.items()
    for name in names
]


def upgrade() -> None:
    op.create_table(
        "roaming_settings",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("msisdn"),
    )
    rates = op.create_table(
        "roaming_rates",
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("country_name", sa.Text(), nullable=False),
        sa.Column("zone", sa.Text(), nullable=False),
        sa.Column("daily_fee", Real, nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("country"),
    )
    op.bulk_insert(rates, ROWS)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
