"""The ``tradeguard`` command line (Typer + Rich)."""
