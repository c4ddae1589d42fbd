"""Charges by invoice, in charge order.

Whether a charge is a duplicate is decided by the earliest charge of its invoice
(``find_duplicate_charges``, ``refund_facts``): without this index each of those reads scans
every charge once per charge it looks at.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("charges_by_invoice", "charges", ["invoice_id", "charged_at"], unique=False, if_not_exists=True)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
