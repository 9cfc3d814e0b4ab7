"""Simulation time: integer seconds since the level's start, shown as Hong Kong time (HKT)."""

from __future__ import annotations

import re

from .errors import InvalidInput

_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
MAX_HOURS = 47
"""A session may run past midnight: times go up to 47:59:59."""


def seconds_of_day(text: object) -> int | None:
    """'HH:MM' or 'HH:MM:SS' (hours 0–47) → seconds since midnight, or None: the one parser of
    clock times (levels, ``--until``, replays)."""
    m = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if not m:
        return None
    h, mi, se = int(m[1]), int(m[2]), int(m[3] or 0)
    if h > MAX_HOURS or mi > 59 or se > 59:
        return None
    return h * 3600 + mi * 60 + se


def parse_hhmm(text: str, what: str = "time") -> int:
    """'HH:MM' or 'HH:MM:SS' → seconds since midnight (surrounding spaces allowed);
    InvalidInput otherwise."""
    seconds = seconds_of_day(text.strip()) if isinstance(text, str) else None
    if seconds is None:
        raise InvalidInput(f"{what} must be a time 'HH:MM' or 'HH:MM:SS' (hours 0–47), "
                           f"got {text!r}")
    return seconds


def fmt_hhmm(seconds_of_day: int, with_seconds: bool = False) -> str:
    """Seconds since midnight → 'HH:MM' (or 'HH:MM:SS'), wrapping at 24 h."""
    s = int(seconds_of_day) % 86_400
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h:02d}:{m:02d}:{sec:02d}" if with_seconds else f"{h:02d}:{m:02d}"
