"""Checking one value against its schema field: type, range (``_bounds``), choices, times."""

from __future__ import annotations

import math
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

from ..units import MAX_USD
from .model import _TIME_FORMAT, _parse_time
from .problems import _suggest, _toml, _type_name
from .schema import Field


# --- checking one value -----------------------------------------------------------------------
_MICRO_USD = Decimal("0.000001")


def _usd_text(usd: float | Decimal) -> str:
    """``3.5e12`` → ``$3.5T``, ``2.5e8`` → ``$250M``, ``1234`` → ``$1,234``."""
    usd = float(usd)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(usd) >= size:
            return f"${usd / size:.4g}{suffix}"
    return f"${usd:,.0f}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bound_text(bound: float, grouped: bool = False) -> str:
    """A schema bound for people: ``1e-06`` → ``0.000001``, ``1e7`` → ``10000000``."""
    if float(bound).is_integer():
        return f"{int(bound):_}" if grouped and abs(bound) >= 10_000 else str(int(bound))
    return f"{bound:.12f}".rstrip("0")


def _range_text(spec: Field) -> str:
    low, high = _bounds(spec)
    if low is not None and low == high:
        return f"exactly {_bound_text(low, True)}"
    if low is not None and high is not None:
        return f"between {_bound_text(low, True)} and {_bound_text(high, True)}"
    if low is not None:
        return f"at least {_bound_text(low, True)}"
    return f"at most {_bound_text(high, True)}" if high is not None else ""


def _in_range(spec: Field, value: float) -> str | None:
    low, high = _bounds(spec)
    if (low is not None and value < low) or (high is not None and value > high):
        return f"must be {_range_text(spec)}"
    return None


def _check_number(spec: Field, value: Any) -> tuple[Any, str | None]:
    what = {"int": "a whole number", "usd": "a USD amount"}.get(spec.kind, "a number")
    wanted = f"{what} ({_range_text(spec)})" if _range_text(spec) else what
    if not _number(value) or (spec.kind == "int" and isinstance(value, float)):
        return None, f"must be {wanted}, not {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"must be a finite number, not {_toml(value)}"
    error = _in_range(spec, value)  # before float(): an int of 400 digits has no float
    if error:
        return None, error
    if spec.kind == "usd" and isinstance(value, float) and \
            Decimal(repr(value)) % _MICRO_USD != 0:  # the exchange counts micro-dollars
        return None, "must be a USD amount with at most 6 decimals (whole micro-dollars)"
    return (float(value) if spec.kind in ("float", "fraction") else value), None


def _check_text(spec: Field, value: Any) -> tuple[Any, str | None]:
    if spec.kind == "bool":
        return value, None if isinstance(value, bool) else "must be true or false"
    if spec.kind == "str":
        return value, None if isinstance(value, str) else "must be a string (in quotes)"
    choices = ", ".join(spec.choices)
    if value not in spec.choices:
        hint = _suggest(value, list(spec.choices)) if isinstance(value, str) else ""
        return None, f"must be one of: {choices}" + (f" ({hint.strip()})" if hint else "")
    return value, None


def _check_time(spec: Field, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, clock_time) and value.tzinfo is None and not value.microsecond:
        value = value.strftime("%H:%M:%S")  # a bare TOML local time, 04:30:00
    if _parse_time(value) is None:
        return None, f"must be {_TIME_FORMAT}"
    return value, None


def _check_strings(spec: Field, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "must be a list of strings, e.g. [\"exchange.fund_multiplier=20\"]"
    return list(value), None


_KIND_CHECKS = {"int": _check_number, "float": _check_number, "usd": _check_number,
                "fraction": _check_number, "bool": _check_text, "str": _check_text,
                "choice": _check_text, "time": _check_time, "strings": _check_strings}


def _bounds(spec: Field) -> tuple[float | None, float | None]:
    low = 0 if spec.kind in ("usd", "fraction") and spec.min is None else spec.min
    high = {"fraction": 1, "usd": MAX_USD}.get(spec.kind) if spec.max is None else spec.max
    return low, high
