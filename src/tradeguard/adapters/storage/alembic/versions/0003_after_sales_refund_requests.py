"""After-sales: refund requests, returns and exchanges (DESIGN.md §5).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:19:31.518936
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeguard.adapters.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("requested_minor", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("return_shipping_payer", sa.String(length=16), nullable=False),
        sa.Column("freight_insured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "outbound_shipping_deduction_minor", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.Column("return_shipping_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "return_shipping_reimbursed_minor", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.Column("carrier_claim_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("instant_refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "instant_recovered", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("serial_mismatch", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "paused_auto_confirm", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("amendments", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused_reason", sa.Text(), nullable=True),
        sa.Column("refund_source", sa.String(length=24), nullable=True),
        sa.Column("close_reason", sa.String(length=64), nullable=True),
        sa.Column("dispute_id", sa.String(length=40), nullable=True),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "agreed_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "return_shipped_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "ended_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "answer_due_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0", name=op.f("ck_refund_requests_non_negative_refund")
        ),
        sa.CheckConstraint("requested_minor > 0", name=op.f("ck_refund_requests_positive_request")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refund_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_requests")),
    )
    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_requests_buyer_id_id"), ["buyer_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refund_requests_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_refund_requests_seller_id_id"), ["seller_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_requests_seller_id_id"))
        batch_op.drop_index(batch_op.f("ix_refund_requests_order_id"))
        batch_op.drop_index(batch_op.f("ix_refund_requests_buyer_id_id"))

    op.drop_table("refund_requests")
