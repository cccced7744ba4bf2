"""The local-directory blob store: one file per sha256, written atomically.

Layout: ``<root>/ab/cd/abcd…`` (two levels of fan-out keep directories small)
with a ``.json`` side file holding the size and media type. A file is written
to a temporary name and renamed into place, so a reader never sees half a blob
and two writers of the same bytes cannot corrupt each other. Reads re-hash the
bytes: a file altered on disk is reported, never served as evidence.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

from tradeguard.blobs.model import (
    BlobCorrupted,
    BlobNotFound,
    BlobRef,
    check_upload,
    is_sha256,
    sha256_hex,
)
from tradeguard.blobs.policy import BlobPolicy

DEFAULT_DIRECTORY = "tradeguard-blobs"


def blob_directory(policy: BlobPolicy) -> Path:
    """The directory a policy names: its own, else ``TRADEGUARD_BLOB_DIR``, else ./tradeguard-blobs."""
    return Path(policy.directory or os.environ.get("TRADEGUARD_BLOB_DIR") or DEFAULT_DIRECTORY)


class LocalBlobStore:
    """Implements :class:`tradeguard.blobs.ports.BlobStore` on a directory (created on first put)."""

    def __init__(self, root: Path, *, max_bytes: int, content_types: Collection[str]) -> None:
        self.root = root
        self._max_bytes = max_bytes
        self._content_types = tuple(content_types)

    @classmethod
    def from_policy(cls, policy: BlobPolicy) -> LocalBlobStore:
        """The store the policy describes."""
        return cls(
            blob_directory(policy), max_bytes=policy.max_bytes, content_types=policy.content_types
        )

    def put(self, data: bytes, content_type: str) -> BlobRef:
        """Check and store ``data``; the same bytes are stored once."""
        ref = check_upload(
            data, content_type, max_bytes=self._max_bytes, allowed=self._content_types
        )
        path = self._path(ref.sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write(path, data)
        meta = self._meta_path(ref.sha256)
        if not meta.exists():
            self._write(meta, json.dumps(ref.to_dict()).encode())
        return ref

    def get(self, sha256: str) -> bytes:
        """The bytes named ``sha256``, checked against their name."""
        if not is_sha256(sha256):
            raise BlobNotFound(f"No stored file {sha256!r}.")
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"No stored file {sha256!r}.") from None
        if sha256_hex(data) != sha256:
            raise BlobCorrupted(f"The stored file {sha256} no longer matches its sha256.")
        return data

    def stat(self, sha256: str) -> BlobRef | None:
        """Size and media type of a stored blob, or None."""
        if not is_sha256(sha256):
            return None
        try:
            meta = json.loads(self._meta_path(sha256).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return BlobRef(sha256, int(meta["size"]), str(meta["content_type"]))

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _meta_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.json"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
