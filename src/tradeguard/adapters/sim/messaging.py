"""Simulated chat: ordinary buyer–seller talk, shop auto-replies, and phishing "customer service".

Every day some of the day's new orders get a conversation: the buyer asks
(stock, size, shipping), the shop's bot auto-replies now and then, and the
seller answers. A few fake "customer service" accounts (seed 001) message
recent buyers with the scripts of the phishing quiz: the price was set too
high and the order must be re-placed through a link, the system failed and a
refund needs the card number and the SMS code, or "add me on WeChat". The scam
scan runs on every message, so the summary shows how many were flagged — and
whether any honest message was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradeguard.kernel.parties import OPERATOR, Party, buyer, seller
from tradeguard.messaging.model import Conversation, MessageKind
from tradeguard.orders.model import Order

if TYPE_CHECKING:  # the simulator imports this module for its default behaviours
    from tradeguard.adapters.sim.simulator import Simulator

#: What buyers ask before or after paying.
BUYER_LINES = (
    "请问这款还有货吗?",
    "今天付款今天能发货吗?",
    "我身高170体重60公斤,穿什么码合适?",
    "可以发顺丰吗?我补运费",
    "包裹显示已签收,但是我没收到,麻烦帮忙查一下",
    "Is the blue one still in stock?",
    "How long does shipping to Hangzhou usually take?",
    "Does it come with a charger?",
    "收到了,质量不错,谢谢老板",
    "能开发票吗?",
)
#: What honest sellers answer.
SELLER_LINES = (
    "有货的亲,今天下午四点前付款当天发货",
    "建议拍L码,偏小一码",
    "可以的,默认中通,顺丰需要补差价",
    "亲,我这边帮您联系快递查一下,稍等",
    "Yes, in stock, it ships tomorrow morning.",
    "Usually 2 to 3 days within Zhejiang.",
    "Yes, a USB-C charger is in the box.",
    "可以开电子发票,下单备注抬头就行",
    "收到有问题随时联系我们,支持七天无理由退货",
    "感谢亲的支持,欢迎下次光临",
)
AUTO_REPLIES = (
    "亲,欢迎光临本店,客服稍后回复您~",
    "Thanks for your message! We reply within 2 hours between 9:00 and 22:00.",
)
#: Seed 001's phishing scripts, in the fake customer service's words.
PHISHING_LINES = (
    "亲,您刚拍的宝贝价格标高了,这是改价后的链接 http://tb-gaijia.cn/item/{n} 请重新拍下,旧的交易会自动关闭",
    "您好,我是淘宝客服,您的订单系统异常,需要先退款,请打开 http://taobao-refund.top/{n} 填写信息",
    "您购买的商品质量有问题,可以给您赔偿退款,请点击链接登录,填写身份证号码和银行卡号",
    "退款需要验证,请把手机刚收到的验证码告诉我",
    "亲,加我微信 kf{n} 私聊,微信转账可以便宜50元",
    "Hello, this is AliExpress support. Your payment failed, please re-order via http://aliexpress-pay.shop/{n}",
    "Your refund is ready. To receive it, tell me the 6-digit code we just sent to your phone.",
)


@dataclass
class MessagingBehaviour:
    """Chat on a share of orders, and phishers messaging recent buyers (DESIGN.md §7, seed 001)."""

    name: str = "messaging"
    chat_share: float = 0.3  #: of the day's new orders, how many get a conversation
    phishers: int = 2  #: fake customer-service accounts
    phishing_per_day: int = 3  #: messages each phisher sends a day
    conversations: int = 0
    messages: int = 0
    auto_replies: int = 0
    phishing_sent: int = 0
    flagged: int = 0
    flagged_phishing: int = 0
    flagged_honest: int = 0
    _seen_orders: int = 0
    _recent_buyers: list[str] = field(default_factory=list)
    _chats: list[str] = field(default_factory=list)

    def setup(self, sim: Simulator) -> None:
        """Nothing to prepare: phishers are accounts without a shop, chats start with orders."""

    def on_arrived(self, sim: Simulator, order: Order, shopper: Any) -> bool:
        """Chat does not change what a buyer does with a parcel."""
        return False

    def daily(self, sim: Simulator, day: int) -> None:
        """Chat about some of the day's new orders, then the phishers strike."""
        new_orders = sim.order_ids[self._seen_orders :]
        self._seen_orders = len(sim.order_ids)
        for order_id in new_orders:
            if sim.rng.random() >= self.chat_share:
                continue
            order = sim.app.orders.get(order_id, OPERATOR).order
            self._recent_buyers.append(order.buyer_id)
            self._chat(sim, order)
        self._recent_buyers = self._recent_buyers[-200:]
        for n in range(self.phishers):
            for _ in range(self.phishing_per_day if self._recent_buyers else 0):
                self._phish(sim, f"sim-fake-kefu{n}", sim.rng.choice(self._recent_buyers))

    def summarise(self, sim: Simulator) -> dict[str, Any]:
        """Messages sent and flagged, and whether every chat log still verifies."""
        broken = sum(1 for cid in self._chats if sim.app.messaging.verify(cid))
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "auto_replies": self.auto_replies,
            "phishing_sent": self.phishing_sent,
            "flagged": self.flagged,
            "flagged_phishing": self.flagged_phishing,
            "flagged_honest": self.flagged_honest,
            "chains_broken": broken,
        }

    # -- acts ------------------------------------------------------------------------------------

    def _chat(self, sim: Simulator, order: Order) -> None:
        chat = sim.attempt(
            lambda: sim.app.messaging.start(
                OPERATOR, buyer_id=order.buyer_id, seller_id=order.seller_id, order_id=order.id
            )
        )
        if chat is None:
            return
        self.conversations += 1
        self._chats.append(chat.id)
        for _ in range(sim.rng.randint(1, 3)):
            self._send(sim, chat, buyer(order.buyer_id), sim.rng.choice(BUYER_LINES), honest=True)
            if sim.rng.random() < 0.3:
                self._send(
                    sim,
                    chat,
                    OPERATOR,
                    sim.rng.choice(AUTO_REPLIES),
                    honest=True,
                    kind=MessageKind.AUTO_REPLY,
                )
            self._send(
                sim, chat, seller(order.seller_id), sim.rng.choice(SELLER_LINES), honest=True
            )

    def _phish(self, sim: Simulator, phisher_id: str, victim_id: str) -> None:
        chat = sim.attempt(
            lambda: sim.app.messaging.start(OPERATOR, buyer_id=victim_id, seller_id=phisher_id)
        )
        if chat is None:
            return
        if chat.head_seq == 0:
            self.conversations += 1
            self._chats.append(chat.id)
        text = sim.rng.choice(PHISHING_LINES).format(n=sim.rng.randint(100, 999))
        self.phishing_sent += 1
        self._send(sim, chat, seller(phisher_id), text, honest=False)

    def _send(
        self,
        sim: Simulator,
        chat: Conversation,
        party: Party,
        text: str,
        *,
        honest: bool,
        kind: MessageKind = MessageKind.HUMAN,
    ) -> None:
        message = sim.attempt(lambda: sim.app.messaging.post(party, chat.id, text, kind=kind))
        if message is None:
            return
        self.messages += 1
        self.auto_replies += int(kind is MessageKind.AUTO_REPLY)
        if message.verdict.flagged:
            self.flagged += 1
            if honest:
                self.flagged_honest += 1
            else:
                self.flagged_phishing += 1
