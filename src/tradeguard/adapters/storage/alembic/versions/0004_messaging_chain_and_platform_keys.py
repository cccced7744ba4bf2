"""Messaging: conversations, hash-chained messages, signed checkpoints, platform keys, risk signals

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 12:18:14.589165
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tradeguard.adapters.storage.types

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("pair_key", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("checkpointed_seq", sa.Integer(), nullable=False),
        sa.Column(
            "last_message_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("pair_key", name=op.f("uq_conversations_pair_key")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "platform_keys",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "retired_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_platform_keys")),
        sa.UniqueConstraint("generation", name=op.f("uq_platform_keys_generation")),
    )
    op.create_table(
        "risk_signals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_signals")),
    )
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_signals_party_id_created_at", ["party_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_signals_subject"), ["subject"], unique=False)

    op.create_table(
        "chain_checkpoints",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column(
            "signed_at",
            tradeguard.adapters.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_chain_checkpoints_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", "seq", name=op.f("pk_chain_checkpoints")),
    )
    op.create_table(
        "messages",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender_role", sa.String(length=16), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "attachments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "sent_at", tradeguard.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column(
            "scan_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", "seq", name=op.f("pk_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_messages_id")),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("chain_checkpoints")
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_signals_subject"))
        batch_op.drop_index("ix_risk_signals_party_id_created_at")

    op.drop_table("risk_signals")
    op.drop_table("platform_keys")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_seller_id"))
        batch_op.drop_index(batch_op.f("ix_conversations_order_id"))
        batch_op.drop_index(batch_op.f("ix_conversations_buyer_id"))

    op.drop_table("conversations")
