"""Request and response bodies of the messaging endpoints (DESIGN.md §7)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from tradeguard.adapters.api.schemas import Identifier, _In, _Out
from tradeguard.blobs.model import BlobRef
from tradeguard.messaging.model import Conversation, Message, MessageKind, SenderRole
from tradeguard.messaging.scan import notices
from tradeguard.signing.model import PlatformKey

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ConversationCreate(_In):
    """Start (or find) the conversation of a buyer and a seller, optionally about an order.

    A buyer's token fills in ``buyer_id`` and a seller's ``seller_id``; the
    operator names both.
    """

    buyer_id: Identifier | None = None
    seller_id: Identifier | None = None
    order_id: Identifier | None = Field(default=None, description="The order it is about, if any.")


class ConversationPublic(_Out):
    """A conversation and the head of its hash chain."""

    id: str
    buyer_id: str
    seller_id: str
    order_id: str | None
    created_at: datetime
    message_count: int = Field(description="Messages so far; the last one's seq.")
    head_hash: str = Field(description="The hash of the last message (64 zeros before the first).")
    checkpointed_seq: int = Field(description="The last seq a signed checkpoint covers.")
    last_message_at: datetime | None

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationPublic:
        """The public view of a conversation."""
        return cls(
            id=conversation.id,
            buyer_id=conversation.buyer_id,
            seller_id=conversation.seller_id,
            order_id=conversation.order_id,
            created_at=conversation.created_at,
            message_count=conversation.head_seq,
            head_hash=conversation.head_hash,
            checkpointed_seq=conversation.checkpointed_seq,
            last_message_at=conversation.last_message_at,
        )


class ConversationPage(BaseModel):
    """A page of conversations, newest first."""

    data: list[ConversationPublic]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class MessageCreate(_In):
    """A message to append to a conversation.

    Buyers and sellers post ``human`` messages; the operator posts ``auto_reply``
    (on the seller's behalf) or ``system`` messages.
    """

    text: Annotated[str, StringConstraints(max_length=20_000)] = ""
    kind: MessageKind | None = Field(
        default=None, description="Default: human for buyers and sellers, system for the operator."
    )
    attachments: list[Sha256] = Field(
        default_factory=list,
        max_length=50,
        description="sha256 of files uploaded with POST .../attachments.",
    )


class MessageWarning(BaseModel):
    """The scam scan's verdict, shown to the recipient when ``flagged``."""

    flagged: bool
    reasons: list[str] = Field(description="Stable codes, e.g. reorder_link, verification_code.")
    notices: list[str] = Field(description="One sentence per reason, in English.")
    notices_zh: list[str] = Field(description="The same, in Chinese.")


class MessagePublic(BaseModel):
    """A message with its place in the hash chain and the recipient's warning."""

    id: str
    conversation_id: str
    seq: int
    kind: MessageKind
    sender_role: SenderRole
    sender_id: str | None
    text: str
    attachments: list[str]
    sent_at: datetime
    prev_hash: str
    hash: str
    warning: MessageWarning

    @classmethod
    def of(cls, message: Message) -> MessagePublic:
        """The public view of a message, with the recipient's warning in both languages."""
        english, chinese = notices(message.verdict.reasons)
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            seq=message.seq,
            kind=message.kind,
            sender_role=message.sender_role,
            sender_id=message.sender_id,
            text=message.text,
            attachments=list(message.attachments),
            sent_at=message.sent_at,
            prev_hash=message.prev_hash,
            hash=message.hash,
            warning=MessageWarning(
                flagged=message.verdict.flagged,
                reasons=list(message.verdict.reasons),
                notices=english,
                notices_zh=chinese,
            ),
        )


class MessagePage(BaseModel):
    """Messages in chain order."""

    data: list[MessagePublic]
    next_after_seq: int | None = Field(
        description="Pass as ?after_seq= to get the next page; null on the last page."
    )


class AttachmentCreate(_In):
    """A file to attach, base64-encoded (request bodies are limited to 1 MB)."""

    content_type: Annotated[str, StringConstraints(max_length=100)] = Field(examples=["image/png"])
    data_b64: str = Field(description="The file's bytes, base64.")

    @field_validator("data_b64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("not valid base64") from None
        return value

    def data(self) -> bytes:
        """The decoded bytes."""
        return base64.b64decode(self.data_b64, validate=True)


class AttachmentPublic(BaseModel):
    """A stored file: attach it to a message by its sha256."""

    sha256: str
    size: int
    content_type: str

    @classmethod
    def of(cls, ref: BlobRef) -> AttachmentPublic:
        """The public view of a blob reference."""
        return cls(sha256=ref.sha256, size=ref.size, content_type=ref.content_type)


class PlatformKeyPublic(BaseModel):
    """One generation of the platform's Ed25519 public key."""

    key_id: str
    public_key_b64: str = Field(description="The 32 raw bytes of the public key, base64.")
    generation: int
    created_at: datetime
    retired_at: datetime | None
    is_current: bool

    @classmethod
    def of(cls, key: PlatformKey) -> PlatformKeyPublic:
        """The public view of a key generation."""
        return cls(
            key_id=key.key_id,
            public_key_b64=key.public_key_b64,
            generation=key.generation,
            created_at=key.created_at,
            retired_at=key.retired_at,
            is_current=key.is_current,
        )


class PlatformKeySet(BaseModel):
    """Every platform public key: what `tradeguard evidence verify` and auditors check with."""

    data: list[PlatformKeyPublic]
    keys: dict[str, str] = Field(description="key_id -> base64 public key, every generation.")
