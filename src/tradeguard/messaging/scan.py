"""The scam scan of every message, in Chinese and English (DESIGN.md §7, seed 001).

Seed 001's phishing quiz lists the tricks: a fake "customer service" says the
price was set too high and sends a link to re-order; another says the system
failed and the refund needs a link, a bank card and the SMS verification code;
others move the buyer to WeChat or QQ to pay off the platform. Each trick has a
rule here, and each rule that fires adds a stable reason code to the verdict:

=========================== ==================================================================
reason                      fires on
=========================== ==================================================================
``link_outside_allowlist``  a link or bare domain not under the marketplace's allowed domains
``lookalike_domain``        a domain made to pass for an allowed one: homoglyphs (Cyrillic ``а``),
                            punycode, digits for letters, a few edits (``taoboa``), or an
                            allowed name dressed up (``taobao-refund.cn``, ``taobao.com.x.cn``)
``verification_code``       asking for a verification/SMS code (not warnings *never* to share one)
``card_number``             a Luhn-valid payment card number (not order or tracking numbers)
``bank_details``            asking for a bank card number, card password, CVV or ID number
``off_platform_payment``    paying by transfer, QR code or gift card outside the platform
``off_platform_contact``    moving the chat to WeChat, QQ, WhatsApp, Telegram…
``reorder_link``            "the price was wrong / changed — re-order through this link"
``refund_link``             "system error / compensation — get your refund through this link"
``advance_fee``             "pay a fee / deposit / duty first" to unfreeze, ship or collect a prize
``impersonates_platform``   a buyer or seller saying they are the platform's customer service
=========================== ==================================================================

Terms are matched with one Aho–Corasick automaton over the text with spaces and
separators removed (so ``验 证 码`` and ``v.x`` still match), after NFKC
folding (full-width letters and digits become ASCII).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Final

import ahocorasick
import idna
import tldextract
from confusable_homoglyphs import confusables
from rapidfuzz.distance import Levenshtein

from tradeguard.messaging.model import ScanVerdict
from tradeguard.messaging.policy import ScanPolicy


class Reason(StrEnum):
    """Why a message was flagged; the values are the stable codes of verdicts."""

    LINK_OUTSIDE_ALLOWLIST = "link_outside_allowlist"
    LOOKALIKE_DOMAIN = "lookalike_domain"
    VERIFICATION_CODE = "verification_code"
    CARD_NUMBER = "card_number"
    BANK_DETAILS = "bank_details"
    OFF_PLATFORM_PAYMENT = "off_platform_payment"
    OFF_PLATFORM_CONTACT = "off_platform_contact"
    REORDER_LINK = "reorder_link"
    REFUND_LINK = "refund_link"
    ADVANCE_FEE = "advance_fee"
    IMPERSONATES_PLATFORM = "impersonates_platform"


#: What the recipient of a flagged message is told, in English and Chinese, per reason.
# fmt: off
NOTICES: Final[dict[Reason, tuple[str, str]]] = {
    Reason.LINK_OUTSIDE_ALLOWLIST: ("This message links outside the marketplace.", "此消息包含站外链接。"),
    Reason.LOOKALIKE_DOMAIN:       ("The link imitates the marketplace's address.", "链接冒充平台网址。"),
    Reason.VERIFICATION_CODE:      ("It asks for a verification code: never share one.", "对方索要验证码:切勿告诉任何人。"),
    Reason.CARD_NUMBER:            ("It contains a bank card number.", "消息中含有银行卡号。"),
    Reason.BANK_DETAILS:           ("It asks for card, password or ID details.", "对方索要银行卡、密码或身份证信息。"),
    Reason.OFF_PLATFORM_PAYMENT:   ("It asks you to pay outside the platform.", "对方要求站外付款。"),
    Reason.OFF_PLATFORM_CONTACT:   ("It moves the talk outside the platform.", "对方要求站外联系。"),
    Reason.REORDER_LINK:           ("\"Price changed, re-order via this link\" is a known scam.", "\"改价后重新拍下\"是常见骗局。"),
    Reason.REFUND_LINK:            ("Refunds never need a link, card details or a code.", "退款无需点链接、提供卡号或验证码。"),
    Reason.ADVANCE_FEE:            ("It asks for a fee before paying or shipping.", "对方要求先交费用。"),
    Reason.IMPERSONATES_PLATFORM:  ("The sender claims to be platform staff.", "对方自称平台客服。"),
}
# fmt: on


def notices(reasons: Iterable[str]) -> tuple[list[str], list[str]]:
    """The recipient's warning sentences (English, Chinese) for a verdict's reason codes.

    >>> notices(["verification_code"])[0]
    ['It asks for a verification code: never share one.']
    """
    chosen = [NOTICES[Reason(r)] for r in reasons]
    return [en for en, _ in chosen], [zh for _, zh in chosen]


class Term(StrEnum):
    """Groups of phrases the rules combine."""

    CODE = "code"  #: a verification code
    ASK = "ask"  #: a request to hand something over
    NEGATION = "negation"  #: "never", "don't" — warnings, not requests
    BANK = "bank"  #: bank card number, card password, CVV, ID number
    PAY_OFF = "pay_off"  #: paying outside the platform
    CONTACT_OFF = "contact_off"  #: talking outside the platform
    LINK_WORD = "link_word"  #: "link", "链接", "QR code": a link is offered even without a URL
    REORDER = "reorder"  #: price wrong / changed, re-order
    ANOMALY = "anomaly"  #: system error, order abnormal, account frozen, payment failed
    REFUND = "refund"  #: refund, compensation, claim
    PLATFORM_STAFF = "platform_staff"  #: "Taobao customer service"
    SELF = "self"  #: "I am", "this is": the speaker names who they are
    FEE_FIRST = "fee_first"  #: a fee to pay before money or goods are released
    NUMBER_CONTEXT = "number_context"  #: order/tracking number: the digits after are no card


# fmt: off
TERMS: Final[dict[Term, tuple[str, ...]]] = {
    Term.CODE: (
        "验证码", "校验码", "动态码", "动态密码", "短信码", "手机码", "提款码", "确认码",
        "verificationcode", "verifycode", "otp", "onetimecode", "one-timecode", "smscode",
        "securitycode", "6-digitcode", "6digitcode", "authcode", "confirmationcode",
        "codefromthesms", "codeyoureceived", "codeyoujustreceived", "codewesent", "smsverification",
    ),
    Term.ASK: (
        "告诉", "发给", "发我", "发一下", "报一下", "报给", "念一下", "提供", "填写", "填一下",
        "输入", "截图给", "给我", "回复", "需要您", "需要你", "请把", "麻烦您",
        "send", "tell", "share", "give", "provide", "readout", "readme", "forward", "enter",
        "typein", "replywith", "whatis", "ineed", "weneed",
    ),
    Term.NEGATION: (
        "不要", "切勿", "请勿", "别把", "别告诉", "千万别", "不会", "从不", "没有", "绝不", "谨防",
        "不让",
        "never", "don't", "dont", "donot", "willnot", "won't", "noone", "nobody", "beware",
    ),
    Term.BANK: (
        "银行卡号", "卡号", "银行卡密码", "取款密码", "支付密码", "cvv", "安全码", "身份证号",
        "身份证号码", "有效期", "cardnumber", "cardno", "bankcard", "bankaccountnumber",
        "pin", "cardpassword", "idnumber", "expirydate",
    ),
    Term.PAY_OFF: (
        "微信转账", "支付宝转账", "转账给我", "转账到", "转到我", "银行转账", "直接打款", "打款到",
        "私下交易", "线下交易", "不走平台", "绕过平台", "扫码付款", "扫码支付", "扫二维码付",
        "二维码付款", "加微信付款", "当面交易", "红包付款", "发红包",
        "banktransfer", "wiretransfer", "westernunion", "moneygram", "giftcard", "paypalfriends",
        "friendsandfamily", "payoutside", "outsidetheplatform", "offplatform", "off-platform",
        "paymedirectly", "paydirectly", "transferto", "transferittome", "sendittome",
        "cryptowallet", "usdt", "bitcoin",
    ),
    Term.CONTACT_OFF: (
        "加微信", "加我微信", "加v", "加vx", "加qq", "加我qq", "加扣扣", "微信号", "qq号", "vx号",
        "v信", "威信", "薇信", "微♥", "加好友私聊", "私聊", "加群", "客服qq", "客服微信",
        "whatsapp", "telegram", "wechat", "addmeon", "contactmeon", "textmeon", "lineid",
        "signal", "messageme", "dmme",
    ),
    Term.LINK_WORD: (
        "链接", "连接", "网址", "网站", "二维码", "点开", "打开这个",
        "link", "url", "website", "qrcode", "clickhere", "clickthis",
    ),
    Term.REORDER: (
        "价格标高", "价格标错", "标错价", "标高了", "价格错误", "价格有误", "改价后", "降价了",
        "重新拍", "重新下单", "重拍", "重新购买", "旧的交易", "原订单将", "自动关闭",
        "pricewaswrong", "wrongprice", "pricechanged", "pricingerror", "priceerror",
        "re-order", "reorder", "ordeagain", "orderagain", "placetheorderagain", "buyagain",
        "newlink", "cheaperlink",
    ),
    Term.ANOMALY: (
        "系统异常", "系统错误", "系统故障", "系统升级", "订单异常", "交易异常", "支付失败",
        "未支付成功", "付款失败", "卡单", "冻结", "掉单", "订单失效", "激活", "解冻",
        "systemerror", "systemfailure", "ordererror", "orderabnormal", "paymentfailed",
        "paymentdidnotgothrough", "accountfrozen", "frozen", "glitch", "technicalerror",
        "unfreeze",
    ),
    Term.REFUND: (
        "退款", "理赔", "赔偿", "补偿", "退钱", "返还", "退回", "退给", "赔付", "退费",
        "refund", "compensation", "compensate", "reimburse", "claimyour", "claimthe", "moneyback",
    ),
    Term.PLATFORM_STAFF: (
        "淘宝客服", "天猫客服", "官方客服", "平台客服", "支付宝客服", "阿里客服",
        "淘宝官方", "平台工作人员", "customerservicefromtaobao", "taobaosupport",
        "platformsupport", "officialsupport", "officialcustomerservice", "aliexpresssupport",
        "platformstaff",
    ),
    Term.SELF: (
        "我是", "我们是", "这里是", "本人是", "i am", "i'm", "this is", "we are", "calling from",
    ),
    Term.FEE_FIRST: (
        "先交", "先充值", "补缴", "解冻费", "激活费", "交税", "缴纳保证金", "先支付手续费",
        "需支付手续费", "paythefeefirst", "payafee", "smallfee", "depositisdue", "paytheduty",
        "payshippingfirst", "paytheshippingfeefirst", "unlockfee", "releasefee",
    ),
    Term.NUMBER_CONTEXT: (
        "订单号", "订单编号", "单号", "运单", "快递单", "物流单", "order", "tracking", "waybill",
        "parcel", "invoice", "编号",
    ),
}
# fmt: on

#: Characters removed before matching terms, so "验 证 码", "v.x" and "加-微-信" still match.
_SEPARATORS = re.compile(r"[\s._\-*·|/\\~'\"“”‘’()（）\[\]【】<>《》+]+")
#: Clause punctuation, kept as one mark: a "don't" in one clause does not negate the next.
_CLAUSES = re.compile(r"[,，、。:：;；!！?？]+")
_CLAUSE_MARK = "\x1f"
#: A URL with a scheme or ``www.``, or a bare host name: labels of letters (any script used in
#: look-alikes), digits and hyphens joined by dots. CJK characters end a host.
_HOST_CHARS = "a-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_LINK = re.compile(
    rf"(?:(?:https?|hxxps?)://|www\.)?((?:[{_HOST_CHARS}](?:[{_HOST_CHARS}-]{{0,61}}[{_HOST_CHARS}])?\.)+"
    rf"(?:[a-z\u0370-\u03ff\u0400-\u04ff]{{2,24}}|xn--[a-z0-9-]{{2,59}}))(?![{_HOST_CHARS}])",
    re.IGNORECASE,
)
#: Dots written as 。．[.] (.) or " dot " to slip a domain past naive filters.
_DOT_DISGUISES = re.compile(r"\s*(?:。|．|｡|\[\.\]|\(\.\)|\[dot\]|\(dot\)|\s+dot\s+)\s*", re.I)
_DIGIT_RUN = re.compile(r"(?<![0-9a-z])(?:\d[ -]?){12,18}\d(?![0-9a-z])", re.I)
#: Look-alike spellings with digits: ta0bao, tma1l, a1ipay.
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
#: Card issuer prefixes (IIN): Visa, Mastercard, Amex, UnionPay, JCB, Discover.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|62|35|6011|65)")
_NEAR = 40  #: a negation this many characters before a term, in the same clause, cancels it
_SELF_NEAR = 14  #: "I am … support": how far the self-introduction may precede the staff term


@dataclass(frozen=True, slots=True)
class _Hit:
    term: Term
    start: int
    end: int
    negated: bool = False


def _squeeze(text: str) -> str:
    return _CLAUSES.sub("", _SEPARATORS.sub("", text))


def _is_negated(hit: _Hit, negations: Sequence[_Hit], squeezed: str) -> bool:
    """A negation shortly before the term, in the same clause ("never share the code")."""
    return any(
        n.start < hit.start
        and hit.start - n.start <= _NEAR
        and _CLAUSE_MARK not in squeezed[n.end : hit.start]
        for n in negations
    )


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` pass the Luhn checksum that payment card numbers carry.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalize(text: str) -> str:
    """NFKC-fold and lower-case a message (full-width ``ＷＷＷ`` becomes ``www``).

    >>> normalize("ＡＢＣ１２３")
    'abc123'
    """
    return unicodedata.normalize("NFKC", text).casefold()


class ScamScanner:
    """Scans messages for the phishing and off-platform tricks of DESIGN.md §7.

    Build one per policy and reuse it: the term automaton and the domain parser
    are built once.
    """

    def __init__(self, policy: ScanPolicy | None = None) -> None:
        self._policy = policy or ScanPolicy()
        self._allowed = tuple(d.lower().strip(".") for d in self._policy.allowed_domains)
        # The bundled public-suffix snapshot: no network access at run time.
        self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        self._brands = tuple(
            {self._extract(d).domain for d in self._allowed if self._extract(d).domain}
        )

    @cached_property
    def _automaton(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[Term]] = {}
        for term, phrases in TERMS.items():
            for phrase in phrases:
                entries.setdefault(_squeeze(normalize(phrase)), []).append(term)
        for key, terms in entries.items():
            automaton.add_word(key, (len(key), tuple(terms)))
        automaton.make_automaton()
        return automaton

    def scan(self, text: str, sender_role: str | None = None) -> ScanVerdict:
        """Judge one message; ``sender_role`` (buyer/seller/platform) refines impersonation.

        >>> ScamScanner().scan("亲,宝贝价格标高了,点这个链接重新拍下,旧的交易会自动关闭").reasons
        ('reorder_link',)
        >>> ScamScanner().scan("Thanks, the parcel arrived in good condition!").flagged
        False
        """
        folded = normalize(text)
        hits = self._hits(folded)
        found = {hit.term for hit in hits}
        reasons: set[Reason] = set()
        outside, lookalike = self._domains(folded)
        if outside:
            reasons.add(Reason.LINK_OUTSIDE_ALLOWLIST)
        if lookalike:
            reasons.add(Reason.LOOKALIKE_DOMAIN)
        offers_link = bool(outside) or self._unnegated(hits, Term.LINK_WORD)
        if self._requested(hits, Term.CODE):
            reasons.add(Reason.VERIFICATION_CODE)
        if self._requested(hits, Term.BANK):
            reasons.add(Reason.BANK_DETAILS)
        if self._has_card_number(folded, hits):
            reasons.add(Reason.CARD_NUMBER)
        if self._unnegated(hits, Term.PAY_OFF):
            reasons.add(Reason.OFF_PLATFORM_PAYMENT)
        if self._unnegated(hits, Term.CONTACT_OFF):
            reasons.add(Reason.OFF_PLATFORM_CONTACT)
        if Term.REORDER in found and offers_link:
            reasons.add(Reason.REORDER_LINK)
        if (Term.REFUND in found or Term.ANOMALY in found) and (
            offers_link
            or Reason.VERIFICATION_CODE in reasons
            or Reason.BANK_DETAILS in reasons
            or (Term.ANOMALY in found and Term.REFUND in found and Term.ASK in found)
        ):
            reasons.add(Reason.REFUND_LINK)
        if self._unnegated(hits, Term.FEE_FIRST):
            reasons.add(Reason.ADVANCE_FEE)
        if sender_role != "platform" and self._claims_to_be_staff(hits):
            reasons.add(Reason.IMPERSONATES_PLATFORM)
        ordered = tuple(r.value for r in Reason if r in reasons)
        return ScanVerdict(bool(ordered), ordered)

    def scan_many(self, texts: Iterable[tuple[str, str | None]]) -> list[ScanVerdict]:
        """Judge many ``(text, sender_role)`` pairs."""
        return [self.scan(text, role) for text, role in texts]

    # -- terms -----------------------------------------------------------------------------------

    def _hits(self, folded: str) -> list[_Hit]:
        squeezed = _CLAUSES.sub(_CLAUSE_MARK, _SEPARATORS.sub("", folded))
        found: list[_Hit] = []
        for end, (length, terms) in self._automaton.iter(squeezed):
            found.extend(_Hit(term, end - length + 1, end + 1) for term in terms)
        negations = [h for h in found if h.term is Term.NEGATION]
        return [_Hit(h.term, h.start, h.end, _is_negated(h, negations, squeezed)) for h in found]

    @staticmethod
    def _unnegated(hits: Sequence[_Hit], term: Term) -> bool:
        return any(h.term is term and not h.negated for h in hits)

    def _requested(self, hits: Sequence[_Hit], term: Term) -> bool:
        """A request for ``term``: it appears with an ask, and neither is negated."""
        return self._unnegated(hits, term) and self._unnegated(hits, Term.ASK)

    @staticmethod
    def _claims_to_be_staff(hits: Sequence[_Hit]) -> bool:
        """True when the speaker says they are platform staff ("我是淘宝客服"), not when they mention it."""
        selves = [h for h in hits if h.term is Term.SELF]
        # "我是淘宝客服", "I am AliExpress official support", or a message that opens with the
        # title ("官方客服:…", "Official support here").
        return any(
            h.term is Term.PLATFORM_STAFF
            and not h.negated
            and (h.start <= 2 or any(0 <= h.start - s.end <= _SELF_NEAR for s in selves))
            for h in hits
        )

    # -- card numbers ----------------------------------------------------------------------------

    def _has_card_number(self, folded: str, hits: Sequence[_Hit]) -> bool:
        for match in _DIGIT_RUN.finditer(folded):
            digits = re.sub(r"\D", "", match.group())
            if not 15 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits):
                continue
            if not luhn_valid(digits):
                continue
            # "订单号 1234…" / "tracking 1234…": the digits name an order or a parcel.
            before = _squeeze(folded[max(0, match.start() - 16) : match.start()])
            labelled = any(
                _squeeze(normalize(p)) in before[-10:] for p in TERMS[Term.NUMBER_CONTEXT]
            )
            if not labelled:
                return True
        return False

    # -- domains ---------------------------------------------------------------------------------

    def _domains(self, folded: str) -> tuple[list[str], list[str]]:
        """Hosts linked outside the allowlist, and those of them made to look like allowed ones."""
        undisguised = _DOT_DISGUISES.sub(".", folded)
        outside: list[str] = []
        lookalike: list[str] = []
        for match in _LINK.finditer(undisguised):
            host = match.group(1).lower().strip(".")
            parts = self._extract(host)
            registered = f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else ""
            if not registered:
                continue
            if self._is_allowed(registered):
                continue
            outside.append(host)
            if self._looks_alike(parts.subdomain, parts.domain):
                lookalike.append(host)
        return outside, lookalike

    def _is_allowed(self, registered: str) -> bool:
        return registered in self._allowed

    def _looks_alike(self, subdomain: str, label: str) -> bool:
        skeleton = _skeleton(label)
        max_edits = self._policy.lookalike_max_edits
        for brand in self._brands:
            if _visual(skeleton) == _visual(brand):
                return True
            # An allowed name dressed up: taobao-refund.cn, taobao.com.refund-center.cn.
            if len(brand) >= 4 and (brand in skeleton or brand in _skeleton(subdomain)):
                return True
            if _near(skeleton, brand, max_edits if len(brand) >= 6 else min(1, max_edits)):
                return True
        return False


def _visual(label: str) -> str:
    """Fold letter pairs that read alike in a URL bar: ``rn``/``m``, ``vv``/``w``, ``i``/``l``.

    >>> _visual("tmaii") == _visual("tmall"), _visual("rnall") == _visual("mall")
    (True, True)
    """
    return label.replace("rn", "m").replace("vv", "w").replace("i", "l")


def _near(candidate: str, brand: str, max_edits: int) -> bool:
    return (
        max_edits > 0
        and abs(len(candidate) - len(brand)) <= max_edits
        and Levenshtein.distance(candidate, brand, score_cutoff=max_edits) <= max_edits
    )


def _skeleton(label: str) -> str:
    """What a label looks like in plain ASCII: punycode decoded, homoglyphs and digits mapped.

    >>> _skeleton("tаobao"), _skeleton("ta0bao"), _skeleton("xn--tobao-2of")
    ('taobao', 'taobao', 'taobao')
    """
    if not label:
        return ""
    text = label
    if "xn--" in text:
        try:
            text = idna.decode(text)
        except idna.IDNAError:
            text = text.replace("xn--", "")
    # Strip accents first (ä -> a), then map what is left to its ASCII look-alike (Cyrillic а -> a).
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"]) or []
        ascii_glyph = next(
            (
                g["c"]
                for item in found
                for g in item.get("homoglyphs", [])
                if g["c"].isascii() and g["c"].isalnum()
            ),
            char,
        )
        out.append(ascii_glyph.lower())
    return "".join(out).translate(_LEET)
