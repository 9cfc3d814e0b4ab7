"""Margin arithmetic: maintenance margin by bracket, equity, bankruptcy and liquidation prices.

Formulas (all integers in money units unless noted; ``unit`` is the instrument's money per tick·lot):

* notional            ``N = |qty| × mark × unit``
* unrealized PnL      ``U = qty × mark × unit − cost``
* maintenance margin  ``MM = ceil(N × MMR) − maintenance_amount`` for N's bracket (Binance-style)
* initial margin      ``IM = ceil(N / leverage)``
* cross pool          equity ``E = wallet + Σ U`` over cross positions; it is liquidated when
  ``E < Σ MM`` over those positions. An isolated position is its own pool:
  ``E = iso_margin + U`` against its own MM.
* bankruptcy price of position k in a pool with equity E: the pool's equity is shared over its
  positions in proportion to their maintenance margin, ``e_k = E × MM_k / Σ MM`` (floor; the
  rounding remainder goes to the first position), and ``p_b = mark − e_k / (qty × unit)``: closing
  every position at its bankruptcy price leaves the pool at exactly zero. Longs round up to the tick
  and shorts down, so the pool never ends below zero; the crumbs go to the insurance fund.
* liquidation price (display only): the price at which the pool's equity equals its maintenance
  margin, other positions held at mark, with the current bracket's MMR (Binance's formula).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .instruments import PPM, Instrument


_EXACT_LIMIT = (2**63 - 1) // PPM
"""Below this notional, ``notional × MMR (ppm)`` cannot overflow int64 (MMR ≤ 100%)."""

_FEW = 8
"""Up to this many notionals, ``mm_vector`` asks ``Instrument.maintenance_margin`` for each."""

_BRACKETS: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_BY_ID: dict[int, tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
"""id of a bracket tuple → (the tuple, its arrays): hashing twenty brackets on every valuation
cost more than the valuation. The tuple is kept so its id is not reused while listed; cleared
when it grows (a sweep builds new instruments for every run)."""


def _bracket_arrays(inst: Instrument) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(caps, MMR ppm, maintenance amounts) as int64 arrays, cached per bracket table."""
    brackets = inst.brackets
    hit = _BY_ID.get(id(brackets))
    if hit is not None and hit[0] is brackets:
        return hit[1]
    arrays = _BRACKETS.get(brackets)
    if arrays is None:
        caps, mmr, amount = (np.array([getattr(b, name) for b in brackets], dtype=np.int64)
                             for name in ("notional_cap", "mmr_ppm", "maintenance_amount"))
        arrays = _BRACKETS[brackets] = (caps, mmr, amount)
    if len(_BY_ID) >= 256:
        _BY_ID.clear()
    _BY_ID[id(brackets)] = (brackets, arrays)
    return arrays


