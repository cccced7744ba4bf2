"""The blob store port: where uploads go (a local directory by default)."""

from __future__ import annotations

from typing import Protocol

from tradeguard.blobs.model import BlobRef


class BlobStore(Protocol):
    """Content-addressed storage of uploads (``app.blobs``)."""

    def put(self, data: bytes, content_type: str) -> BlobRef:
        """Check and store ``data``; storing the same bytes again returns the same reference."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes named ``sha256``; raises BlobNotFound, or BlobCorrupted if they changed."""
        ...

    def stat(self, sha256: str) -> BlobRef | None:
        """The reference of a stored blob, or None."""
        ...
