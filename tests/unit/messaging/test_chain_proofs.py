"""Chain proofs (DESIGN.md §7): a range of messages checks offline against a signed checkpoint.

These tests build logs in memory with the same pure functions the service uses;
tests/integration/messaging checks the stored version on both databases.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.messaging.chain import ChainProof, verify_chain_proof, verify_log
from tradeguard.messaging.model import (
    GENESIS_HASH,
    Checkpoint,
    Message,
    MessageKind,
    SenderRole,
    chain_hash,
    checkpoint_payload,
    content_digest,
)
from tradeguard.signing.model import key_id_for
from tradeguard.signing.service import Signer

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _signer() -> tuple[Signer, dict[str, str]]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Signer(key_id_for(raw), private.private_bytes_raw()), {
        key_id_for(raw): base64.b64encode(raw).decode()
    }


SIGNER, PUBLIC_KEYS = _signer()


def _log(count: int, checkpoint_at: tuple[int, ...]) -> tuple[list[Message], list[Checkpoint]]:
    messages: list[Message] = []
    checkpoints: list[Checkpoint] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        role = SenderRole.BUYER if seq % 2 else SenderRole.SELLER
        draft = Message(
            "cnv_1",
            seq,
            f"msg_{seq}",
            MessageKind.HUMAN,
            role,
            "b1" if role is SenderRole.BUYER else "s1",
            f"message {seq}: 您好,请问{seq}号什么时候发货?",
            ("ab" * 32,) if seq == 2 else (),
            T0 + timedelta(minutes=seq),
            prev,
            "",
        )
        digest = content_digest(draft.canonical_bytes())
        message = Message(
            *[getattr(draft, f) for f in Message.__slots__[:-2]], chain_hash(prev, digest)
        )  # type: ignore[misc]
        messages.append(message)
        prev = message.hash
        if seq in checkpoint_at:
            at = T0 + timedelta(minutes=seq, seconds=1)
            sig = SIGNER.sign(checkpoint_payload("cnv_1", seq, prev, at))
            checkpoints.append(Checkpoint("cnv_1", seq, prev, at, sig.key_id, sig.signature_b64))
    return messages, checkpoints


def _proof(
    first: int, last: int, count: int = 10, checkpoint_at: tuple[int, ...] = (5, 10)
) -> dict[str, Any]:
    messages, checkpoints = _log(count, checkpoint_at)
    cover = next(c for c in checkpoints if c.seq >= last)
    return ChainProof(
        "cnv_1",
        first,
        last,
        messages[first - 1].prev_hash,
        tuple(messages[first - 1 : last]),
        tuple(content_digest(m.canonical_bytes()) for m in messages[last : cover.seq]),
        tuple(c for c in checkpoints if first <= c.seq <= cover.seq),
    ).to_dict()


def test_proof_of_a_whole_conversation_verifies() -> None:
    assert verify_chain_proof(_proof(1, 10), PUBLIC_KEYS) == []


def test_proof_of_a_middle_range_continues_to_a_later_checkpoint_without_disclosing_text() -> None:
    # given: messages 3..4, covered by the checkpoint at 5
    proof = _proof(3, 4)

    # then
    assert verify_chain_proof(proof, PUBLIC_KEYS) == []
    assert [m["seq"] for m in proof["messages"]] == [3, 4]
    assert len(proof["tail_digests"]) == 1
    assert "message 5" not in json.dumps(proof, ensure_ascii=False)


def test_proof_survives_a_json_round_trip() -> None:
    proof = json.loads(json.dumps(_proof(2, 7)))
    assert verify_chain_proof(proof, PUBLIC_KEYS) == []


def test_altered_message_text_is_reported() -> None:
    # given
    proof = _proof(1, 5)
    entry = proof["messages"][1]
    entry["canonical"] = entry["canonical"].replace("发货", "退款")
    entry["text"] = json.loads(entry["canonical"])["text"]

    # then
    problems = verify_chain_proof(proof, PUBLIC_KEYS)
    assert any("message 2" in p for p in problems)


def test_shown_text_that_differs_from_the_signed_content_is_reported() -> None:
    proof = _proof(1, 5)
    proof["messages"][0]["text"] = "I promise a full refund"
    assert any("shown text" in p for p in verify_chain_proof(proof, PUBLIC_KEYS))


def test_auto_reply_cannot_be_relabelled_as_human() -> None:
    proof = _proof(1, 5)
    proof["messages"][0]["kind"] = "auto_reply"
    assert any("shown kind" in p for p in verify_chain_proof(proof, PUBLIC_KEYS))


def test_dropped_message_is_reported() -> None:
    proof = _proof(1, 5)
    del proof["messages"][2]
    assert verify_chain_proof(proof, PUBLIC_KEYS) != []


def test_reordered_messages_are_reported() -> None:
    proof = _proof(1, 5)
    proof["messages"][1], proof["messages"][2] = proof["messages"][2], proof["messages"][1]
    assert verify_chain_proof(proof, PUBLIC_KEYS) != []


def test_recomputed_hashes_do_not_fool_the_signed_checkpoint() -> None:
    # given: a forger edits message 2 and recomputes every hash after it
    proof = _proof(1, 5)
    entry = proof["messages"][1]
    fields = json.loads(entry["canonical"])
    fields["text"] = "卖家承诺七天内全额退款"
    entry["canonical"] = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    entry["text"] = fields["text"]
    prev = proof["prev_hash"]
    for item in proof["messages"]:
        item["hash"] = prev = chain_hash(prev, content_digest(item["canonical"].encode()))

    # then
    problems = verify_chain_proof(proof, PUBLIC_KEYS)
    assert any("does not reach the signed hash" in p for p in problems)


def test_proof_without_a_covering_checkpoint_is_reported() -> None:
    proof = _proof(1, 5)
    proof["checkpoints"] = []
    assert any("no signed checkpoint" in p for p in verify_chain_proof(proof, PUBLIC_KEYS))


def test_checkpoint_signed_by_an_unknown_key_is_reported() -> None:
    _, other_keys = _signer()
    assert any("signature invalid" in p for p in verify_chain_proof(_proof(1, 5), other_keys))


def test_old_key_generation_still_verifies_after_rotation() -> None:
    # given: the verifier holds the old and the new generation
    _, new_keys = _signer()
    keys = {**PUBLIC_KEYS, **new_keys}

    # then
    assert verify_chain_proof(_proof(1, 10), keys) == []


def test_malformed_proof_is_reported_not_raised() -> None:
    assert verify_chain_proof({"format": "x"}, PUBLIC_KEYS) != []
    assert verify_chain_proof({**_proof(1, 5), "messages": "nope"}, PUBLIC_KEYS) != []


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_flipped_byte_of_a_proof_is_reported(data: st.DataObject) -> None:
    # given: a valid proof serialised as the bytes an auditor receives
    original = json.dumps(_PROOF_2_7, ensure_ascii=False).encode()
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    flip = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(original)
    tampered[index] ^= flip

    # when
    try:
        proof = json.loads(bytes(tampered).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # the file no longer parses: tampering is evident without the chain
    if proof == _PROOF_2_7:
        return  # the flip landed in insignificant JSON (e.g. an escape that decodes the same)
    problems = verify_chain_proof(proof, PUBLIC_KEYS)

    # then
    assert problems, f"flip at byte {index} went unnoticed"


_PROOF_2_7 = _proof(2, 7)


def test_stored_log_check_reports_an_altered_row() -> None:
    # given
    messages, checkpoints = _log(6, (5,))
    messages[3] = replace(messages[3], text="changed")

    # when
    problems = verify_log(
        messages, checkpoints, PUBLIC_KEYS, head_seq=6, head_hash=messages[-1].hash
    )

    # then
    assert any("message 4: content altered" in p for p in problems)


def test_stored_log_check_passes_an_intact_log() -> None:
    messages, checkpoints = _log(6, (5,))
    assert (
        verify_log(messages, checkpoints, PUBLIC_KEYS, head_seq=6, head_hash=messages[-1].hash)
        == []
    )


def test_every_single_bit_flip_of_a_proof_is_reported() -> None:
    # given: a proof of messages 3..4 continuing to the checkpoint at 5, as file bytes
    proof = _proof(3, 4)
    original = json.dumps(proof, ensure_ascii=False).encode()
    unnoticed = []

    # when: every bit of the file is flipped in turn
    for index in range(len(original)):
        for bit in range(8):
            tampered = bytearray(original)
            tampered[index] ^= 1 << bit
            try:
                changed = json.loads(bytes(tampered).decode())
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue  # no longer a proof at all
            if changed != proof and not verify_chain_proof(changed, PUBLIC_KEYS):
                unnoticed.append((index, bit))

    # then: upper-case hex and stray base64 padding bits included, nothing slips through
    assert unnoticed == []
