"""Evidence bundle of a long chat: export and offline verification time.

Builds one case whose buyer quotes a chat of N messages (default 10,000) with
its hash-chain proof, decides it, exports the signed bundle, and times
``evidence verify``'s check of it (JSON parse, bundle and decision signatures,
attachments, the chain proof of every message) with only the public keys.
Runs on a scratch SQLite file unless ``--db`` names a database.

    python benchmarks/disputes.py [--messages 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tradeguard.bootstrap import build_app
from tradeguard.disputes.bundle import ed25519_check, verify_bundle
from tradeguard.disputes.model import CaseType
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.messaging.chain import verify_chain_proof
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", default=None, help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        os.environ.setdefault("TRADEGUARD_BLOB_DIR", str(Path(scratch) / "blobs"))
        figures = run(url, args.messages, Path(scratch))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"chat of {figures['messages']} messages posted at {figures['post_messages_per_s']:.0f} messages/s"
    )
    print(
        f"bundle: {figures['bundle_bytes'] / 1e6:.1f} MB, exported in {figures['export_s']:.2f} s"
    )
    print(f"offline verification (parse + every check): {figures['verify_10k_bundle_s']:.2f} s")


def run(url: str, messages: int, scratch: Path) -> dict[str, float]:
    app = build_app(url)
    app.platform_keys.init()
    app.orders.register_listing("bench-l", "bench-s", "bench item", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("bench-b", "CNY", [CartLine("bench-l", 1, 10_000)])
    order = checkout.orders[0]
    app.orders.confirm_payment(
        checkout.payment_group_id, order.total_minor, "CNY", "psp-bench", OPERATOR
    )
    app.orders.ship(order.id, seller("bench-s"), carrier="SF", tracking_number="SF1")
    conversation = app.messaging.start(buyer("bench-b"), seller_id="bench-s", order_id=order.id)
    started = time.perf_counter()
    for n in range(messages):
        party = seller("bench-s") if n % 2 else buyer("bench-b")
        app.messaging.post(
            party, conversation.id, f"message {n}: is the parcel on its way? yes, we promise"
        )
    post_s = time.perf_counter() - started
    case = app.disputes.file(
        buyer("bench-b"), order.id, CaseType.BROKEN_PROMISE, "promise broken", 1_000
    )
    app.disputes.quote_chat(case.id, buyer("bench-b"), conversation.id, 1, messages, promise_seq=2)
    app.disputes.respond(case.id, seller("bench-s"), "kept")
    app.disputes.submit_evidence(case.id, buyer("bench-b"))
    app.disputes.submit_evidence(case.id, seller("bench-s"))
    app.disputes.decide(
        case.id,
        Party(Actor.ARBITRATOR, "bench"),
        DecisionRequest("buyer_wins", "broken", refund_minor=1_000),
    )
    started = time.perf_counter()
    bundle = app.disputes.export_bundle(case.id, OPERATOR)
    export_s = time.perf_counter() - started
    path = scratch / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    keys = app.platform_keys.public_keys()
    app.close()
    started = time.perf_counter()
    loaded = json.loads(path.read_text(encoding="utf-8"))
    failures = verify_bundle(loaded, keys, ed25519_check, verify_chain_proof)
    verify_s = time.perf_counter() - started
    if failures:
        raise SystemExit(f"the bundle did not verify: {failures[:3]}")
    return {
        "messages": messages,
        "post_messages_per_s": messages / post_s,
        "export_s": export_s,
        "bundle_bytes": path.stat().st_size,
        "verify_10k_bundle_s": verify_s,
    }


if __name__ == "__main__":
    main()
