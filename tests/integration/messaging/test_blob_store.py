"""The content-addressed blob store (DESIGN.md §6: uploads are sha256-addressed, size/type checked)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tradeguard.adapters.blobs import LocalBlobStore
from tradeguard.blobs.model import BlobCorrupted, BlobNotFound, BlobTooLarge, BlobTypeNotAllowed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"jfif" * 10


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(
        tmp_path / "blobs", max_bytes=1024, content_types=["image/png", "image/jpeg", "text/plain"]
    )


def test_blob_is_named_by_the_sha256_of_its_bytes(store: LocalBlobStore) -> None:
    # when
    ref = store.put(PNG, "image/png")

    # then
    assert ref.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (ref.size, ref.content_type) == (len(PNG), "image/png")
    assert store.get(ref.sha256) == PNG
    assert store.stat(ref.sha256) == ref


def test_same_bytes_are_stored_once(store: LocalBlobStore) -> None:
    first = store.put(JPEG, "image/jpeg")
    second = store.put(JPEG, "image/jpeg; charset=binary")
    assert first == second
    assert len([p for p in store.root.rglob("*") if p.is_file() and p.suffix != ".json"]) == 1


def test_upload_over_the_size_limit_is_refused(store: LocalBlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        store.put(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1024, "image/png")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"MZ\x90\x00 an executable", "application/x-msdownload"),  # type not accepted
        (b"MZ\x90\x00 an executable", "image/png"),  # bytes are not what the type says
        (b"\xff\xfe\x00bad", "text/plain"),  # not UTF-8 text
        (b"", "text/plain"),
    ],
)
def test_upload_of_an_unaccepted_type_is_refused(
    store: LocalBlobStore, data: bytes, content_type: str
) -> None:
    with pytest.raises(BlobTypeNotAllowed):
        store.put(data, content_type)
    assert not store.root.exists() or not any(store.root.rglob("*"))


def test_unknown_or_malformed_name_is_not_found(store: LocalBlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.get("ab" * 32)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")
    assert store.stat("../x") is None


def test_blob_altered_on_disk_is_reported_not_served(store: LocalBlobStore) -> None:
    # given
    ref = store.put(PNG, "image/png")
    path = next(p for p in store.root.rglob(ref.sha256))

    # when
    path.write_bytes(PNG + b"edited")

    # then
    with pytest.raises(BlobCorrupted):
        store.get(ref.sha256)
