"""The numbers of DESIGN.md §10, with their defaults."""

from __future__ import annotations

from pydantic import Field

from tradeguard.kernel.policytypes import Count, PolicySection


class MerchantPolicy(PolicySection):
    """Deposits and document uploads (DESIGN.md §10)."""

    deposit_currency: str = Field(default="CNY", description="The currency deposits are held in.")
    deposit_required_minor: Count = Field(
        default=100_000,
        description="The deposit a seller must hold for the trust badge, in minor units (default 1,000.00 CNY).",
    )
    document_max_bytes: Count = Field(
        default=20 * 1024 * 1024, description="Largest document upload."
    )
    document_types: tuple[str, ...] = Field(
        default=("application/pdf", "image/jpeg", "image/png"),
        description="Content types a verification document may have.",
    )
