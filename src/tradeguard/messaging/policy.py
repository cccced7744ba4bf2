"""The numbers of DESIGN.md §7: checkpoint cadence, message limits, the scam scan's allowlist."""

from __future__ import annotations

from pydantic import Field

from tradeguard.kernel.policytypes import PolicySection

#: The marketplaces of the seeds; an operator lists its own domains in ``[messaging.scan]``.
DEFAULT_ALLOWED_DOMAINS = (
    "taobao.com",
    "tmall.com",
    "alipay.com",
    "aliexpress.com",
    "alibaba.com",
    "1688.com",
    "youzan.com",
)


class ScanPolicy(PolicySection):
    """The scam scan of every message (DESIGN.md §7)."""

    allowed_domains: tuple[str, ...] = Field(
        default=DEFAULT_ALLOWED_DOMAINS,
        description="Registrable domains whose links are the marketplace's own (subdomains included).",
    )
    lookalike_max_edits: int = Field(
        default=2,
        ge=0,
        le=4,
        strict=True,
        description="A domain this many character edits or fewer from an allowed one is a look-alike.",
    )


class MessagingPolicy(PolicySection):
    """Conversations, the hash chain's checkpoints, message limits and the scam scan."""

    checkpoint_every: int = Field(
        default=20,
        ge=1,
        strict=True,
        description="Sign a checkpoint of a conversation's head after this many new messages.",
    )
    max_text_chars: int = Field(
        default=2000, ge=1, strict=True, description="Longest message text, in characters."
    )
    max_attachments: int = Field(
        default=9, ge=0, strict=True, description="Most attachments on one message."
    )
    scan: ScanPolicy = Field(default_factory=ScanPolicy)
