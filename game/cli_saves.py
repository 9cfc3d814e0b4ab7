"""Save and replay subcommands: replay (run --save/--resume live in cli.py)."""

from __future__ import annotations


def register(sub) -> None:
    """Add the save and replay subcommands to the ``crashfloor`` parser."""
