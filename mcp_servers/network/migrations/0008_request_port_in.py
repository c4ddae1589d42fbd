"""Numbers brought in from other providers, and the porting codes those providers issued.

Revision ID: 0008
Revises: 0007

Adds two tables and the reference rows of one: every existing row stays. ``donor_porting_codes``
stands in for the industry porting hub, where a recipient checks that a code matches the number
before it asks for the move. Its codes are dated by age (days before now, like every live fact of
the dataset), so they stay valid, or expired, on any day. The numbers are outside the range the
dataset gives its own customers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DONOR_CODES = [
    {"number": number, "code": code, "donor": donor, "age_days": age}
    for number, code, donor, age in (
        ("+447700901001", "VOD481273", "Vodafone", 2),
        ("+447700901002", "EEM730215", "EE", 5),
        ("+447700901003", "OTW118604", "O2", 1),
        ("+447700901004", "THR902447", "Three", 12),
        ("+447700901005", "GFF305518", "giffgaff", 3),
        ("+447700901006", "TSC640092", "Tesco Mobile", 8),
        ("+447700901007", "SKY277831", "Sky Mobile", 4),
        ("+447700901008", "VRG519460", "Virgin Media", 6),
        ("+447700901009", "LBR884120", "Lebara", 0),
        ("+447700901010", "IDM215973", "iD Mobile", 9),
        ("+447700901011", "SMR360718", "SMARTY", 2),
        ("+447700901012", "VOX093351", "VOXI", 7),
        # Issued long ago: past the 30 days a porting code is valid.
        ("+447700901090", "OLD774210", "EE", 45),
    )
]


def upgrade() -> None:
    op.create_table(
        "port_in_requests",
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("donor", sa.Text(), nullable=False),
        sa.Column("port_date", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("reference"),
    )
    codes = op.create_table(
        "donor_porting_codes",
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("donor", sa.Text(), nullable=False),
        sa.Column("age_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.bulk_insert(codes, DONOR_CODES)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
