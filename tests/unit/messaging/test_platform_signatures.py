"""Signatures verify offline with the published public keys only (DESIGN.md §6, §7)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tradeguard.signing.model import Signature, key_id_for, verify_signature
from tradeguard.signing.service import Signer


def _keypair() -> tuple[Signer, dict[str, str]]:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = key_id_for(public_raw)
    return Signer(key_id, private.private_bytes_raw()), {
        key_id: base64.b64encode(public_raw).decode()
    }


def test_signature_verifies_with_the_public_key_alone() -> None:
    # given
    signer, public_keys = _keypair()

    # when
    signature = signer.sign(b"checkpoint")

    # then
    assert verify_signature(public_keys, b"checkpoint", signature)


def test_signature_of_other_bytes_is_refused() -> None:
    signer, public_keys = _keypair()
    signature = signer.sign(b"checkpoint")
    assert not verify_signature(public_keys, b"checkpoinT", signature)


def test_signature_by_an_unknown_key_is_refused() -> None:
    signer, _ = _keypair()
    _, other_keys = _keypair()
    assert not verify_signature(other_keys, b"x", signer.sign(b"x"))


def test_key_published_under_another_id_is_refused() -> None:
    # given: a forger publishes their own key under the platform's key id
    signer, public_keys = _keypair()
    forger, forger_keys = _keypair()
    (forged_public,) = forger_keys.values()
    spoofed = {signer.key_id: forged_public}
    forged = Signature(signer.key_id, forger.sign(b"x").signature_b64)

    # then: the key id is the key's fingerprint, so the swap is caught
    assert not verify_signature(spoofed, b"x", forged)
    assert verify_signature(public_keys, b"x", signer.sign(b"x"))


def test_malformed_signature_is_refused_not_raised() -> None:
    signer, public_keys = _keypair()
    assert not verify_signature(public_keys, b"x", Signature(signer.key_id, "not base64!"))
    assert not verify_signature(public_keys, b"x", Signature(signer.key_id, "AAAA"))
    assert not verify_signature({signer.key_id: "%%%"}, b"x", signer.sign(b"x"))
