"""Content-addressed blobs: a file is named by the sha256 of its bytes (DESIGN.md §6).

Naming by content makes an upload tamper-evident (the name is the proof) and
stores the same screenshot once however often it is attached.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tradeguard.kernel.errors import ErrorKind, TradeGuardError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: Leading bytes of the binary types we accept; a declared type whose bytes say otherwise is
#: refused, so a renamed executable cannot pass as a photo.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class BlobTooLarge(TradeGuardError):
    """The upload is larger than the policy allows."""

    code = "blob_too_large"


class BlobTypeNotAllowed(TradeGuardError):
    """This kind of file is not accepted."""

    code = "blob_type_not_allowed"


class BlobNotFound(TradeGuardError):
    """No stored file has this sha256."""

    code = "blob_not_found"
    kind = ErrorKind.NOT_FOUND


class BlobCorrupted(TradeGuardError):
    """A stored file no longer matches its sha256."""

    code = "blob_corrupted"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored file: its sha256 (hex), size in bytes and media type."""

    sha256: str
    size: int
    content_type: str

    def to_dict(self) -> dict[str, Any]:
        """The reference as JSON-ready data."""
        return {"sha256": self.sha256, "size": self.size, "content_type": self.content_type}


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` in lower-case hex (a blob's name).

    >>> sha256_hex(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: str) -> bool:
    """True for a lower-case hex sha256 (and so a safe file name).

    >>> is_sha256("ab" * 32), is_sha256("../etc/passwd")
    (True, False)
    """
    return bool(_SHA256.match(value))


def check_upload(
    data: bytes, content_type: str, *, max_bytes: int, allowed: Collection[str]
) -> BlobRef:
    """Accept an upload or say why not: size, declared type, and bytes that match the type.

    >>> check_upload(b"hello", "text/plain", max_bytes=10, allowed=["text/plain"]).size
    5
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if len(data) > max_bytes:
        raise BlobTooLarge(
            f"The file is {len(data)} bytes; at most {max_bytes} are accepted.",
            size=len(data),
            max_bytes=max_bytes,
        )
    if not data:
        raise BlobTypeNotAllowed("The file is empty.")
    if media_type not in allowed:
        raise BlobTypeNotAllowed(
            f"Files of type {media_type or '(none)'!r} are not accepted; accepted: {', '.join(allowed)}.",
            content_type=media_type,
        )
    if not _content_matches(data, media_type):
        raise BlobTypeNotAllowed(
            f"The file's content is not {media_type}.", content_type=media_type
        )
    return BlobRef(sha256_hex(data), len(data), media_type)


def _content_matches(data: bytes, media_type: str) -> bool:
    if media_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if media_type == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in data
    prefixes = _MAGIC.get(media_type)
    return prefixes is None or data.startswith(prefixes)
