"""Messaging use cases: start conversations, post and read messages, checkpoint, prove (DESIGN.md §7).

Every message is scanned before it is stored; a flagged message carries its
warning for the recipient and records a risk signal in the same transaction.
Appends to one conversation are serialised by the messages' primary key
(conversation, seq): an append chains to the head it read under a row lock on
the conversation, or to the head this process committed last (``heads``), and
the key refuses it if another append took that seq first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, Protocol

from tradeguard.blobs.model import BlobNotFound, BlobRef
from tradeguard.blobs.ports import BlobStore
from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import Forbidden, NotFound, ValidationFailed
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.messaging.chain import ChainProof, verify_log
from tradeguard.messaging.heads import HeadCache
from tradeguard.messaging.model import (
    Checkpoint,
    Conversation,
    ConversationNotFound,
    Message,
    MessageKind,
    MessageRefused,
    ScanVerdict,
    SenderRole,
    SeqTaken,
    canonical_message_bytes,
    chain_hash,
    checkpoint_payload,
    content_digest,
)
from tradeguard.messaging.policy import MessagingPolicy
from tradeguard.messaging.ports import ConversationFilter, MessagingStore, MessagingUnitOfWork
from tradeguard.risk.model import RiskSignal, SignalKind
from tradeguard.signing.service import PlatformKeys, Signer

#: Who may post which kind of message, and which side it then speaks for. Human messages come
#: only from the party's own token, so "human" means a person on that side wrote it; the
#: operator posts its seller bots' auto-replies and the marketplace's system notices.
# fmt: off
POSTING_RULES: Final[dict[tuple[Actor, MessageKind], SenderRole]] = {
    (Actor.BUYER,    MessageKind.HUMAN):      SenderRole.BUYER,
    (Actor.SELLER,   MessageKind.HUMAN):      SenderRole.SELLER,
    (Actor.OPERATOR, MessageKind.AUTO_REPLY): SenderRole.SELLER,
    (Actor.OPERATOR, MessageKind.SYSTEM):     SenderRole.PLATFORM,
    (Actor.SYSTEM,   MessageKind.SYSTEM):     SenderRole.PLATFORM,
}
# fmt: on


class Scanner(Protocol):
    """The scam scan: a verdict on a message's text."""

    def scan(self, text: str, sender_role: str | None = None) -> ScanVerdict:
        """Judge one message."""
        ...


def pair_key(buyer_id: str, seller_id: str, order_id: str | None) -> str:
    """The unique key of a conversation: one per buyer, seller and order (or none)."""
    return f"{buyer_id}\x1f{seller_id}\x1f{order_id or ''}"


