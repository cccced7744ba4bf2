"""The operator's policy: every number of DESIGN.md in one typed object.

Each bounded context owns its section (``orders.policy.OrderPolicy`` ...); this
module composes them, loads a TOML file over a named preset, and refuses an
invalid file naming the offending key. Nothing in DESIGN.md is hard-coded: a
service reads its numbers from here.

    [orders]
    payment_window = "48h"
    platform_fee_bps = 300
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, ValidationError, field_validator

from tradeguard.access.policy import AccessPolicy
from tradeguard.aftersales.policy import AfterSalesPolicy
from tradeguard.blobs.policy import BlobPolicy
from tradeguard.disputes.policy import DisputePolicy
from tradeguard.events.policy import WebhookPolicy
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.periods import WorkingCalendar
from tradeguard.kernel.policytypes import PolicySection
from tradeguard.merchants.policy import MerchantPolicy
from tradeguard.messaging.policy import MessagingPolicy
from tradeguard.orders.policy import OrderPolicy, SettlementPolicy
from tradeguard.reputation.policy import ReputationPolicy
from tradeguard.reviews.policy import ReviewPolicy


class PolicyError(TradeGuardError):
    """The policy is invalid."""

    code = "invalid_policy"


class CalendarPolicy(PolicySection):
    """The holiday calendar that working-day deadlines and staff SLAs count on."""

    country: str = Field(
        default="CN", description="ISO 3166 country whose public holidays are not working days."
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="IANA zone in which working days begin and end."
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    def working_calendar(self) -> WorkingCalendar:
        """The calendar object services count working days on."""
        return WorkingCalendar(self.country, self.timezone)


class Policy(PolicySection):
    """Everything an operator may tune, with DESIGN.md's defaults."""

    preset: str = Field(default="default", description="The named preset this policy started from.")
    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    orders: OrderPolicy = Field(default_factory=OrderPolicy)
    settlement: SettlementPolicy = Field(default_factory=SettlementPolicy)
    webhooks: WebhookPolicy = Field(default_factory=WebhookPolicy)
    access: AccessPolicy = Field(default_factory=AccessPolicy)
    aftersales: AfterSalesPolicy = Field(default_factory=AfterSalesPolicy)
    disputes: DisputePolicy = Field(default_factory=DisputePolicy)
    messaging: MessagingPolicy = Field(default_factory=MessagingPolicy)
    blobs: BlobPolicy = Field(default_factory=BlobPolicy)
    reviews: ReviewPolicy = Field(default_factory=ReviewPolicy)
    reputation: ReputationPolicy = Field(default_factory=ReputationPolicy)
    merchants: MerchantPolicy = Field(default_factory=MerchantPolicy)


def preset_names() -> list[str]:
    """Names of the presets shipped with TradeGuard, ``default`` first."""
    names = sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files("tradeguard").joinpath("presets").iterdir()
        if entry.name.endswith(".toml")
    )
    return ["default", *[n for n in names if n != "default"]]


def _preset_data(name: str) -> dict[str, Any]:
    if name == "default":
        return {}
    resource = resources.files("tradeguard").joinpath("presets", f"{name}.toml")
    if not resource.is_file():
        raise PolicyError(
            f"Unknown policy preset {name!r}; choose one of: {', '.join(preset_names())}."
        )
    return tomllib.loads(resource.read_text(encoding="utf-8"))


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(f"{key}: {message}")
    return f"Invalid policy {source}: " + "; ".join(problems)


def build_policy(data: Mapping[str, Any], source: str = "data") -> Policy:
    """Validate a policy mapping; raise PolicyError naming every offending key."""
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyError(_describe(exc, source)) from None


def load_policy(file: Path | str | None = None, preset: str | None = None) -> Policy:
    """Return the policy: the preset (``default`` unless named), overridden by ``file`` if given."""
    preset_name = preset or "default"
    data = _merge({"preset": preset_name}, _preset_data(preset_name))
    source = f"preset {preset_name!r}"
    if file is not None:
        path = Path(file)
        try:
            override = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"Policy file {path} does not exist.") from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"Policy file {path} is not valid TOML: {exc}.") from None
        data = _merge(data, override)
        source = f"file {path}"
    return build_policy(data, source)
