"""The level format's building blocks and limits: the node kinds of ``schema.SCHEMA`` (``Field``,
``Table``, ``PerSymbol``, ``ListOf``; ``schema.py`` says what each means) and the caps that keep a
level's sizes inside what the engine can hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..units import MAX_PRICE_TICKS, MAX_USD

MAX_LEVEL_BYTES = 256 * 1024
"""A level file larger than this is refused before it is parsed."""

MAX_NESTING = 32
"""Tables and arrays nest at most this deep in a level file or a ``--set`` value (a level needs
five); a dotted key has at most this many parts."""

MAX_SYMBOLS = 16
"""The most symbols a level may trade: every symbol adds a book, a ladder per firm and a column
per account, so 2,000 symbols took minutes and gigabytes for two simulated minutes."""

MAX_ACCOUNT_CELLS = 8_000_000
"""(crowd.accounts + crowd.dip_buyers) × symbols at most: the exchange keeps a column per symbol
for every account. The full-scale crash is 1,600,000 accounts × 4 symbols (6.4M)."""

MAX_QUOTE_LEVELS = 4_000
"""market_makers.firms × market_makers.levels × symbols at most: every firm requotes its ladder
in every symbol, and the cost grows faster than the count (16 symbols × 50 firms × 50 levels took
almost four minutes for two simulated minutes; at 4,000, about ten seconds)."""

MAX_FIELD_USD = 100_000_000_000
"""$100B: the cap of the large USD fields (capital, equity, a fund); a tenth of ``MAX_USD``."""

MAX_FLOW_USD = 10_000_000_000
"""$10B: the cap of per-symbol sizes and flows (open interest, depth, clips, flows per minute),
so that no single order or position comes near the exchange's notional cap (``MAX_NOTIONAL``,
$100B) even after a tenfold price move."""

MAX_FUND_USD = MAX_FIELD_USD
"""The largest insurance fund once sized (fund × fund_multiplier, or the stress estimate)."""

MAX_LEVEL_MONEY_USD = MAX_USD
"""All the money a level starts with, added up (see ``engine.level``'s budget check): at most
$1T, so sums of balances and open interest stay far inside the exchange's int64 money units."""

MAX_PRICE_RISE = 10
"""A waypoint may be at most this many times the symbol's start price."""

MAX_START_TICKS = MAX_PRICE_TICKS // 100
"""A start price or waypoint is at most this many ticks of its preset: room for noise, ladders
and slippage below the exchange's cap (``MAX_PRICE_TICKS``)."""

FORMAT = 1


@dataclass(frozen=True)
class Field:
    kind: str
    default: Any = None
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Table:
    fields: dict[str, Any]
    doc: str = ""


@dataclass(frozen=True)
class PerSymbol:
    node: Any
    doc: str = ""


@dataclass(frozen=True)
class ListOf:
    table: Table
    doc: str = ""
    max_items: int = 500
