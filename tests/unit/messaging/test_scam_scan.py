"""The scam scan of DESIGN.md §7, on the phishing tricks of seed 001 and ordinary trade talk."""

from __future__ import annotations

import pytest

from tradeguard.messaging.policy import ScanPolicy
from tradeguard.messaging.scan import Reason, ScamScanner, luhn_valid

SCANNER = ScamScanner()


def _reasons(text: str, role: str | None = None) -> set[str]:
    return set(SCANNER.scan(text, role).reasons)


# -- seed 001's phishing quiz and cases, and their English twins ---------------------------------


def test_price_changed_reorder_through_this_link_is_flagged() -> None:
    # seed 001 quiz: "宝贝价格标高了 … 发给你一个链接 … 让你重新拍下,旧的交易将会自动关闭"
    text = "亲,我们的宝贝价格标高了,这是改价后的商品链接,请您重新拍下,旧的交易将会自动关闭"
    assert Reason.REORDER_LINK in _reasons(text, "seller")


def test_price_changed_reorder_in_english_is_flagged() -> None:
    text = "Sorry, there was a pricing error. Please re-order via this new link: http://cheap-taobao.shop/item/88"
    assert {
        Reason.REORDER_LINK,
        Reason.LINK_OUTSIDE_ALLOWLIST,
        Reason.LOOKALIKE_DOMAIN,
    } <= _reasons(text)


def test_system_error_refund_through_this_link_is_flagged() -> None:
    # seed 001 case 9: "以系统异常,需先退单再重新购买" with a phishing link
    text = "您好,我是淘宝客服,您的订单系统异常,需要先退款,请打开 http://tb-refund.top/claim 填写退款信息"
    reasons = _reasons(text, "seller")
    assert {
        Reason.REFUND_LINK,
        Reason.LINK_OUTSIDE_ALLOWLIST,
        Reason.IMPERSONATES_PLATFORM,
    } <= reasons


def test_quality_compensation_link_asking_for_card_and_id_is_flagged() -> None:
    # seed 001 quiz 2: "货物质量有问题,可以赔偿退款 … 发给你一个链接,让你登录填写身份及银行卡信息"
    text = "您购买的商品质量有问题,可以给您赔偿退款,请点击链接登录,填写身份证号码和银行卡号"
    assert {Reason.REFUND_LINK, Reason.BANK_DETAILS} <= _reasons(text)


def test_request_for_the_verification_code_is_flagged() -> None:
    # seed 001 case 2: "将银行卡账户信息,身份证件信息,以及消费验证码告诉卖方"
    assert Reason.VERIFICATION_CODE in _reasons("退款需要验证,请把手机刚收到的验证码告诉我")
    assert Reason.VERIFICATION_CODE in _reasons("请把 验 证 码 发 我 一 下")
    assert Reason.VERIFICATION_CODE in _reasons(
        "Please send me the 6-digit code we just texted you"
    )
    assert Reason.VERIFICATION_CODE in _reasons(
        "To finish the refund, tell me the OTP on your phone"
    )


def test_frozen_account_needing_a_code_is_a_refund_scam() -> None:
    # seed 001 quiz 6: "支付宝系统冻结要退钱给钱某,需要钱某的银行卡号和验证码"
    text = "您的支付宝系统冻结了,要把钱退给您,需要您的银行卡号和验证码"
    assert {Reason.REFUND_LINK, Reason.BANK_DETAILS, Reason.VERIFICATION_CODE} <= _reasons(text)


def test_card_number_in_a_message_is_flagged() -> None:
    assert Reason.CARD_NUMBER in _reasons("我的卡是 6222 0212 3456 7894,你转过来")
    assert Reason.CARD_NUMBER in _reasons("card: 4111-1111-1111-1111 exp 12/28")


def test_off_platform_payment_and_contact_are_flagged() -> None:
    assert {Reason.OFF_PLATFORM_PAYMENT, Reason.OFF_PLATFORM_CONTACT} <= _reasons(
        "加我微信 tb8899 私聊,直接微信转账给我可以便宜50"
    )
    assert Reason.OFF_PLATFORM_CONTACT in _reasons("加v:abc123 发你优惠券")
    assert Reason.OFF_PLATFORM_PAYMENT in _reasons(
        "Pay me directly by bank transfer and I'll knock 10% off"
    )
    assert Reason.OFF_PLATFORM_CONTACT in _reasons(
        "Add me on WhatsApp +1 555 0100 for a better deal"
    )


