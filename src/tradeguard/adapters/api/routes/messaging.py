"""Conversations, messages, attachments, chain proofs and the platform's public keys (DESIGN.md §7).

Operators need the ``orders`` scope (conversations are about orders); buyers and
sellers act on their own conversations only (anyone else's answer 404); staff
may read every conversation, its attachments and its chain proofs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response, status

from tradeguard.access.model import Scope
from tradeguard.adapters.api.auth import ALL_STAFF, Access, Principal
from tradeguard.adapters.api.deps import COMMON, AppDep, page_of, problems
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas_messaging import (
    AttachmentCreate,
    AttachmentPublic,
    ConversationCreate,
    ConversationPage,
    ConversationPublic,
    MessageCreate,
    MessagePage,
    MessagePublic,
    PlatformKeyPublic,
    PlatformKeySet,
)
from tradeguard.messaging.model import MessageKind

router = api_router(prefix="/v1", responses=COMMON)

#: Start conversations and post: the operator (``orders``), buyers and sellers.
Talker = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True))]
#: Read conversations: the above and every staff role (for disputes and risk review).
Reader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True, staff=ALL_STAFF))
]

ConversationId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_]+$",
        description="A conversation id (cnv_...).",
    ),
]
Sha256Path = Annotated[
    str, Path(pattern=r"^[0-9a-f]{64}$", description="The attachment's sha256 (hex).")
]
Seq = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.post(
    "/conversations",
    tags=["messaging"],
    status_code=status.HTTP_201_CREATED,
    summary="Start a conversation",
)
def start_conversation(
    body: ConversationCreate, app: AppDep, principal: Talker
) -> ConversationPublic:
    """Start the conversation of a buyer and a seller (optionally about an order), or find it.

    A buyer or seller starts conversations only as themselves; with an order,
    it must be theirs and name both parties. Starting it again returns it.
    """
    conversation = app.messaging.start(
        principal.party,
        buyer_id=body.buyer_id,
        seller_id=body.seller_id,
        order_id=body.order_id,
    )
    return ConversationPublic.of(conversation)


@router.get("/conversations", tags=["messaging"], summary="List conversations")
def list_conversations(
    app: AppDep,
    principal: Reader,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    """Conversations newest first; a buyer or seller sees only their own."""
    found = app.messaging.find(
        principal.party, order_id=order_id, before_id=cursor, limit=limit + 1
    )
    page, next_cursor = page_of(found, limit)
    return ConversationPage(data=[ConversationPublic.of(c) for c in page], next_cursor=next_cursor)


@router.get("/conversations/{conversation_id}", tags=["messaging"], summary="Get a conversation")
def get_conversation(
    conversation_id: ConversationId, app: AppDep, principal: Reader
) -> ConversationPublic:
    """A conversation and the head of its hash chain."""
    return ConversationPublic.of(app.messaging.get(principal.party, conversation_id))


@router.post(
    "/conversations/{conversation_id}/messages",
    tags=["messaging"],
    status_code=status.HTTP_201_CREATED,
    summary="Post a message",
)
def post_message(
    conversation_id: ConversationId, body: MessageCreate, app: AppDep, principal: Talker
) -> MessagePublic:
    """Append a message; it is scanned for scams and chained to the previous one.

    A flagged message is still delivered, with a `warning` the recipient sees,
    and records a risk signal. The operator posts `auto_reply` (on the seller's
    behalf) or `system` messages, never `human` ones.
    """
    kind = body.kind or (MessageKind.SYSTEM if principal.kind == "operator" else MessageKind.HUMAN)
    message = app.messaging.post(
        principal.party, conversation_id, body.text, kind=kind, attachments=body.attachments
    )
    return MessagePublic.of(message)


@router.get(
    "/conversations/{conversation_id}/messages", tags=["messaging"], summary="List messages"
)
def list_messages(
    conversation_id: ConversationId,
    app: AppDep,
    principal: Reader,
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MessagePage:
    """Messages after `after_seq`, in chain order, each with its warning."""
    messages = app.messaging.messages(
        principal.party, conversation_id, after_seq=after_seq, limit=limit + 1
    )
    page = messages[:limit]
    more = len(messages) > limit and page
    return MessagePage(
        data=[MessagePublic.of(m) for m in page], next_after_seq=page[-1].seq if more else None
    )


@router.post(
    "/conversations/{conversation_id}/attachments",
    tags=["messaging"],
    status_code=status.HTTP_201_CREATED,
    summary="Upload an attachment",
)
def upload_attachment(
    conversation_id: ConversationId, body: AttachmentCreate, app: AppDep, principal: Talker
) -> AttachmentPublic:
    """Store a file (size and type checked) for a message of this conversation; attach it by sha256."""
    ref = app.messaging.upload(principal.party, conversation_id, body.data(), body.content_type)
    return AttachmentPublic.of(ref)


@router.get(
    "/conversations/{conversation_id}/attachments/{sha256}",
    tags=["messaging"],
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"description": "The file, with its media type.", "content": {"*/*": {}}}},
)
def download_attachment(
    conversation_id: ConversationId, sha256: Sha256Path, app: AppDep, principal: Reader
) -> Response:
    """A file attached to a message of this conversation (only such files are served here)."""
    ref, data = app.messaging.attachment(principal.party, conversation_id, sha256)
    return Response(
        data,
        media_type=ref.content_type,
        headers={"ETag": f'"{ref.sha256}"', "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/conversations/{conversation_id}/chain-proof",
    tags=["messaging"],
    summary="Get a chain proof",
)
def chain_proof(
    conversation_id: ConversationId,
    app: AppDep,
    principal: Reader,
    from_seq: Seq = None,
    to_seq: Seq = None,
) -> dict[str, Any]:
    """Messages `from_seq`..`to_seq` (default: all) with what proves them offline.

    The proof carries the messages' canonical bytes, the hash before the range,
    the digests of later messages up to the covering signed checkpoint, and the
    checkpoints; check it with the keys of `GET /v1/public/platform-keys`. When
    no checkpoint covers the range yet, the head is checkpointed first.
    """
    proof = app.messaging.chain_proof(conversation_id, from_seq, to_seq, party=principal.party)
    return proof.to_dict()


@router.get(
    "/public/platform-keys",
    tags=["messaging"],
    summary="The platform's public keys",
    responses=problems(429, 503),
)
def platform_keys(app: AppDep) -> PlatformKeySet:
    """Every generation of the platform's Ed25519 public key (no credentials needed).

    Checkpoints, decisions and evidence bundles name the key that signed them.
    """
    generations = app.platform_keys.generations()
    return PlatformKeySet(
        data=[PlatformKeyPublic.of(k) for k in generations],
        keys={k.key_id: k.public_key_b64 for k in generations},
    )