class MessagingService:
    """Conversations and messages (``app.messaging``)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[MessagingUnitOfWork],
        runtime: Runtime,
        policy: MessagingPolicy,
        keys: PlatformKeys,
        blobs: BlobStore,
        scanner: Scanner,
        heads: HeadCache | None = None,
    ) -> None:
        self._units = units
        self._heads = heads if heads is not None else HeadCache()
        self._rt = runtime
        self._policy = policy
        self._keys = keys
        self._blobs = blobs
        self._scanner = scanner

    # -- conversations ---------------------------------------------------------------------------

    def start(
        self,
        party: Party,
        *,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        order_id: str | None = None,
    ) -> Conversation:
        """Start (or find) the conversation of a buyer and a seller, optionally about an order.

        A buyer or seller starts conversations only as themselves; with an order,
        the order must be theirs and name both parties. Starting the same
        conversation again returns it unchanged.
        """
        if party.actor is Actor.BUYER:
            buyer_id = buyer_id or party.id
            if buyer_id != party.id:
                raise Forbidden("A buyer starts conversations only as themselves.")
        elif party.actor is Actor.SELLER:
            seller_id = seller_id or party.id
            if seller_id != party.id:
                raise Forbidden("A seller starts conversations only as themselves.")
        elif party.actor not in (Actor.OPERATOR, Actor.SYSTEM):
            raise Forbidden("Only the operator, a buyer or a seller starts conversations.")
        if not buyer_id or not seller_id:
            raise ValidationFailed("A conversation needs both a buyer and a seller.")
        if buyer_id == seller_id:
            raise ValidationFailed("A conversation needs two different parties.")
        key = pair_key(buyer_id, seller_id, order_id)
        now = self._rt.clock.now()

        def work(uow: MessagingUnitOfWork) -> Conversation:
            if order_id is not None:
                order = uow.orders.get(order_id)
                visible = order is not None and (
                    not party.is_participant or party.id in (order.buyer_id, order.seller_id)
                )
                if order is None or not visible:
                    raise NotFound("order", order_id)
                if (order.buyer_id, order.seller_id) != (buyer_id, seller_id):
                    raise ValidationFailed(
                        f"Order {order_id} is between {order.buyer_id} and {order.seller_id}."
                    )
            existing = uow.messaging.conversation_by_pair(key)
            if existing is not None:
                return existing
            conversation = Conversation(
                self._rt.ids.new("cnv", now), buyer_id, seller_id, order_id, now
            )
            uow.messaging.insert_conversation(conversation, key)
            events.record(
                uow.outbox,
                [
                    DomainEvent(
                        "conversation.started",
                        conversation.subject,
                        conversation_snapshot(conversation),
                        order_id,
                    )
                ],
                self._rt.ids,
                now,
            )
            return conversation

        return self._units.run(work)

    def get(self, party: Party, conversation_id: str) -> Conversation:
        """A conversation the party may see (participants: their own; others: 404)."""
        return self._units.run(lambda uow: _visible(uow, party, conversation_id))

    def find(
        self,
        party: Party,
        *,
        order_id: str | None = None,
        before_id: str | None = None,
        limit: int = 50,
    ) -> list[Conversation]:
        """Conversations the party takes part in (all for the operator and staff), newest first."""
        where = ConversationFilter(
            buyer_id=party.id if party.actor is Actor.BUYER else None,
            seller_id=party.id if party.actor is Actor.SELLER else None,
            order_id=order_id,
        )
        bounded = max(1, min(limit, 200))
        return self._units.run(
            lambda uow: uow.messaging.find_conversations(where, before_id=before_id, limit=bounded)
        )

    def conversations_for_order(self, order_id: str) -> list[Conversation]:
        """Every conversation about an order (for evidence: the chat log of a dispute)."""
        return self._units.run(
            lambda uow: uow.messaging.find_conversations(
                ConversationFilter(order_id=order_id), before_id=None, limit=1000
            )
        )

    def messages_for_order(self, order_id: str) -> list[Message]:
        """Every message of every conversation about an order, by conversation then seq."""
        return self._units.run(lambda uow: order_messages(uow.messaging, order_id))

    # -- messages --------------------------------------------------------------------------------

    def post(
        self,
        party: Party,
        conversation_id: str,
        text: str,
        *,
        kind: MessageKind | str = MessageKind.HUMAN,
        attachments: Sequence[str] = (),
    ) -> Message:
        """Append a message: scan it, chain it, checkpoint when due, record the events.

        DESIGN.md §7: a flagged message carries a warning for its recipient and
        records a ``message_scam`` risk signal against its sender.
        """
        try:
            kind = MessageKind(kind)
        except ValueError:
            raise ValidationFailed(
                f"Unknown message kind {kind!r}; choose one of: {', '.join(MessageKind)}."
            ) from None
        sender_role = POSTING_RULES.get((party.actor, kind))
        if sender_role is None:
            raise Forbidden(f"A {party.actor} may not post {kind} messages.")
        self._check_content(text, attachments)
        verdict = self._scanner.scan(text, sender_role.value)
        # Loaded before the transaction: the first use may create the key in a unit of its own.
        signer = self._keys.signer()
        now = self._rt.clock.now()
        message_id = self._rt.ids.new("msg", now)

        def append(
            uow: MessagingUnitOfWork, conversation: Conversation
        ) -> tuple[Message, Conversation]:
            sender_id = {
                SenderRole.BUYER: conversation.buyer_id,
                SenderRole.SELLER: conversation.seller_id,
                SenderRole.PLATFORM: None,
            }[sender_role]
            seq = conversation.head_seq + 1
            canonical = canonical_message_bytes(
                conversation_id=conversation.id,
                seq=seq,
                message_id=message_id,
                kind=kind,
                sender_role=sender_role,
                sender_id=sender_id,
                text=text,
                attachments=tuple(attachments),
                sent_at=now,
            )
            message = Message(
                conversation.id,
                seq,
                message_id,
                kind,
                sender_role,
                sender_id,
                text,
                tuple(attachments),
                now,
                conversation.head_hash,
                chain_hash(conversation.head_hash, content_digest(canonical)),
                verdict,
            )
            recorded = [
                DomainEvent(
                    "message.sent",
                    conversation.subject,
                    message_snapshot(message),
                    conversation.order_id,
                )
            ]
            due = seq - conversation.checkpointed_seq >= self._policy.checkpoint_every
            # The message and its conversation's new head in one write (one statement on
            # PostgreSQL); the messages' key refuses it if another append took this seq.
            uow.messaging.append_message(message, seq if due else conversation.checkpointed_seq)
            if due:
                checkpoint = self._sign(signer, conversation.id, seq, message.hash, now)
                uow.messaging.insert_checkpoint(checkpoint)
                recorded.append(_checkpoint_event(conversation, checkpoint))
            if verdict.flagged:
                signal = self._signal(message, conversation, now)
                uow.risk_signals.record([signal])
                recorded.append(
                    DomainEvent(
                        "message.flagged",
                        conversation.subject,
                        message_snapshot(message),
                        conversation.order_id,
                    )
                )
                recorded.append(
                    DomainEvent(
                        "risk.signal_recorded",
                        f"risk_signal:{signal.id}",
                        signal.to_dict(),
                        conversation.order_id,
                    )
                )
            events.record(uow.outbox, recorded, self._rt.ids, now)
            head = replace(
                conversation,
                head_seq=seq,
                head_hash=message.hash,
                checkpointed_seq=seq if due else conversation.checkpointed_seq,
                last_message_at=now,
            )
            return message, head

        remembered = self._heads.get(conversation_id)
        if remembered is not None and _may_see(party, remembered):
            try:
                message, head = self._units.run(lambda uow: append(uow, remembered))
            except SeqTaken:
                self._heads.missed(conversation_id)
            else:
                self._heads.remember(head)
                return message
        message, head = self._units.run(
            lambda uow: append(uow, _visible(uow, party, conversation_id, lock=True))
        )
        self._heads.remember(head)
        return message

    def messages(
        self, party: Party, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Message]:
        """Messages after ``after_seq`` of a conversation the party may see, oldest first."""
        bounded = max(1, min(limit, 500))

        def work(uow: MessagingUnitOfWork) -> list[Message]:
            conversation = _visible(uow, party, conversation_id)
            last = min(conversation.head_seq, after_seq + bounded)
            if after_seq >= last:
                return []
            return uow.messaging.messages(conversation.id, max(1, after_seq + 1), last)

        return self._units.run(work)

    # -- attachments ----------------------------------------------------------------------------

    def upload(self, party: Party, conversation_id: str, data: bytes, content_type: str) -> BlobRef:
        """Store a file to attach to a message of a conversation the party takes part in."""
        self.get(party, conversation_id)
        return self._blobs.put(data, content_type)

    def attachment(self, party: Party, conversation_id: str, sha256: str) -> tuple[BlobRef, bytes]:
        """A file attached to a message of a conversation the party may see (else not found)."""

        def attached(uow: MessagingUnitOfWork) -> bool:
            _visible(uow, party, conversation_id)
            return uow.messaging.has_attachment(conversation_id, sha256)

        ref = self._blobs.stat(sha256) if self._units.run(attached) else None
        if ref is None:
            raise BlobNotFound(f"No attachment {sha256!r} in conversation {conversation_id!r}.")
        return ref, self._blobs.get(sha256)

    # -- chain -----------------------------------------------------------------------------------

    def checkpoint(self, conversation_id: str) -> Checkpoint | None:
        """Sign the conversation's head now (on demand); None if it is already covered or empty."""
        signer = self._keys.signer()
        now = self._rt.clock.now()

        def work(uow: MessagingUnitOfWork) -> Checkpoint | None:
            conversation = uow.messaging.conversation(conversation_id, lock=True)
            if conversation is None:
                raise ConversationNotFound(conversation_id)
            if conversation.head_seq == 0 or conversation.checkpointed_seq == conversation.head_seq:
                return None
            checkpoint = self._sign(
                signer, conversation.id, conversation.head_seq, conversation.head_hash, now
            )
            uow.messaging.insert_checkpoint(checkpoint)
            uow.messaging.set_checkpointed(conversation.id, conversation.head_seq)
            events.record(
                uow.outbox, [_checkpoint_event(conversation, checkpoint)], self._rt.ids, now
            )
            return checkpoint

        return self._units.run(work)

    def chain_proof(
        self,
        conversation_id: str,
        from_seq: int | None = None,
        to_seq: int | None = None,
        *,
        party: Party | None = None,
    ) -> ChainProof:
        """Messages ``from_seq..to_seq`` (default: all) with what proves them offline.

        The proof ends at the earliest signed checkpoint at or after ``to_seq``;
        when no checkpoint covers the range yet, the head is checkpointed now.
        With ``party``, only a conversation that party may see is proven.
        """
        viewer = party or Party(Actor.SYSTEM)
        head = self.get(viewer, conversation_id).head_seq
        if head == 0:
            raise ValidationFailed("The conversation has no messages to prove yet.")
        first = 1 if from_seq is None else from_seq
        last = head if to_seq is None else to_seq
        if not 1 <= first <= last <= head:
            raise ValidationFailed(
                f"The range must lie within 1..{head} and start before it ends (got {first}..{last})."
            )

        def covering(uow: MessagingUnitOfWork) -> Checkpoint | None:
            return uow.messaging.first_checkpoint_from(conversation_id, last)

        if self._units.run(covering) is None:
            self.checkpoint(conversation_id)

        def work(uow: MessagingUnitOfWork) -> ChainProof:
            cover = uow.messaging.first_checkpoint_from(conversation_id, last)
            if cover is None:  # pragma: no cover - just checkpointed above
                raise ValidationFailed("No checkpoint covers this range.")
            every = uow.messaging.messages(conversation_id, first, cover.seq)
            in_range = tuple(m for m in every if m.seq <= last)
            tail = tuple(content_digest(m.canonical_bytes()) for m in every if m.seq > last)
            return ChainProof(
                conversation_id,
                first,
                last,
                in_range[0].prev_hash,
                in_range,
                tail,
                tuple(uow.messaging.checkpoints(conversation_id, first, cover.seq)),
            )

        return self._units.run(work)

    def verify(self, conversation_id: str) -> list[str]:
        """Recompute a stored conversation's chain and check its checkpoints; return what fails."""
        public_keys = self._keys.public_keys()

        def work(uow: MessagingUnitOfWork) -> list[str]:
            conversation = uow.messaging.conversation(conversation_id)
            if conversation is None:
                raise ConversationNotFound(conversation_id)
            stored = uow.messaging.messages(conversation_id, 1, 2**31 - 1)
            checkpoints = uow.messaging.checkpoints(conversation_id, 0, 2**31 - 1)
            return verify_log(
                stored,
                checkpoints,
                public_keys,
                head_seq=conversation.head_seq,
                head_hash=conversation.head_hash,
            )

        return self._units.run(work)

    # -- helpers ---------------------------------------------------------------------------------

    def _check_content(self, text: str, attachments: Sequence[str]) -> None:
        if "\x00" in text:
            raise MessageRefused("A message may not contain NUL characters.")
        if not text.strip() and not attachments:
            raise MessageRefused("A message needs text or an attachment.")
        if len(text) > self._policy.max_text_chars:
            raise MessageRefused(f"A message has at most {self._policy.max_text_chars} characters.")
        if len(attachments) > self._policy.max_attachments:
            raise MessageRefused(
                f"A message has at most {self._policy.max_attachments} attachments."
            )
        for sha256 in attachments:
            if self._blobs.stat(sha256) is None:
                raise MessageRefused(f"Attachment {sha256!r} was never uploaded.")

    def _sign(
        self, signer: Signer, conversation_id: str, seq: int, head_hash: str, at: datetime
    ) -> Checkpoint:
        signature = signer.sign(checkpoint_payload(conversation_id, seq, head_hash, at))
        return Checkpoint(
            conversation_id, seq, head_hash, at, signature.key_id, signature.signature_b64
        )

    def _signal(self, message: Message, conversation: Conversation, now: datetime) -> RiskSignal:
        return RiskSignal(
            self._rt.ids.new("sig", now),
            SignalKind.MESSAGE_SCAM,
            f"message:{message.id}",
            message.sender_id,
            conversation.order_id,
            message.verdict.reasons,
            now,
            {"conversation_id": conversation.id, "seq": message.seq, "kind": message.kind.value},
        )