@pytest.mark.parametrize(
    "domain",
    [
        "taobao-refund.cn",  # an allowed name dressed up
        "taobao.com.refund-center.cn",  # the allowed name as a subdomain
        "ta0bao.com",  # a digit for a letter
        "taoboa.com",  # two letters swapped
        "tаobao.com",  # Cyrillic а
        "xn--tobao-2of.com",  # punycode of an accented look-alike
        "tmaII.com",  # capital I for l
        "a1ipay.com",
    ],
)
def test_lookalike_domains_are_flagged(domain: str) -> None:
    reasons = _reasons(f"请登录 {domain} 处理")
    assert {Reason.LINK_OUTSIDE_ALLOWLIST, Reason.LOOKALIKE_DOMAIN} <= reasons


def test_disguised_dots_do_not_hide_a_domain() -> None:
    assert Reason.LINK_OUTSIDE_ALLOWLIST in _reasons("打开 tb-kefu。com 领取退款")
    assert Reason.LINK_OUTSIDE_ALLOWLIST in _reasons("visit refund-help[.]net now")


def test_buyer_posing_as_platform_staff_is_flagged_but_the_platform_is_not() -> None:
    text = "我是平台客服,你的店铺被投诉了"
    assert Reason.IMPERSONATES_PLATFORM in _reasons(text, "buyer")
    assert Reason.IMPERSONATES_PLATFORM not in _reasons(text, "platform")


# -- honest trade talk that must not be flagged --------------------------------------------------

HONEST = [
    "亲,在的,请问有什么可以帮您?",
    "这款有M码吗?我身高165,体重50公斤",
    "今天下午四点前付款当天发货,默认中通快递",
    "快递单号 773012345678901,预计明天到",
    "订单号 2871234567890123456 已经帮您备注了",
    "我已经给您改价了,直接付款就可以",
    "收到货有质量问题可以申请七天无理由退货,运费险会赔付",
    "温馨提示:平台客服不会索要验证码,千万不要把验证码告诉任何人",
    "请在订单页面点击申请退款,我这边马上同意",
    "退款已经处理了,1-3个工作日原路退回",
    "宝贝链接:https://item.taobao.com/item.htm?id=612345",
    "可以看下我们店铺首页 https://shop123.tmall.com 有更多款式",
    "Hi! Yes, the blue one is in stock. It ships tomorrow.",
    "Thanks, the parcel arrived in good condition, 5 stars!",
    "Your refund has been processed; it should reach your card in 3-5 business days.",
    "Never share your verification code with anyone, including us.",
    "The item weighs 3.5kg and measures 40x30x20 cm.",
    "Can you send a photo of the damaged box? I'll arrange a replacement.",
    "I've left a note on the order to pack it with extra bubble wrap.",
    "亲,包裹显示已签收,如果没收到请联系快递员",
    "可以申请小二介入,我们会提供发货凭证",
    "支持花呗分期,下单时选择就可以",
]


@pytest.mark.parametrize("text", HONEST)
def test_ordinary_trade_talk_is_not_flagged(text: str) -> None:
    verdict = SCANNER.scan(text, "seller")
    assert not verdict.flagged, verdict.reasons


def test_operator_allowlist_comes_from_policy() -> None:
    scanner = ScamScanner(ScanPolicy(allowed_domains=("example-market.com",)))
    assert not scanner.scan("see https://www.example-market.com/item/1").flagged
    assert scanner.scan("see https://item.taobao.com/item.htm").flagged


def test_verdict_reasons_are_in_a_stable_order() -> None:
    verdict = SCANNER.scan("加微信转账,验证码发我")
    assert list(verdict.reasons) == sorted(verdict.reasons, key=list(Reason).index)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("6222021234567894", True), ("6222021234567890", False)],
)
def test_luhn_checksum(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid
