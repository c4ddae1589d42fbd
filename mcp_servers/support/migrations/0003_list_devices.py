"""The devices on sale: phones, SIMs, eSIMs and accessories, with prices and stock.

Revision ID: 0003
Revises: 0002

Adds a table and its reference rows only: every existing row stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROWS = [
    {"item_id": "PIXEL9-128", "name": "Pixel 9 128GB", "kind": "phone", "price_pence": 69900, "in_stock": 1},
    {"item_id": "IPHONE16-128", "name": "iPhone 16 128GB", "kind": "phone", "price_pence": 79900, "in_stock": 1},
    {"item_id": "GALAXYS25-256", "name": "Galaxy S25 256GB", "kind": "phone", "price_pence": 85900, "in_stock": 0},
    {"item_id": "GALAXYA56", "name": "Galaxy A56 5G", "kind": "phone", "price_pence": 34900, "in_stock": 1},
    {"item_id": "MOTOG85", "name": "Moto G85", "kind": "phone", "price_pence": 19900, "in_stock": 1},
    {"item_id": "SIM-STD", "name": "SIM card (all sizes)", "kind": "sim", "price_pence": 0, "in_stock": 1},
    {"item_id": "SIM-DATA", "name": "Data-only SIM for a tablet", "kind": "sim", "price_pence": 0, "in_stock": 1},
    {"item_id": "ESIM", "name": "eSIM", "kind": "esim", "price_pence": 0, "in_stock": 1},
    {"item_id": "CASE-S25", "name": "Galaxy S25 case", "kind": "accessory", "price_pence": 2499, "in_stock": 1},
    {"item_id": "CHARGER-30W", "name": "30W fast charger", "kind": "accessory", "price_pence": 1999, "in_stock": 1},
]


def upgrade() -> None:
    devices = op.create_table(
        "devices",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("in_stock", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.bulk_insert(devices, ROWS)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