def mm_vector(inst: Instrument, notional: np.ndarray) -> np.ndarray:
    """Maintenance margin for an int64 array of notionals, exactly as ``inst.maintenance_margin``
    (split so that ``notional × MMR`` cannot overflow int64). A handful (the incremental scan's
    usual batch) is quicker one at a time."""
    if notional.size <= _FEW:
        return np.array([inst.maintenance_margin(x) for x in notional.tolist()], dtype=np.int64)
    caps, mmr, amount = _bracket_arrays(inst)
    idx = np.minimum(np.searchsorted(caps, notional, side="left"), len(caps) - 1)
    r = mmr[idx]
    if notional.size and int(notional.max()) < _EXACT_LIMIT:  # notional × MMR fits in int64
        mm = -((-notional * r) // PPM) - amount[idx]
    else:
        mm = (notional // PPM) * r - ((-(notional % PPM) * r) // PPM) - amount[idx]
    return np.maximum(mm, 0, out=mm)


def max_leverage_vector(inst: Instrument, notional: np.ndarray) -> np.ndarray:
    """The bracket's maximum leverage for each notional."""
    caps = np.array([b.notional_cap for b in inst.brackets], dtype=np.int64)
    lev = np.array([b.max_leverage for b in inst.brackets], dtype=np.int64)
    return lev[np.minimum(np.searchsorted(caps, notional, side="left"), len(caps) - 1)]


@dataclass(slots=True)
class SymbolValues:
    """The open positions of one symbol, valued at its mark; arrays aligned with ``idx``."""

    idx: np.ndarray        # account ids with an open position, ascending
    qty: np.ndarray        # signed lots
    notional: np.ndarray   # money units
    upnl: np.ndarray
    mm: np.ndarray
    iso: np.ndarray        # bool: isolated
    cost: np.ndarray       # signed cost basis


@dataclass(slots=True)
class Valuation:
    """Every open position and every cross pool valued at the current marks."""

    symbols: list[SymbolValues]
    cross_equity: np.ndarray  # [n] int64: wallet + uPnL of cross positions
    cross_mm: np.ndarray      # [n] int64
    has_cross: np.ndarray     # [n] bool


MM_BASES = ("mark", "entry", "entry_isolated")
"""What a position's maintenance margin is taken on: its value at the mark (Binance), its entry
value (|cost basis|: BitMEX), or the entry value for isolated positions only (Bybit)."""


def mm_basis(basis: str, notional: np.ndarray, cost: np.ndarray, iso: np.ndarray) -> np.ndarray:
    """The notional each position's maintenance margin is taken on, under ``basis``."""
    if basis == "mark":
        return notional
    entry = np.abs(cost)
    return entry if basis == "entry" else np.where(iso, entry, notional)


def value_all(instruments: list[Instrument], marks: list[int], acc,
              basis: str = "mark") -> Valuation:
    """Value all live accounts at ``marks`` (ticks per symbol); work is proportional to the
    number of open positions plus one pass over the accounts. ``basis``: ``MM_BASES``."""
    n = acc.n
    cross_equity = acc.wallet[:n].copy()
    cross_mm = np.zeros(n, dtype=np.int64)
    has_cross = np.zeros(n, dtype=np.bool_)
    symbols = []
    for s, inst in enumerate(instruments):
        q_all = acc.qty[s, :n]
        idx = (q_all != 0).nonzero()[0]  # (faster than flatnonzero on int64)
        q = q_all[idx]
        value = q * (marks[s] * inst.unit_per_tick_lot)
        size = np.abs(value)
        cost = acc.cost[s][idx]
        pnl = value - cost
        iso = acc.iso[s][idx]
        margin = mm_vector(inst, mm_basis(basis, size, cost, iso))
        cross = idx[~iso]
        cross_equity[cross] += pnl[~iso]
        cross_mm[cross] += margin[~iso]
        has_cross[cross] = True
        symbols.append(SymbolValues(idx, q, size, pnl, margin, iso, cost))
    return Valuation(symbols, cross_equity, cross_mm, has_cross)


def share_equity(equity: int, weights: list[int]) -> list[int]:
    """Split ``equity`` over positions in proportion to ``weights`` (floor; remainder to the first).
    Equal shares when every weight is zero."""
    total = sum(weights)
    if total <= 0:
        weights, total = [1] * len(weights), len(weights)
    shares = [equity * w // total for w in weights]
    shares[0] += equity - sum(shares)
    return shares


def bankruptcy_price(mark: int, share: int, qty: int, unit: int) -> int:
    """The tick at which closing ``qty`` (signed lots) uses up exactly ``share`` of equity, rounded
    in the position's favour (longs up, shorts down), never below one tick."""
    if qty > 0:
        return max(1, mark - share // (qty * unit))
    return max(1, mark + share // (-qty * unit))


def liquidation_price(inst: Instrument, qty: int, cost: int, pool_other: int) -> float | None:
    """Display price (ticks, float) at which a position's pool equity meets its maintenance margin.

    ``pool_other`` is the pool's equity without this position's unrealized PnL, minus the other
    positions' maintenance margin (Binance's ``WB − TMM1 + UPNL1``). None when it cannot happen."""
    unit = inst.unit_per_tick_lot
    size = abs(qty)
    # solve pool_other + qty·p·unit − cost = size·p·unit·mmr − amount for p, bracket by bracket
    price = None
    for bracket in inst.brackets:
        mmr = bracket.mmr_ppm / PPM
        price = (cost - pool_other - bracket.maintenance_amount) / (unit * (qty - size * mmr))
        if price <= 0:
            return None
        if size * price * unit <= bracket.notional_cap:
            return price
    return price


def initial_margin(notional: int, leverage: int) -> int:
    """``ceil(notional / leverage)``: what opening (or quoting) ``notional`` ties up."""
    return -(-notional // leverage)
