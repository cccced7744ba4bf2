"""What the messaging context needs from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradeguard.events.ports import Outbox
from tradeguard.messaging.model import Checkpoint, Conversation, Message
from tradeguard.orders.ports import OrderStore
from tradeguard.risk.ports import RiskSignalStore


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Which conversations a listing returns; participants are narrowed to their own."""

    buyer_id: str | None = None
    seller_id: str | None = None
    order_id: str | None = None


class MessagingStore(Protocol):
    """Conversations, messages and checkpoints."""

    def insert_conversation(self, conversation: Conversation, pair_key: str) -> None:
        """Store a new conversation under its unique buyer/seller/order key."""
        ...

    def conversation(self, conversation_id: str, *, lock: bool = False) -> Conversation | None:
        """One conversation; with ``lock``, row-locked so appends are serialised."""
        ...

    def conversation_by_pair(self, pair_key: str) -> Conversation | None:
        """The conversation of a buyer/seller/order key, if started."""
        ...

    def find_conversations(
        self, where: ConversationFilter, *, before_id: str | None, limit: int
    ) -> list[Conversation]:
        """Conversations matching ``where``, newest first, strictly before ``before_id``."""
        ...

    def append_message(self, message: Message, checkpointed_seq: int) -> None:
        """Store a message and move its conversation's head to it, with ``checkpointed_seq``."""
        ...

    def messages(self, conversation_id: str, from_seq: int, to_seq: int) -> list[Message]:
        """Messages ``from_seq..to_seq`` (inclusive), in order."""
        ...

    def has_attachment(self, conversation_id: str, sha256: str) -> bool:
        """True when a message of the conversation attaches the blob ``sha256``."""
        ...

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint."""
        ...

    def set_checkpointed(self, conversation_id: str, seq: int) -> None:
        """Record the last seq a checkpoint covers."""
        ...

    def checkpoints(self, conversation_id: str, from_seq: int, to_seq: int) -> list[Checkpoint]:
        """Checkpoints with ``from_seq <= seq <= to_seq``, in order."""
        ...

    def first_checkpoint_from(self, conversation_id: str, seq: int) -> Checkpoint | None:
        """The earliest checkpoint at or after ``seq``."""
        ...


class MessagingUnitOfWork(Protocol):
    """What a messaging use case touches in one transaction."""

    @property
    def messaging(self) -> MessagingStore:
        """Conversations and messages."""
        ...

    @property
    def orders(self) -> OrderStore:
        """Orders, read to check a conversation's order belongs to its parties."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...

    @property
    def risk_signals(self) -> RiskSignalStore:
        """Risk signals."""
        ...