def order_messages(store: MessagingStore, order_id: str) -> list[Message]:
    """Every message about an order, by conversation then seq, read in the caller's unit of work.

    For other contexts (disputes) that gather the chat log as evidence inside
    their own transaction; :meth:`MessagingService.messages_for_order` runs it alone.
    """
    found = store.find_conversations(
        ConversationFilter(order_id=order_id), before_id=None, limit=1000
    )
    out: list[Message] = []
    for conversation in sorted(found, key=lambda c: c.id):
        out.extend(store.messages(conversation.id, 1, conversation.head_seq))
    return out


def _visible(
    uow: MessagingUnitOfWork, party: Party, conversation_id: str, *, lock: bool = False
) -> Conversation:
    conversation = uow.messaging.conversation(conversation_id, lock=lock)
    if conversation is None or not _may_see(party, conversation):
        raise ConversationNotFound(conversation_id)
    return conversation


def _may_see(party: Party, conversation: Conversation) -> bool:
    """Participants see their own conversations; the operator and the system see all."""
    return not party.is_participant or party.id == (
        conversation.buyer_id if party.actor is Actor.BUYER else conversation.seller_id
    )


def _checkpoint_event(conversation: Conversation, checkpoint: Checkpoint) -> DomainEvent:
    return DomainEvent(
        "conversation.checkpointed",
        conversation.subject,
        checkpoint.to_dict(),
        conversation.order_id,
    )


def conversation_snapshot(conversation: Conversation) -> dict[str, Any]:
    """A conversation as event and API data."""
    return {
        "id": conversation.id,
        "buyer_id": conversation.buyer_id,
        "seller_id": conversation.seller_id,
        "order_id": conversation.order_id,
        "created_at": conversation.created_at.isoformat(),
        "message_count": conversation.head_seq,
        "head_hash": conversation.head_hash,
        "checkpointed_seq": conversation.checkpointed_seq,
        "last_message_at": conversation.last_message_at.isoformat()
        if conversation.last_message_at
        else None,
    }


def message_snapshot(message: Message) -> dict[str, Any]:
    """A message as event and API data, with the recipient's warning."""
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "kind": message.kind.value,
        "sender_role": message.sender_role.value,
        "sender_id": message.sender_id,
        "text": message.text,
        "attachments": list(message.attachments),
        "sent_at": message.sent_at.isoformat(),
        "hash": message.hash,
        "prev_hash": message.prev_hash,
        "warning": message.verdict.to_dict(),
    }
