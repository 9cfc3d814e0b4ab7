"""Workshop subcommands: compare, new-level, results."""

from __future__ import annotations


def register(sub) -> None:
    """Add the workshop subcommands to the ``crashfloor`` parser."""
