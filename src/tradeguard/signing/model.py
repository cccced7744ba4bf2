"""Platform keys and signatures, and their offline verification (DESIGN.md §6, §7).

A signature names the key that made it (``key_id``), so a verifier holding every
public key generation (``GET /v1/public/platform-keys``) can check signatures
made before a rotation. Nothing here touches storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tradeguard.kernel.errors import ErrorKind, TradeGuardError


class PlatformKeyMissing(TradeGuardError):
    """The platform has no signing key yet; run `tradeguard keys platform-init`."""

    code = "platform_key_missing"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True, slots=True)
class Signature:
    """An Ed25519 signature and the id of the platform key that made it."""

    key_id: str
    signature_b64: str

    def to_dict(self) -> dict[str, str]:
        """The signature as JSON-ready data."""
        return {"key_id": self.key_id, "signature_b64": self.signature_b64}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Read a signature written by :meth:`to_dict`; raises KeyError or TypeError if malformed."""
        key_id, signature_b64 = data["key_id"], data["signature_b64"]
        if not isinstance(key_id, str) or not isinstance(signature_b64, str):
            raise TypeError("key_id and signature_b64 must be strings")
        return cls(key_id, signature_b64)


@dataclass(frozen=True, slots=True)
class PlatformKey:
    """One generation of the platform's signing key, without its private half."""

    key_id: str
    generation: int
    public_key_b64: str  #: the 32 raw bytes of the Ed25519 public key, base64
    created_at: datetime
    retired_at: datetime | None = None  #: set when a rotation made a newer key current

    @property
    def is_current(self) -> bool:
        """True for the key that signs from now on."""
        return self.retired_at is None


def key_id_for(public_key_raw: bytes) -> str:
    """The key id of a raw Ed25519 public key: a fingerprint, so an id can never name two keys.

    >>> key_id_for(bytes(32))
    'pk_66687aadf862bd77'
    """
    return "pk_" + hashlib.sha256(public_key_raw).hexdigest()[:16]


def _canonical_b64decode(text: str) -> bytes:
    """Decode base64 that is written the one canonical way (no stray bits in the padding).

    A signature document must have one spelling: otherwise altering the unused
    bits of the last character would change the file without the check noticing.
    """
    data = base64.b64decode(text, validate=True)
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return data


def verify_signature(public_keys: Mapping[str, str], data: bytes, sig: Signature) -> bool:
    """True when ``sig`` is a valid signature of ``data`` by one of ``public_keys``.

    ``public_keys`` maps key ids to base64 raw public keys (every generation).
    An unknown key id, a malformed key or signature, or a key whose fingerprint
    does not match its id all answer False rather than raising, so a verifier
    can report the failure and go on.
    """
    encoded = public_keys.get(sig.key_id)
    if not isinstance(encoded, str):
        return False
    try:
        raw = _canonical_b64decode(encoded)
        signature = _canonical_b64decode(sig.signature_b64)
        if key_id_for(raw) != sig.key_id:
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
