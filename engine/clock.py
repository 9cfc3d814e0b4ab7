"""Simulation time: integer seconds since the level's start, shown as Hong Kong time (HKT)."""

from __future__ import annotations

import re

from .errors import InvalidInput

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_hhmm(text: str, what: str = "time") -> int:
    """'HH:MM' or 'HH:MM:SS' → seconds since midnight; InvalidInput otherwise."""
    m = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise InvalidInput(f"{what} must be 'HH:MM' or 'HH:MM:SS', got {text!r}")
    h, mi, se = int(m[1]), int(m[2]), int(m[3] or 0)
    if h > 47 or mi > 59 or se > 59:
        raise InvalidInput(f"{what} {text!r} is not a valid time of day")
    return h * 3600 + mi * 60 + se


def fmt_hhmm(seconds_of_day: int, with_seconds: bool = False) -> str:
    """Seconds since midnight → 'HH:MM' (or 'HH:MM:SS'), wrapping at 24 h."""
    s = int(seconds_of_day) % 86_400
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h:02d}:{m:02d}:{sec:02d}" if with_seconds else f"{h:02d}:{m:02d}"
