"""outbox marks: the event feed never skips an event numbered below one already read

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:50:00

The feed used to hold back events of transactions newer than the oldest running
one. A newer transaction can still number its event before an older one's and
commit after it, so a reader could pass that number before it became visible
and never see the event. Readers now record when numbers were handed out and
read only up to numbers whose transactions have all ended (storage/outbox.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_marks",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("below_tx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox_marks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The marks rely on no session holding pre-allocated numbers below the last one
        # handed out: say so explicitly, so nobody raises the cache thinking it harmless.
        op.execute("ALTER SEQUENCE outbox_events_sequence_seq CACHE 1")


def downgrade() -> None:
    op.drop_table("outbox_marks")
