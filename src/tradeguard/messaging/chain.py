"""Chain proofs: a range of messages that anyone can check offline against a signed checkpoint.

A proof carries the messages ``from_seq..to_seq`` (their canonical bytes), the
hash before the range, the content digests of the later messages up to the
covering checkpoint (texts not disclosed), and the signed checkpoints in that
span. :func:`verify_chain_proof` needs only the proof and the platform's public
keys; it reports every failure it finds rather than stopping at the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradeguard.messaging.model import (
    GENESIS_HASH,
    Checkpoint,
    Message,
    chain_hash,
    checkpoint_payload_text,
    content_digest,
    instant,
)
from tradeguard.signing.model import Signature, verify_signature

PROOF_FORMAT = "tradeguard.chain_proof/1"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class ChainProof:
    """Messages ``from_seq..to_seq`` of a conversation, chained to a signed checkpoint."""

    conversation_id: str
    from_seq: int
    to_seq: int
    prev_hash: str  #: the hash of message ``from_seq - 1`` (the genesis hash before the first)
    messages: tuple[Message, ...]
    tail_digests: tuple[str, ...]  #: digests of messages ``to_seq + 1`` .. the covering checkpoint
    checkpoints: tuple[Checkpoint, ...]  #: every checkpoint from ``from_seq`` to the covering one

    def to_dict(self) -> dict[str, Any]:
        """The proof as JSON-serialisable data (what :func:`verify_chain_proof` reads)."""
        return {
            "format": PROOF_FORMAT,
            "conversation_id": self.conversation_id,
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "prev_hash": self.prev_hash,
            "messages": [
                {
                    "seq": m.seq,
                    "canonical": m.canonical_bytes().decode(),
                    "hash": m.hash,
                    "kind": m.kind.value,
                    "sender_role": m.sender_role.value,
                    "text": m.text,
                    "attachments": list(m.attachments),
                    "sent_at": instant(m.sent_at),
                }
                for m in self.messages
            ],
            "tail_digests": list(self.tail_digests),
            "checkpoints": [c.to_dict() for c in self.checkpoints],
        }


#: Fields shown beside the canonical text for readers; the verifier checks they agree with it.
_SHOWN_FIELDS = ("kind", "sender_role", "text", "attachments", "sent_at")
#: The exact keys of each part of a proof: an added, dropped or renamed field is tampering too.
_PROOF_KEYS = frozenset(
    {
        "format",
        "conversation_id",
        "from_seq",
        "to_seq",
        "prev_hash",
        "messages",
        "tail_digests",
        "checkpoints",
    }
)
_MESSAGE_KEYS = frozenset({"seq", "canonical", "hash", *_SHOWN_FIELDS})
_CHECKPOINT_KEYS = frozenset({"conversation_id", "seq", "hash", "signed_at", "signature"})
_SIGNATURE_KEYS = frozenset({"key_id", "signature_b64"})


def verify_chain_proof(proof: Mapping[str, Any], public_keys: Mapping[str, str]) -> list[str]:
    """Check a proof offline; return what fails (an empty list means the proof holds).

    Checks that every message's canonical bytes hash to its stated hash given its
    predecessor, that the shown fields match the canonical bytes, that the chain
    continues through the tail digests to the covering checkpoint, and that every
    checkpoint's signature verifies with ``public_keys`` and matches the chain.
    """
    try:
        return _verify(proof, public_keys)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"malformed proof: {type(exc).__name__}: {exc}"]


def _verify(proof: Mapping[str, Any], public_keys: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    problems.extend(_shape("the proof", proof, _PROOF_KEYS))
    if proof.get("format") != PROOF_FORMAT:
        problems.append(f"unknown proof format {proof.get('format')!r}")
    conversation_id = str(proof["conversation_id"])
    from_seq, to_seq = int(proof["from_seq"]), int(proof["to_seq"])
    messages: Sequence[Mapping[str, Any]] = proof["messages"]
    if from_seq < 1 or to_seq < from_seq or len(messages) != to_seq - from_seq + 1:
        problems.append(
            f"the proof claims messages {from_seq}..{to_seq} but carries {len(messages)}"
        )
    prev = str(proof["prev_hash"])
    # One spelling per hash: upper-case hex would hash the same bytes but is not what was signed.
    if not _SHA256_HEX.match(prev):
        problems.append("prev_hash is not a lower-case hex sha256")
    tail = [str(d) for d in proof["tail_digests"]]
    if not all(_SHA256_HEX.match(d) for d in tail):
        problems.append("a tail digest is not a lower-case hex sha256")
    if from_seq == 1 and prev != GENESIS_HASH:
        problems.append("the first message must follow the genesis hash")
    hashes: dict[int, str] = {}
    for offset, entry in enumerate(messages):
        seq = from_seq + offset
        problems.extend(_shape(f"message {seq}", entry, _MESSAGE_KEYS))
        canonical = str(entry["canonical"])
        fields = json.loads(canonical)
        if fields.get("conversation_id") != conversation_id or fields.get("seq") != seq:
            problems.append(f"message {seq}: canonical bytes name another place in the log")
        for name in _SHOWN_FIELDS:
            if entry.get(name) != fields.get(name):
                problems.append(f"message {seq}: shown {name} differs from the signed content")
        if entry.get("seq") != seq:
            problems.append(f"message {seq}: listed out of order as {entry.get('seq')!r}")
        computed = chain_hash(prev, content_digest(canonical.encode()))
        if computed != entry["hash"]:
            problems.append(f"message {seq}: content or order altered (hash mismatch)")
        prev = computed
        hashes[seq] = computed
    for offset, digest in enumerate(tail):
        prev = chain_hash(prev, digest)
        hashes[to_seq + 1 + offset] = prev
    checkpoints: Sequence[Mapping[str, Any]] = proof["checkpoints"]
    covered_to = to_seq + len(proof["tail_digests"])
    if not any(int(c["seq"]) == covered_to for c in checkpoints):
        problems.append(f"no signed checkpoint covers the proof (expected one at {covered_to})")
    for entry in checkpoints:
        problems.extend(_check_checkpoint(entry, conversation_id, hashes, public_keys))
    return problems


def _check_checkpoint(
    entry: Mapping[str, Any],
    conversation_id: str,
    hashes: Mapping[int, str],
    public_keys: Mapping[str, str],
) -> list[str]:
    seq, head = int(entry["seq"]), str(entry["hash"])
    problems = _shape(f"checkpoint {seq}", entry, _CHECKPOINT_KEYS)
    problems.extend(_shape(f"checkpoint {seq} signature", entry["signature"], _SIGNATURE_KEYS))
    if entry["conversation_id"] != conversation_id:
        problems.append(f"checkpoint {seq}: signed for another conversation")
    payload = checkpoint_payload_text(
        str(entry["conversation_id"]), seq, head, str(entry["signed_at"])
    )
    signature = Signature.from_dict(entry["signature"])
    if not verify_signature(public_keys, payload, signature):
        problems.append(f"checkpoint {seq}: signature invalid or by an unknown key")
    if seq not in hashes:
        problems.append(f"checkpoint {seq}: outside the proven range")
    elif hashes[seq] != head:
        problems.append(f"checkpoint {seq}: the chain does not reach the signed hash")
    return problems


def _shape(what: str, part: Mapping[str, Any], expected: frozenset[str]) -> list[str]:
    keys = set(part)
    if keys == expected:
        return []
    missing, extra = sorted(expected - keys), sorted(keys - expected)
    return [f"{what}: missing fields {missing}, unexpected fields {extra}"]


def verify_log(
    messages: Sequence[Message],
    checkpoints: Sequence[Checkpoint],
    public_keys: Mapping[str, str],
    *,
    head_seq: int,
    head_hash: str,
) -> list[str]:
    """Recompute a stored conversation from its rows; return every inconsistency.

    This is how tampering with a stored message, checkpoint or conversation head
    is found: each stored hash is recomputed from the stored content, and each
    checkpoint must be validly signed and agree with the recomputed chain.
    """
    problems: list[str] = []
    prev = GENESIS_HASH
    recomputed: dict[int, str] = {}
    for expected_seq, message in enumerate(messages, start=1):
        if message.seq != expected_seq:
            problems.append(f"message {expected_seq}: missing (found {message.seq} instead)")
        if message.prev_hash != prev:
            problems.append(f"message {message.seq}: does not follow its predecessor")
        computed = chain_hash(prev, content_digest(message.canonical_bytes()))
        if computed != message.hash:
            problems.append(f"message {message.seq}: content altered (hash mismatch)")
        recomputed[message.seq] = computed
        prev = computed
    if len(messages) != head_seq:
        problems.append(f"the log holds {len(messages)} messages but its head says {head_seq}")
    elif prev != head_hash:
        problems.append("the conversation head does not match the last message")
    for checkpoint in checkpoints:
        signature = Signature(checkpoint.key_id, checkpoint.signature_b64)
        if not verify_signature(public_keys, checkpoint.payload(), signature):
            problems.append(f"checkpoint {checkpoint.seq}: signature invalid or by an unknown key")
        if recomputed.get(checkpoint.seq) != checkpoint.hash:
            problems.append(
                f"checkpoint {checkpoint.seq}: the chain does not reach the signed hash"
            )
    return problems
