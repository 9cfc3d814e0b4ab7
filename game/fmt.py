"""Number and time formatting for the floor: prices on their tick grid, USD short and long, HKT.

Pure functions (no textual): the floor model, the widgets and the tests share them.
"""

from __future__ import annotations

import math
from decimal import Decimal

from engine.clock import fmt_hhmm


def decimals_of(step: Decimal) -> int:
    """How many decimals a tick or lot size needs: 0.1 → 1, 0.00001 → 5, 1 → 0."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def price(value: float | Decimal | None, decimals: int) -> str:
    """A price with thousands separators on its tick grid; "—" when there is none."""
    if value is None:
        return "—"
    return f"{float(value):,.{decimals}f}"


def qty(value: float | Decimal, decimals: int) -> str:
    return f"{float(value):,.{decimals}f}"


def usd(value: float | Decimal, signed: bool = False) -> str:
    """Whole dollars: $1,234,567 (or +$1,234 / −$1,234 when ``signed``)."""
    v = float(value)
    body = f"${abs(v):,.0f}"
    if v < 0 and round(v) != 0:
        return "−" + body
    return ("+" + body) if signed and round(v) != 0 else body


def usd_short(value: float | Decimal, signed: bool = False) -> str:
    """Compact dollars: $1.20M, $27.0k, $950, $3.1B (sign as in ``usd``)."""
    v = float(value)
    a = abs(v)
    if a >= 1e9:
        body = f"${a / 1e9:.2f}B"
    elif a >= 1e6:
        body = f"${a / 1e6:.2f}M"
    elif a >= 1e4:
        body = f"${a / 1e3:.1f}k"
    elif a >= 1e3:
        body = f"${a / 1e3:.2f}k"
    else:
        body = f"${a:.0f}"
    if v < 0 and a >= 0.5:
        return "−" + body
    return ("+" + body) if signed and a >= 0.5 else body


def pct(fraction: float | None, signed: bool = True, digits: int = 1) -> str:
    """0.0412 → +4.1% (the minus is a real minus sign)."""
    if fraction is None or not math.isfinite(fraction):
        return "—"
    text = f"{fraction * 100:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "−")


def count(n: int) -> str:
    return f"{n:,}"


def hhmm(clock: int | None, seconds: bool = False) -> str:
    """Seconds since midnight → HH:MM (HKT); "—" for None."""
    return "—" if clock is None else fmt_hhmm(clock, with_seconds=seconds)


def speed(multiple: float) -> str:
    """1 → 1×, 0.5 → 0.5×, 60 → 60×."""
    return f"{multiple:g}×"


def fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, shortened at a word boundary with an ellipsis (never
    cut mid-word, unless its first word alone is too long)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:max(width, 0)]
    cut = text[:width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:·") + "…"
