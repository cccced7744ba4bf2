"""Conversations, messages and checkpoints (DESIGN.md §7).

A conversation is an append-only log. Message ``n`` is chained to message
``n-1``::

    digest_n = sha256(canonical_bytes(message_n))
    hash_n   = sha256(hash_{n-1} || digest_n)        (hash_0 = 32 zero bytes)

and every so often the platform signs the head, ``(conversation, n, hash_n)``,
as a *checkpoint*. Chaining the digest rather than the bytes lets a proof for a
range of messages continue to a later checkpoint with the digests of the
messages after the range, without disclosing their text.

A message's scan verdict (the recipient's warning) is not part of its
canonical bytes: the chain records what was said, the scan is an opinion about
it that may improve.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tradeguard.kernel.errors import AlreadyExists, NotFound, TradeGuardError

GENESIS_HASH = "0" * 64
CANONICAL_VERSION = 1
CHECKPOINT_TYPE = "tradeguard.chain_checkpoint"


class MessageKind(StrEnum):
    """Who or what wrote a message; only ``human`` messages can be a seller's promise (§6)."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"  #: a seller's canned or bot reply, sent by the operator
    SYSTEM = "system"  #: the marketplace's own notice


class SenderRole(StrEnum):
    """The side of the conversation a message speaks for."""

    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"  #: system messages


class ConversationNotFound(NotFound):
    """No such conversation, or not one you take part in (the same answer, so ids reveal nothing)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("conversation", conversation_id)


class SeqTaken(AlreadyExists):
    """Another append took this message's seq first: the head the append chained to moved."""

    code = "message_seq_taken"


class MessageRefused(TradeGuardError):
    """This message cannot be sent."""

    code = "message_refused"


@dataclass(frozen=True, slots=True)
class Conversation:
    """A buyer and a seller talking, optionally about one order."""

    id: str
    buyer_id: str
    seller_id: str
    order_id: str | None
    created_at: datetime
    head_seq: int = 0  #: number of messages (the last message's seq)
    head_hash: str = GENESIS_HASH
    checkpointed_seq: int = 0  #: the last seq a signed checkpoint covers
    last_message_at: datetime | None = None

    @property
    def subject(self) -> str:
        """The outbox subject of the conversation's events."""
        return f"conversation:{self.id}"


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    """The scam scan's opinion of a message: shown to the recipient as a warning when flagged."""

    flagged: bool = False
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON (the keys of ``tradeguard messages scan``)."""
        return {"flagged": self.flagged, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of a conversation's log."""

    conversation_id: str
    seq: int
    id: str
    kind: MessageKind
    sender_role: SenderRole
    sender_id: str | None
    text: str
    attachments: tuple[str, ...]  #: sha256 of each attached blob, in order
    sent_at: datetime
    prev_hash: str
    hash: str
    verdict: ScanVerdict = field(default_factory=ScanVerdict)

    def canonical_bytes(self) -> bytes:
        """The bytes the chain covers (see :func:`canonical_message_bytes`)."""
        return canonical_message_bytes(
            conversation_id=self.conversation_id,
            seq=self.seq,
            message_id=self.id,
            kind=self.kind,
            sender_role=self.sender_role,
            sender_id=self.sender_id,
            text=self.text,
            attachments=self.attachments,
            sent_at=self.sent_at,
        )

    @property
    def is_promise_capable(self) -> bool:
        """True when the message can bind its sender: a human wrote it (DESIGN.md §6, seed 002)."""
        return self.kind is MessageKind.HUMAN


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The platform's signature over a conversation's head hash at ``seq``."""

    conversation_id: str
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature_b64: str

    def payload(self) -> bytes:
        """The signed bytes."""
        return checkpoint_payload(self.conversation_id, self.seq, self.hash, self.signed_at)

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as JSON-ready data."""
        return {
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": instant(self.signed_at),
            "signature": {"key_id": self.key_id, "signature_b64": self.signature_b64},
        }


def instant(at: datetime) -> str:
    """An instant as canonical text: UTC, microseconds, ``Z``.

    >>> instant(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    '2026-01-05T09:00:00.000000Z'
    """
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8 (not ASCII escapes).

    >>> canonical_json({"b": 1, "a": "中"}).decode()
    '{"a":"中","b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_message_bytes(
    *,
    conversation_id: str,
    seq: int,
    message_id: str,
    kind: str,
    sender_role: str,
    sender_id: str | None,
    text: str,
    attachments: tuple[str, ...] | list[str],
    sent_at: datetime,
) -> bytes:
    """The canonical bytes of a message: everything said, by whom, when, and where in the log."""
    return canonical_json(
        {
            "v": CANONICAL_VERSION,
            "conversation_id": conversation_id,
            "seq": seq,
            "id": message_id,
            "kind": str(kind),
            "sender_role": str(sender_role),
            "sender_id": sender_id,
            "text": text,
            "attachments": list(attachments),
            "sent_at": instant(sent_at),
        }
    )


def content_digest(canonical: bytes) -> str:
    """The sha256 (hex) of a message's canonical bytes."""
    return hashlib.sha256(canonical).hexdigest()


def chain_hash(prev_hash: str, digest: str) -> str:
    """The hash of a message whose predecessor's hash is ``prev_hash``.

    >>> chain_hash(GENESIS_HASH, "00" * 32)[:16]
    'f5a5fd42d16a2030'
    """
    return hashlib.sha256(bytes.fromhex(prev_hash) + bytes.fromhex(digest)).hexdigest()


def checkpoint_payload(
    conversation_id: str, seq: int, head_hash: str, signed_at: datetime
) -> bytes:
    """The bytes a checkpoint signature covers."""
    return checkpoint_payload_text(conversation_id, seq, head_hash, instant(signed_at))


def checkpoint_payload_text(
    conversation_id: str, seq: int, head_hash: str, signed_at: str
) -> bytes:
    """The signed bytes of a checkpoint as a proof shows it: the instant exactly as written.

    Verifiers use the text as given, so a proof whose ``signed_at`` was rewritten in
    another spelling of the same instant no longer matches its signature.
    """
    return canonical_json(
        {
            "type": CHECKPOINT_TYPE,
            "v": CANONICAL_VERSION,
            "conversation_id": conversation_id,
            "seq": seq,
            "hash": head_hash,
            "signed_at": signed_at,
        }
    )
