"""The platform's Ed25519 keys: created once, rotated with old public keys kept (issue 5 item 1)."""

from __future__ import annotations

import pytest

from tradeguard.bootstrap import App
from tradeguard.kernel.parties import buyer
from tradeguard.messaging.chain import verify_chain_proof
from tradeguard.messaging.model import Conversation
from tradeguard.signing.model import PlatformKeyMissing, verify_signature


def test_init_creates_one_key_and_is_harmless_twice(app: App) -> None:
    # when
    first = app.platform_keys.init()
    second = app.platform_keys.init()

    # then
    assert first == second
    assert list(app.platform_keys.public_keys()) == [first.key_id]


def test_current_before_init_says_how_to_create_it(app: App) -> None:
    with pytest.raises(PlatformKeyMissing, match="platform-init"):
        app.platform_keys.current()


def test_signature_verifies_with_the_published_public_keys(app: App) -> None:
    app.platform_keys.init()
    signature = app.platform_keys.sign(b"decision")
    assert verify_signature(app.platform_keys.public_keys(), b"decision", signature)


def test_rotation_signs_with_the_new_key_and_old_signatures_still_verify(app: App) -> None:
    # given
    old = app.platform_keys.init()
    old_signature = app.platform_keys.sign(b"before")

    # when
    new = app.platform_keys.rotate()

    # then
    keys = app.platform_keys.public_keys()
    assert set(keys) == {old.key_id, new.key_id}
    assert app.platform_keys.current() == new
    assert app.platform_keys.sign(b"after").key_id == new.key_id
    assert verify_signature(keys, b"before", old_signature)
    assert [k.generation for k in app.platform_keys.generations()] == [1, 2]
    assert app.platform_keys.generations()[0].retired_at is not None


def test_another_process_signs_with_the_stored_key(app: App, make_app: object) -> None:
    # given: the key created by one App
    key = app.platform_keys.init()

    # when: a second App (another process) signs
    other = make_app()  # type: ignore[operator]

    # then
    assert other.platform_keys.sign(b"x").key_id == key.key_id


def test_proofs_from_before_a_rotation_still_verify(app: App, conversation: Conversation) -> None:
    # given
    app.messaging.post(buyer("b1"), conversation.id, "hello")
    proof = app.messaging.chain_proof(conversation.id).to_dict()

    # when
    app.platform_keys.rotate()

    # then
    assert verify_chain_proof(proof, app.platform_keys.public_keys()) == []
