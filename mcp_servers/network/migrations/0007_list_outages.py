"""Outage records: outages that have ended, how long they lasted and whether they were planned work.

Revision ID: 0007
Revises: 0006

Adds a table and its rows only: every existing row stays (the seeded ``outages`` keep describing
what is going on now). The records are dated by age (minutes before now, like every live fact of
the dataset), so they stay recent on any day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_HOUR = 60
RECORDS = [
    {"outage_id": oid, "area": area, "description": text, "age_minutes": started * _HOUR, "lasted_hours": lasted}
    | {"planned": planned}
    for oid, area, text, started, lasted, planned in (
        ("OUT-004", "Kingsmere", "Planned upgrade finished", 216, 6, 1),
        ("OUT-101", "Glenbrook", "Cable fault: no mobile service", 120, 30, 0),
        ("OUT-102", "Northwood", "Storm damage to two masts: no service", 200, 100, 0),
        ("OUT-103", "Millbridge", "Core network fault: calls failing", 72, 5, 0),
    )
]


def upgrade() -> None:
    records = op.create_table(
        "outage_records",
        sa.Column("outage_id", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("age_minutes", sa.Integer(), nullable=False),
        sa.Column("lasted_hours", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("outage_id"),
    )
    op.bulk_insert(records, RECORDS)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
