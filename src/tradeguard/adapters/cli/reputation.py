"""Reputation commands: recompute every seller's figures, show one seller, check a credit code."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from tradeguard.adapters.cli.common import DbOption, PolicyOption, cli, guarded, open_app, out
from tradeguard.merchants.validators import validate_registration

reputation_cli = typer.Typer(
    help="Seller reputation (DESIGN.md §9) and merchant checks (§10).", no_args_is_help=True
)
cli.add_typer(reputation_cli, name="reputation")


@reputation_cli.command("recompute")
def recompute(db: DbOption = None, policy: PolicyOption = None) -> None:
    """Rebuild every seller's figures from the reviews (SQL), one range of sellers at a time."""

    def run() -> None:
        app = open_app(db, policy)
        try:
            started = time.perf_counter()
            sellers = app.reputation.recompute()
            out.print(f"recomputed {sellers} seller(s) in {time.perf_counter() - started:.1f} s")
        finally:
            app.close()

    guarded(run)


@reputation_cli.command("seller")
def seller(
    seller_id: Annotated[str, typer.Argument(help="The seller to show.")],
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """A seller's public figures and trust badge, as JSON."""

    def run() -> None:
        app = open_app(db, policy)
        try:
            figures = app.reputation.figures(seller_id)
            badge = app.reputation.trust_badge(seller_id)
        finally:
            app.close()
        data = {
            "seller_id": figures.seller_id,
            "points": figures.points,
            "level": figures.level,
            "positive": figures.positive,
            "neutral": figures.neutral,
            "negative": figures.negative,
            "positive_rate_short_bps": figures.positive_rate_short_bps,
            "positive_rate_long_bps": figures.positive_rate_long_bps,
            "ranking_score": figures.ranking_score,
            "trust_badge": badge.granted,
            "badge_missing": list(badge.missing),
        }
        out.print_json(json.dumps(data))

    guarded(run)


@reputation_cli.command("check-code")
def check_code(
    number: Annotated[str, typer.Argument(help="The registration number.")],
    country: Annotated[str, typer.Option(help="ISO 3166 country of the validator.")] = "CN",
) -> None:
    """Check a business registration number (China: the GB 32100-2015 check character)."""
    guarded(lambda: out.print(f"valid: {validate_registration(country, number)}"))
