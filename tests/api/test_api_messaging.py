"""Messaging through HTTP (DESIGN.md §7): chat, scam warnings, attachments, chain proofs, keys."""

from __future__ import annotations

import base64
from typing import Any

from tradeguard.messaging.chain import verify_chain_proof

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
PHISHING = "亲,宝贝价格标高了,请点击链接 http://taobao-gaijia.cn/item 重新拍下,旧的交易会自动关闭"


def start(api: Any) -> dict[str, Any]:
    return api.ok(
        api.post("/v1/conversations", auth=api.token("buyer:b1"), json={"seller_id": "s1"}), 201
    )


def test_buyer_and_seller_chat_with_their_own_tokens(api: Any) -> None:
    # given
    chat = start(api)
    buyer, seller = api.token("buyer:b1"), api.token("seller:s1")

    # when
    asked = api.ok(
        api.post(f"/v1/conversations/{chat['id']}/messages", auth=buyer, json={"text": "有货吗?"}),
        201,
    )
    answered = api.ok(
        api.post(f"/v1/conversations/{chat['id']}/messages", auth=seller, json={"text": "有的"}),
        201,
    )

    # then
    listed = api.ok(api.get(f"/v1/conversations/{chat['id']}/messages", auth=seller))
    assert [(m["seq"], m["sender_role"], m["kind"]) for m in listed["data"]] == [
        (1, "buyer", "human"),
        (2, "seller", "human"),
    ]
    assert answered["prev_hash"] == asked["hash"]
    assert listed["next_after_seq"] is None
    got = api.ok(api.get(f"/v1/conversations/{chat['id']}", auth=buyer))
    assert got["message_count"] == 2
    assert got["head_hash"] == answered["hash"]


def test_recipient_sees_the_scam_warning(api: Any) -> None:
    chat = start(api)
    api.ok(
        api.post(
            f"/v1/conversations/{chat['id']}/messages",
            auth=api.token("seller:s1"),
            json={"text": PHISHING},
        ),
        201,
    )
    [message] = api.ok(
        api.get(f"/v1/conversations/{chat['id']}/messages", auth=api.token("buyer:b1"))
    )["data"]
    assert message["warning"]["flagged"] is True
    assert "reorder_link" in message["warning"]["reasons"]
    assert len(message["warning"]["notices"]) == len(message["warning"]["reasons"])
    assert "改价后重新拍下" in "".join(message["warning"]["notices_zh"])


def test_operator_posts_auto_replies_but_participants_cannot(api: Any) -> None:
    chat = start(api)
    auto = api.ok(
        api.post(
            f"/v1/conversations/{chat['id']}/messages",
            json={"text": "亲,在的,有什么可以帮您", "kind": "auto_reply"},
        ),
        201,
    )
    assert (auto["kind"], auto["sender_role"], auto["sender_id"]) == ("auto_reply", "seller", "s1")
    refused = api.post(
        f"/v1/conversations/{chat['id']}/messages",
        auth=api.token("seller:s1"),
        json={"text": "bot", "kind": "auto_reply"},
    )
    api.problem(refused, 403, "forbidden")
    human = api.post(
        f"/v1/conversations/{chat['id']}/messages", json={"text": "hi", "kind": "human"}
    )
    api.problem(human, 403, "forbidden")


def test_attachment_upload_then_download_by_the_other_party(api: Any) -> None:
    # given
    chat = start(api)
    buyer, seller = api.token("buyer:b1"), api.token("seller:s1")
    body = {"content_type": "image/png", "data_b64": base64.b64encode(PNG).decode()}

    # when
    ref = api.ok(
        api.post(f"/v1/conversations/{chat['id']}/attachments", auth=buyer, json=body), 201
    )
    api.ok(
        api.post(
            f"/v1/conversations/{chat['id']}/messages",
            auth=buyer,
            json={"text": "box arrived crushed", "attachments": [ref["sha256"]]},
        ),
        201,
    )
    download = api.get(f"/v1/conversations/{chat['id']}/attachments/{ref['sha256']}", auth=seller)

    # then
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"


def test_unattached_upload_is_not_served(api: Any) -> None:
    chat = start(api)
    body = {"content_type": "image/png", "data_b64": base64.b64encode(PNG).decode()}
    ref = api.ok(api.post(f"/v1/conversations/{chat['id']}/attachments", json=body), 201)
    other = api.ok(api.post("/v1/conversations", json={"buyer_id": "b9", "seller_id": "s9"}), 201)
    response = api.get(f"/v1/conversations/{other['id']}/attachments/{ref['sha256']}")
    api.problem(response, 404, "blob_not_found")


def test_attachment_of_a_refused_type_changes_nothing(api: Any) -> None:
    chat = start(api)
    body = {
        "content_type": "application/x-msdownload",
        "data_b64": base64.b64encode(b"MZ").decode(),
    }
    response = api.post(f"/v1/conversations/{chat['id']}/attachments", json=body)
    api.problem(response, 422, "blob_type_not_allowed")
    bad = api.post(
        f"/v1/conversations/{chat['id']}/attachments",
        json={"content_type": "image/png", "data_b64": "***"},
    )
    api.problem(bad, 422, "validation_failed")


def test_chain_proof_verifies_with_the_public_keys_fetched_without_credentials(api: Any) -> None:
    # given
    chat = start(api)
    for n in range(3):
        api.ok(
            api.post(
                f"/v1/conversations/{chat['id']}/messages",
                auth=api.token("buyer:b1"),
                json={"text": f"message {n}"},
            ),
            201,
        )

    # when
    proof = api.ok(
        api.get(
            f"/v1/conversations/{chat['id']}/chain-proof?from_seq=2&to_seq=3",
            auth=api.token("seller:s1"),
        )
    )
    keys = api.ok(api.get("/v1/public/platform-keys", auth=api.NOBODY))

    # then
    assert verify_chain_proof(proof, keys["keys"]) == []
    assert [k["is_current"] for k in keys["data"]] == [True]
    proof["messages"][0]["text"] = "tampered"
    assert verify_chain_proof(proof, keys["keys"]) != []


def test_chain_proof_of_a_range_past_the_end_is_refused(api: Any) -> None:
    chat = start(api)
    response = api.get(f"/v1/conversations/{chat['id']}/chain-proof?to_seq=5")
    api.problem(response, 422, "validation_failed")


def test_retried_post_with_the_same_idempotency_key_sends_one_message(api: Any) -> None:
    chat = start(api)
    headers = {"Idempotency-Key": "msg-retry-1"}
    path = f"/v1/conversations/{chat['id']}/messages"
    first = api.ok(api.post(path, json={"text": "notice"}, headers=headers), 201)
    again = api.ok(api.post(path, json={"text": "notice"}, headers=headers), 201)
    assert first == again
    assert api.ok(api.get(f"/v1/conversations/{chat['id']}"))["message_count"] == 1


def test_listing_shows_a_participant_only_their_conversations(api: Any) -> None:
    mine = start(api)
    api.ok(api.post("/v1/conversations", json={"buyer_id": "b2", "seller_id": "s1"}), 201)
    listed = api.ok(api.get("/v1/conversations", auth=api.token("buyer:b1")))
    assert [c["id"] for c in listed["data"]] == [mine["id"]]
    assert len(api.ok(api.get("/v1/conversations?limit=1"))["data"]) == 1
