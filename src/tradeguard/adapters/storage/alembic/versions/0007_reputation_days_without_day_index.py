"""reputation days without the index on day

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:20:00

Windows are read per seller through the primary key (seller_id, day), and per
category through the category's sellers; no query needs the days of every
seller by date. The index cost a quarter of a full recomputation and a write on
every review that opened a new day.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reputation_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reputation_days_day"))


def downgrade() -> None:
    with op.batch_alter_table("reputation_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reputation_days_day"), ["day"], unique=False)
