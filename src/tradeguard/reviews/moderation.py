"""Moderation before publishing (DESIGN.md §8): mask personal data, hold insults, spam and links.

Masking is applied to every text a buyer or seller posts, so a phone number, a
Chinese resident ID number, an email address or a street address never reaches
the public page. Insults and spam are matched with one Aho-Corasick automaton
over the built-in zh/en term lists plus the operator's; a hit (or a link, when
the policy says so) holds the review for staff instead of refusing it, so the
buyer's rating is never silently lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
import phonenumbers

from tradeguard.reviews.model import ModerationFlag

MASK = "***"

#: Terms held as insults (zh and en). Deliberately short: operators extend it by policy.
INSULTS: tuple[str, ...] = (
    "傻逼", "傻b", "sb卖家", "垃圾卖家", "骗子", "滚蛋", "去死", "王八蛋", "狗东西", "脑残", "贱人",
    "idiot", "moron", "scammer", "bastard", "asshole", "stupid seller", "go to hell",
)  # fmt: skip
#: Terms held as spam: off-platform contact and paid-review offers.
SPAM: tuple[str, ...] = (
    "加微信", "加v", "加qq", "刷单", "返现", "好评返现", "代刷", "兼职日结", "私聊", "优惠券群",
    "add my wechat", "whatsapp me", "cashback for review", "click here", "free gift", "dm me",
)  # fmt: skip

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_LINK = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|cc|io|me|info|shop)\b(?:/\S*)?"
)
#: Chinese addresses: a run ending in a street (路/街/道/巷/弄) and a number (号), optionally a
#: building/room; and English street lines (number + name + street word).
_ADDRESS_ZH = re.compile(
    r"[\u4e00-\u9fa5A-Za-z0-9]{0,20}(?:省|市|区|县|镇)?[\u4e00-\u9fa5A-Za-z0-9]{1,15}(?:路|街|道|巷|弄)\d{1,5}号(?:[\u4e00-\u9fa5A-Za-z0-9-]{0,12}(?:栋|幢|楼|单元|室))*"
)
_ADDRESS_EN = re.compile(
    r"(?i)\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|drive|dr)\b\.?"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_chinese_id_number(value: str) -> bool:
    """True for an 18-character resident ID number whose check character matches (GB 11643-1999).

    >>> is_chinese_id_number("11010519491231002X")
    True
    >>> is_chinese_id_number("110105194912310021")
    False
    """
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


@dataclass(frozen=True, slots=True)
class Screening:
    """What moderation made of a text: the masked text and the reasons to hold it, if any."""

    text: str
    masked: tuple[str, ...]  #: kinds of personal data masked: phone, id_number, email, address
    flags: tuple[ModerationFlag, ...]

    @property
    def is_held(self) -> bool:
        """True when staff must look before it is published."""
        return bool(self.flags)


@lru_cache(maxsize=16)
def _automaton(insults: tuple[str, ...], spam: tuple[str, ...]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for flag, terms in ((ModerationFlag.INSULT, insults), (ModerationFlag.SPAM, spam)):
        for term in terms:
            automaton.add_word(term.lower(), flag.value)
    automaton.make_automaton()
    return automaton


def mask_personal_data(text: str, region: str = "CN") -> tuple[str, tuple[str, ...]]:
    """Replace phone numbers, ID numbers, emails and addresses with ``***``; say which kinds were found.

    >>> mask_personal_data("call 13812345678 or mail a.b@example.com")
    ('call *** or mail ***', ('phone', 'email'))
    """
    found: list[str] = []

    def sub(pattern: re.Pattern[str], kind: str, value: str, check: object = None) -> str:
        def replace(match: re.Match[str]) -> str:
            if check is not None and not check(match.group(0)):  # type: ignore[operator]
                return match.group(0)
            if kind not in found:
                found.append(kind)
            return MASK

        return pattern.sub(replace, value)

    # ID numbers first: their 18 digits would otherwise be read as a phone number.
    text = sub(_ID_CANDIDATE, "id_number", text, is_chinese_id_number)
    text = sub(_EMAIL, "email", text)
    spans = [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    ]
    if spans:
        found.insert(0 if "id_number" not in found else 1, "phone")
        for start, end in reversed(spans):
            text = text[:start] + MASK + text[end:]
    text = sub(_ADDRESS_ZH, "address", text)
    text = sub(_ADDRESS_EN, "address", text)
    return text, tuple(found)


def screen(
    text: str,
    *,
    hold_links: bool = True,
    extra_insults: Iterable[str] = (),
    extra_spam: Iterable[str] = (),
    region: str = "CN",
) -> Screening:
    """Mask personal data, then look for insults, spam and links (DESIGN.md §8).

    >>> screen("质量很好，加微信返现").flags
    (<ModerationFlag.SPAM: 'spam'>,)
    >>> screen("good seller").is_held
    False
    """
    masked_text, masked = mask_personal_data(text, region)
    automaton = _automaton((*INSULTS, *extra_insults), (*SPAM, *extra_spam))
    flags: list[ModerationFlag] = []
    lowered = masked_text.lower()
    if len(automaton):
        for _, kind in automaton.iter(lowered):
            flag = ModerationFlag(kind)
            if flag not in flags:
                flags.append(flag)
    if hold_links and _LINK.search(masked_text):
        flags.append(ModerationFlag.LINK)
    order = list(ModerationFlag)
    return Screening(masked_text, masked, tuple(sorted(flags, key=order.index)))
