"""The messaging store: conversations, hash-chained messages, checkpoints (DESIGN.md §7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, select, text, update

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.messaging import chain_checkpoints, conversations, messages
from tradeguard.messaging.model import (
    GENESIS_HASH,
    Checkpoint,
    Conversation,
    Message,
    MessageKind,
    ScanVerdict,
    SenderRole,
)
from tradeguard.messaging.ports import ConversationFilter

C, M, K = conversations.c, messages.c, chain_checkpoints.c

_BY_ID = select(conversations).where(C.id == bindparam("conversation_id"))
_GET = Prepared(_BY_ID)
_GET_LOCKED = Prepared(_BY_ID.with_for_update())
_BY_PAIR = Prepared(select(conversations).where(C.pair_key == bindparam("pair_key")))
_MESSAGE_COLUMNS = (
    "conversation_id",
    "seq",
    "id",
    "kind",
    "sender_role",
    "sender_id",
    "text",
    "attachments",
    "sent_at",
    "prev_hash",
    "hash",
    "flagged",
    "scan_reasons",
)
_INSERT_MESSAGE = Prepared(
    messages.insert().values({c: bindparam(c) for c in _MESSAGE_COLUMNS}).inline()
)
_MOVE_HEAD = (
    update(conversations)
    .where(C.id == bindparam("conversation_id"))
    .values(
        head_seq=bindparam("seq"),
        head_hash=bindparam("hash"),
        last_message_at=bindparam("sent_at"),
        # Never backwards: an append that chained to a remembered head may not know of a
        # checkpoint taken since (``MessagingService.checkpoint`` on an idle conversation).
        checkpointed_seq=case(
            (C.checkpointed_seq > bindparam("checkpointed"), C.checkpointed_seq),
            else_=bindparam("checkpointed"),
        ),
    )
)
_UPDATE_HEAD = Prepared(_MOVE_HEAD)
_HEAD_PARAMS = ("conversation_id", "seq", "hash", "sent_at", "checkpointed")
# On PostgreSQL the append is one statement: the message is inserted by a data-modifying CTE of
# the UPDATE that moves the head (same parameter names), so each append executes one statement
# instead of two. Both halves still run in the caller's transaction, under its row lock.
_APPEND_PG = Prepared(
    _MOVE_HEAD.add_cte(
        messages.insert().values({c: bindparam(c) for c in _MESSAGE_COLUMNS}).cte("appended")
    )
)
_MESSAGES = Prepared(
    select(messages)
    .where(
        M.conversation_id == bindparam("conversation_id"),
        M.seq >= bindparam("from_seq"),
        M.seq <= bindparam("to_seq"),
    )
    .order_by(M.seq)
)
_INSERT_CHECKPOINT = Prepared(
    chain_checkpoints.insert()
    .values(
        {
            c: bindparam(c)
            for c in ("conversation_id", "seq", "hash", "signed_at", "key_id", "signature")
        }
    )
    .inline()
)
_CHECKPOINTS = Prepared(
    select(chain_checkpoints)
    .where(
        K.conversation_id == bindparam("conversation_id"),
        K.seq >= bindparam("from_seq"),
        K.seq <= bindparam("to_seq"),
    )
    .order_by(K.seq)
)
_FIRST_CHECKPOINT = Prepared(
    select(chain_checkpoints)
    .where(K.conversation_id == bindparam("conversation_id"), K.seq >= bindparam("from_seq"))
    .order_by(K.seq)
    .limit(1)
)


class SqlMessagingStore:
    """Implements :class:`tradeguard.messaging.ports.MessagingStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def insert_conversation(self, conversation: Conversation, pair_key: str) -> None:
        """Store a new conversation."""
        self._sql.run(
            conversations.insert().values(
                id=conversation.id,
                buyer_id=conversation.buyer_id,
                seller_id=conversation.seller_id,
                order_id=conversation.order_id,
                pair_key=pair_key,
                created_at=conversation.created_at,
                head_seq=0,
                head_hash=GENESIS_HASH,
                checkpointed_seq=0,
            )
        )

    def conversation(self, conversation_id: str, *, lock: bool = False) -> Conversation | None:
        """One conversation, optionally row-locked."""
        row = self._sql.first(_GET_LOCKED if lock else _GET, {"conversation_id": conversation_id})
        return _conversation(row) if row else None

    def conversation_by_pair(self, pair_key: str) -> Conversation | None:
        """The conversation of a buyer/seller/order key."""
        row = self._sql.first(_BY_PAIR, {"pair_key": pair_key})
        return _conversation(row) if row else None

    def find_conversations(
        self, where: ConversationFilter, *, before_id: str | None, limit: int
    ) -> list[Conversation]:
        """Conversations matching ``where``, newest first."""
        query = select(conversations)
        if where.buyer_id is not None:
            query = query.where(C.buyer_id == where.buyer_id)
        if where.seller_id is not None:
            query = query.where(C.seller_id == where.seller_id)
        if where.order_id is not None:
            query = query.where(C.order_id == where.order_id)
        if before_id is not None:
            query = query.where(C.id < before_id)
        rows = self._sql.rows(query.order_by(C.id.desc()).limit(limit))
        return [_conversation(r) for r in rows]

    def append_message(self, message: Message, checkpointed_seq: int) -> None:
        """Store a message and move its conversation's head to it (one statement on PostgreSQL)."""
        params = _message_params(message)
        params["checkpointed"] = checkpointed_seq
        if not self._sql.is_postgresql:
            self._sql.run(_INSERT_MESSAGE, params)
            # Only the head's own binds: SQLAlchemy would read a key named after a column of
            # ``conversations`` (``id``) as one more value to SET.
            self._sql.run(_UPDATE_HEAD, {k: params[k] for k in _HEAD_PARAMS})
            return
        self._sql.run(_APPEND_PG, params)

    def messages(self, conversation_id: str, from_seq: int, to_seq: int) -> list[Message]:
        """Messages in a seq range, in order."""
        rows = self._sql.rows(
            _MESSAGES,
            {"conversation_id": conversation_id, "from_seq": from_seq, "to_seq": to_seq},
        )
        return [_message(r) for r in rows]

    def has_attachment(self, conversation_id: str, sha256: str) -> bool:
        """True when a message of the conversation attaches ``sha256``."""
        # JSON containment is spelled differently per backend; both use the row's own array.
        contains = (
            text("messages.attachments @> CAST(:attached AS jsonb)")
            if self._sql.is_postgresql
            else text("EXISTS (SELECT 1 FROM json_each(messages.attachments) WHERE value = :sha)")
        )
        query = (
            select(M.seq)
            .where(M.conversation_id == conversation_id, contains)
            .limit(1)
            .params(attached=f'["{sha256}"]', sha=sha256)
        )
        return self._sql.first(query) is not None

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint."""
        self._sql.run(
            _INSERT_CHECKPOINT,
            {
                "conversation_id": checkpoint.conversation_id,
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "signed_at": checkpoint.signed_at,
                "key_id": checkpoint.key_id,
                "signature": checkpoint.signature_b64,
            },
        )

    def set_checkpointed(self, conversation_id: str, seq: int) -> None:
        """Record the last checkpointed seq."""
        self._sql.run(
            update(conversations).where(C.id == conversation_id).values(checkpointed_seq=seq)
        )

    def checkpoints(self, conversation_id: str, from_seq: int, to_seq: int) -> list[Checkpoint]:
        """Checkpoints in a seq range, in order."""
        rows = self._sql.rows(
            _CHECKPOINTS,
            {"conversation_id": conversation_id, "from_seq": from_seq, "to_seq": to_seq},
        )
        return [_checkpoint(r) for r in rows]

    def first_checkpoint_from(self, conversation_id: str, seq: int) -> Checkpoint | None:
        """The earliest checkpoint at or after ``seq``."""
        row = self._sql.first(
            _FIRST_CHECKPOINT, {"conversation_id": conversation_id, "from_seq": seq}
        )
        return _checkpoint(row) if row else None


def _conversation(row: Any) -> Conversation:
    return Conversation(
        row.id,
        row.buyer_id,
        row.seller_id,
        row.order_id,
        row.created_at,
        row.head_seq,
        row.head_hash,
        row.checkpointed_seq,
        row.last_message_at,
    )


def _message_params(message: Message) -> dict[str, Any]:
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "id": message.id,
        "kind": message.kind.value,
        "sender_role": message.sender_role.value,
        "sender_id": message.sender_id,
        "text": message.text,
        "attachments": list(message.attachments),
        "sent_at": message.sent_at,
        "prev_hash": message.prev_hash,
        "hash": message.hash,
        "flagged": message.verdict.flagged,
        "scan_reasons": list(message.verdict.reasons),
    }


def _message(row: Any) -> Message:
    return Message(
        row.conversation_id,
        row.seq,
        row.id,
        MessageKind(row.kind),
        SenderRole(row.sender_role),
        row.sender_id,
        row.text,
        tuple(row.attachments),
        row.sent_at,
        row.prev_hash,
        row.hash,
        ScanVerdict(bool(row.flagged), tuple(row.scan_reasons)),
    )


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        row.conversation_id, row.seq, row.hash, row.signed_at, row.key_id, row.signature
    )
