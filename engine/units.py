"""Exact units: integer ticks, lots and money units, and the conversions at the API boundary.

Money is counted in integer *units* of 1e-6 USD (micro-dollars). Prices are integer ticks and sizes
integer lots of an instrument; ``ticks * lots * instrument.unit_per_tick_lot`` is a notional in money
units, exactly. Floats never touch a balance: human numbers are converted here, once, through
``decimal.Decimal(str(x))`` so that ``0.1`` means one tenth, and anything off the grid is refused.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from numbers import Real
from typing import Any

import numpy as np

from .errors import InvalidInput, OffGridError

MONEY_PER_USD = 1_000_000
"""Money units in one USD."""

_MONEY_STEP = Decimal(1) / MONEY_PER_USD

MAX_USD = 10**12
"""The largest USD amount any one input may name (a deposit, a fund, a level's USD field): one
trillion dollars, so that sums of balances stay far inside int64 money units."""
MAX_MONEY = MAX_USD * MONEY_PER_USD
"""``MAX_USD`` in money units (1e18, about a ninth of int64's range)."""
MAX_PRICE_TICKS = 10**12
"""The largest price, in ticks, that the exchange accepts (an order, an index, a mark)."""
MAX_NOTIONAL = MAX_MONEY // 10
"""The largest notional (money units) one order, or the position it leaves, may have: $100B."""


def to_decimal(value: object, what: str) -> Decimal:
    """A finite Decimal from an int, float, Decimal or numeric string, or ``InvalidInput``."""
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal, str)):
        raise InvalidInput(f"{what} must be a number, got {value!r} ({type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    try:
        dec = Decimal(value) if isinstance(value, (int, Decimal)) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    if not dec.is_finite():
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    return dec


def to_steps(value: object, step: Decimal, what: str, *, allow_zero: bool = False) -> int:
    """``value / step`` as an exact positive int; ``OffGridError`` if it is not a whole number."""
    dec = to_decimal(value, what)
    if dec < 0 or (dec == 0 and not allow_zero):
        allowed = "zero or more" if allow_zero else "greater than zero"
        raise InvalidInput(f"{what} must be {allowed}, got {value!r}")
    steps = dec / step
    if steps != steps.to_integral_value():
        raise OffGridError(f"{what} {value!r} is not a multiple of {step.normalize()}")
    return int(steps)


def usd_to_money(value: object, what: str = "amount", *, allow_zero: bool = False) -> int:
    """USD (human number) to integer money units; at most 6 decimals and at most ``MAX_USD``."""
    units = to_steps(value, _MONEY_STEP, f"{what} (USD)", allow_zero=allow_zero)
    if units > MAX_MONEY:
        raise InvalidInput(f"{what} (USD) must be at most {MAX_USD:,}, got {value!r}")
    return units


def exact_sum(arr: np.ndarray) -> int:
    """The exact integer sum of an int64 array, however many large values it holds: summed as
    high and low 32-bit halves (each partial sum fits in int64 below 2³¹ elements), then joined
    as a Python int. A plain ``arr.sum()`` wraps past ±9.2e18 money units."""
    a = np.asarray(arr, dtype=np.int64)
    return (int((a >> 32).sum()) << 32) + int((a & 0xFFFFFFFF).sum())


def ceil_div(a: int, b: int) -> int:
    """Ceiling of a / b for ints, b > 0."""
    return -((-a) // b)


class Grid:
    """Fast, exact-enough conversion of human numbers onto one grid (ticks or lots).

    Ints and Decimals/strings are checked exactly. A float is accepted when it lies within 1e-6 of
    a grid step (float noise: ``100000.1`` is 1000001 ticks of 0.1) and refused otherwise.
    """

    __slots__ = ("step", "inv", "per_int", "what")

    def __init__(self, step: Decimal, what: str):
        self.step = step
        self.what = what
        inv = Decimal(1) / step
        self.per_int = int(inv) if inv == inv.to_integral_value() else None
        self.inv = float(inv)

    def steps(self, value: Any, what: str | None = None) -> int:
        """``value`` in whole grid steps (> 0), or InvalidInput / OffGridError."""
        # Any, not object: anything may come in, and the branches below narrow it by ``kind``,
        # which a type checker does not follow
        kind = type(value)
        if kind is int and self.per_int is not None:
            if value > 0:
                return value * self.per_int
        elif kind is float and value > 0 and value != math.inf:
            x = value * self.inv
            r = round(x)
            if r > 0 and abs(x - r) <= 1e-6:
                return r
            if r > 0 or x >= 1:
                raise OffGridError(f"{what or self.what} {value!r} is not a multiple of "
                                   f"{self.step.normalize()}")
        return to_steps(value, self.step, what or self.what)

    def value(self, steps: int) -> Decimal:
        """Grid steps back to the human Decimal."""
        return steps * self.step
