"""Where uploads are kept and what is accepted (DESIGN.md §6: "size/type checked")."""

from __future__ import annotations

from pydantic import Field

from tradeguard.kernel.policytypes import PolicySection

#: Photos, screenshots, PDFs and plain text: what buyers and sellers attach as evidence.
DEFAULT_CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)


class BlobPolicy(PolicySection):
    """The blob store's location and limits."""

    directory: str = Field(
        default="",
        description="Directory of the local blob store; empty means TRADEGUARD_BLOB_DIR, else ./tradeguard-blobs.",
    )
    max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, strict=True, description="Largest accepted upload."
    )
    content_types: tuple[str, ...] = Field(
        default=DEFAULT_CONTENT_TYPES, description="Accepted media types of uploads."
    )
