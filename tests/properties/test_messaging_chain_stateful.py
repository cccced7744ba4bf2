"""Any sequence of chat, checkpoints, key rotations and proofs keeps the log provable (DESIGN.md §7).

The reference is written by hand from DESIGN.md §7 and the brief: who may post
which kind of message (buyers and sellers post human messages as themselves;
the operator posts auto-replies for the seller and system notices; nobody else
posts), a checkpoint every N messages, and the log as a list per conversation.
After every step the real service must agree: the stored log equals the
model, its chain and checkpoints verify, and a proof of any range verifies
offline with the published public keys — also after rotations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.parties import Actor, Party
from tradeguard.messaging.chain import verify_chain_proof
from tradeguard.policy import build_policy

if TYPE_CHECKING:
    from tests.conftest import Database

SETTINGS = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
EVERY = 3  #: checkpoint cadence under test

#: (actor, kind) -> the side the message speaks for; by hand from DESIGN.md §7 and the brief.
MAY_POST = {
    ("buyer", "human"): "buyer",
    ("seller", "human"): "seller",
    ("operator", "auto_reply"): "seller",
    ("operator", "system"): "platform",
}
ACTORS = ("buyer", "seller", "operator", "support", "arbitrator")
KINDS = ("human", "auto_reply", "system")
TEXTS = st.sampled_from(
    ["有货吗?", "今天发货", "Is it in stock?", "亲,价格标高了,点链接 http://tb-x.cn 重拍", "ok"]
)


def _machine_for(database: Database) -> type[RuleBasedStateMachine]:
    class MessagingLog(RuleBasedStateMachine):
        conversations = Bundle("conversations")

        def __init__(self) -> None:
            super().__init__()
            database.reset()
            policy = build_policy({"messaging": {"checkpoint_every": EVERY}})
            self.app: App = build_app(
                engine=database.engine,
                policy=policy,
                clock=FakeClock(),
                ids=IdFactory.seeded(7),
                migrate=False,
            )
            self.log: dict[str, list[tuple[str, str, str]]] = {}  # id -> (role, kind, text)
            self.parties: dict[str, tuple[str, str]] = {}

        @initialize()
        def keys(self) -> None:
            self.app.platform_keys.init()

        @rule(
            target=conversations,
            buyer_n=st.integers(1, 2),
            seller_n=st.integers(1, 2),
        )
        def start(self, buyer_n: int, seller_n: int) -> Any:
            chat = self.app.messaging.start(
                Party(Actor.OPERATOR), buyer_id=f"b{buyer_n}", seller_id=f"s{seller_n}"
            )
            self.log.setdefault(chat.id, [])
            self.parties[chat.id] = (f"b{buyer_n}", f"s{seller_n}")
            return chat.id

        @rule(
            conversation_id=conversations,
            actor=st.sampled_from(ACTORS),
            kind=st.sampled_from(KINDS),
            own=st.booleans(),
            text=TEXTS,
        )
        def post(self, conversation_id: str, actor: str, kind: str, own: bool, text: str) -> None:
            buyer_id, seller_id = self.parties[conversation_id]
            party_id = {"buyer": buyer_id, "seller": seller_id}.get(actor)
            if party_id is not None and not own:
                party_id = "x9"  # a participant of another conversation
            party = Party(Actor(actor), party_id or (None if actor == "operator" else "staff1"))
            side = MAY_POST.get((actor, kind))
            visible = actor not in ("buyer", "seller") or own
            try:
                message = self.app.messaging.post(party, conversation_id, text, kind=kind)
            except TradeGuardError:
                assert side is None or not visible
                return
            assert side is not None
            assert visible
            assert message.sender_role.value == side
            self.log[conversation_id].append((side, kind, text))

        @rule(conversation_id=conversations)
        def checkpoint(self, conversation_id: str) -> None:
            made = self.app.messaging.checkpoint(conversation_id)
            head = len(self.log[conversation_id])
            if made is not None:
                assert made.seq == head

        @rule()
        def rotate(self) -> None:
            self.app.platform_keys.rotate()

        @precondition(lambda self: any(self.log.values()))
        @rule(data=st.data())
        def prove_a_range(self, data: st.DataObject) -> None:
            conversation_id = data.draw(st.sampled_from([c for c, m in self.log.items() if m]))
            head = len(self.log[conversation_id])
            first = data.draw(st.integers(1, head), label="from")
            last = data.draw(st.integers(first, head), label="to")
            proof = self.app.messaging.chain_proof(conversation_id, first, last).to_dict()
            assert verify_chain_proof(proof, self.app.platform_keys.public_keys()) == []
            shown = [(m["sender_role"], m["kind"], m["text"]) for m in proof["messages"]]
            assert shown == self.log[conversation_id][first - 1 : last]

        @invariant()
        def stored_log_matches_the_model_and_verifies(self) -> None:
            operator = Party(Actor.OPERATOR)
            for conversation_id, expected in self.log.items():
                stored = self.app.messaging.messages(operator, conversation_id, limit=500)
                assert [(m.sender_role.value, m.kind.value, m.text) for m in stored] == expected
                assert [m.seq for m in stored] == list(range(1, len(expected) + 1))
                assert self.app.messaging.verify(conversation_id) == []
                head = self.app.messaging.get(operator, conversation_id)
                assert head.head_seq - head.checkpointed_seq < EVERY

    return MessagingLog


def test_messaging_log_agrees_with_the_reference_model(database: Database) -> None:
    # given: a machine bound to this backend's database, reset for every example
    machine = _machine_for(database)
    # when / then
    run_state_machine_as_test(machine, settings=SETTINGS)
