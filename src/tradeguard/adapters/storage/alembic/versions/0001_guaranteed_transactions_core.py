"""Guaranteed transactions core: ledger, orders, deadlines, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:15:04.689820
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tradeguard.adapters.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadlines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column(
            "due_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "next_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remind_before_ms", sa.BigInteger(), nullable=True),
        sa.Column(
            "reminded_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("remaining_on_pause_ms", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "fired_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deadlines_pending_next",
            ["next_at", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index(
            "uq_deadlines_active_subject_kind",
            ["subject", "kind"],
            unique=True,
            postgresql_where=sa.text("state IN ('pending', 'paused')"),
            sqlite_where=sa.text("state IN ('pending', 'paused')"),
        )

    op.create_table(
        "ledger_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "balance_minor >= 0 OR kind NOT IN ('escrow', 'platform_compensation_fund', 'platform_fees', 'seller_available', 'seller_deposit')",
            name=op.f("ck_ledger_accounts_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint(
            "address", "currency", name=op.f("uq_ledger_accounts_address_currency")
        ),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("goods_kind", sa.String(length=16), nullable=False),
        sa.Column("purchase_limit_per_buyer", sa.Integer(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listings_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_group_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("goods_kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("released_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("late_compensation_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("is_late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "late_compensation_paid",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("receipt_extensions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("auto_confirm_holds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("payment_reference", sa.String(length=200), nullable=True),
        sa.Column("late_compensation_source", sa.String(length=24), nullable=True),
        sa.Column(
            "ship_by_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "auto_confirm_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("last_tracking_status", sa.String(length=24), nullable=True),
        sa.Column("completed_by", sa.String(length=24), nullable=True),
        sa.Column("close_reason", sa.String(length=64), nullable=True),
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
            "paid_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "shipped_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "delivered_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "completed_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "closed_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint("auto_confirm_holds >= 0", name=op.f("ck_orders_holds_non_negative")),
        sa.CheckConstraint(
            "released_minor + refunded_minor <= paid_minor",
            name=op.f("ck_orders_escrow_not_overdrawn"),
        ),
        sa.CheckConstraint(
            "subtotal_minor >= 0 AND shipping_fee_minor >= 0",
            name=op.f("ck_orders_non_negative_price"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_buyer_id_id"), ["buyer_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_payment_reference"), ["payment_reference"], unique=False
        )
        batch_op.create_index(
            batch_op.f("uq_orders_payment_group_id_seller_id"),
            ["payment_group_id", "seller_id"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_orders_seller_id_id"), ["seller_id", "id"], unique=False
        )

    op.create_table(
        "outbox_events",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("tx_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_events_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_events_order_id_sequence"), ["order_id", "sequence"], unique=False
        )

    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "failed_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("request_key", sa.String(length=300), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_positive_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("request_key", name=op.f("uq_payouts_request_key")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payouts_seller_id_id"), ["seller_id", "id"], unique=False
        )

    op.create_table(
        "delivery_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "delivered_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_records_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_records")),
    )
    with op.batch_alter_table("delivery_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_records_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "ledger_transfers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column(
            "source_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "destination_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_transfers_positive_amount")),
        sa.CheckConstraint(
            "source_account_id <> destination_account_id",
            name=op.f("ck_ledger_transfers_two_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_destination_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["source_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_source_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transfers_idempotency_key")),
    )
    with op.batch_alter_table("ledger_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_transfers_reference"), ["reference"], unique=False
        )

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_positive_quantity")),
        sa.CheckConstraint("unit_price_minor >= 0", name=op.f("ck_order_lines_non_negative_price")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_listing_id"), ["listing_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column(
            "serial_numbers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "shipped_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "occurred_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column(
            "recorded_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tracking_events_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_tracking_events_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_events_order_id"), ["order_id"], unique=False)
    op.create_table(
        "payout_holds",
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "placed_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_payout_holds")),
    )
    with op.batch_alter_table("payout_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_holds_seller_id"), ["seller_id"], unique=False)

    _create_immutability_triggers()


def downgrade() -> None:
    _drop_immutability_triggers()
    op.drop_table("payout_holds")
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_events_order_id"))

    op.drop_table("tracking_events")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_listing_id"))

    op.drop_table("order_lines")
    with op.batch_alter_table("ledger_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_transfers_reference"))

    op.drop_table("ledger_transfers")
    with op.batch_alter_table("delivery_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_records_order_id"))

    op.drop_table("delivery_records")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payouts_seller_id_id"))

    op.drop_table("payouts")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_order_id_sequence"))

    op.drop_table("outbox_events")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_seller_id_id"))
        batch_op.drop_index(batch_op.f("uq_orders_payment_group_id_seller_id"))
        batch_op.drop_index(batch_op.f("ix_orders_payment_reference"))
        batch_op.drop_index(batch_op.f("ix_orders_buyer_id_id"))

    op.drop_table("orders")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_seller_id"))

    op.drop_table("listings")
    op.drop_table("ledger_accounts")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_deadlines_active_subject_kind",
            postgresql_where=sa.text("state IN ('pending', 'paused')"),
            sqlite_where=sa.text("state IN ('pending', 'paused')"),
        )
        batch_op.drop_index(
            "ix_deadlines_pending_next",
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        )

    op.drop_table("deadlines")


# Transfers are immutable (DESIGN.md §3: a correction is a new transfer). The database refuses
# UPDATE and DELETE whoever writes, so a bug or a hand-edited row cannot rewrite history.
def _create_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tradeguard_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is immutable: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers "
            "FOR EACH ROW EXECUTE FUNCTION tradeguard_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_transfers_no_{action.lower()} BEFORE {action} ON ledger_transfers "
                "BEGIN SELECT RAISE(ABORT, 'ledger_transfers is immutable'); END"
            )


def _drop_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_transfers_immutable ON ledger_transfers")
        op.execute("DROP FUNCTION IF EXISTS tradeguard_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_transfers_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_transfers_no_delete")
