"""``tradeguard``: run, check and simulate TradeGuard from the shell.

The commands live in one module per area; importing them registers them on the
Typer app defined in :mod:`tradeguard.adapters.cli.common`.
"""

from __future__ import annotations

import sys

from tradeguard.adapters.cli import (  # noqa: F401 - registers the commands
    access,
    aftersales,
    core,
    evidence,
    messaging,
    reputation,
    server,
)
from tradeguard.adapters.cli.common import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        cli()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
