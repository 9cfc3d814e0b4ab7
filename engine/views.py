"""Read-only views of an exchange's state in human units, for the UI, the CLI and tests.

Money is ``Decimal`` USD (exact), sizes ``Decimal`` coins, prices ``Decimal`` USD on the tick grid,
except derived prices that are not on the grid (average entry, liquidation price): ``float``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from .adl import adl_rank
from .margin import bankruptcy_price, liquidation_price, share_equity
from .units import MONEY_PER_USD, ceil_div

if TYPE_CHECKING:
    from .exchange import Exchange


def usd(units: int) -> Decimal:
    return Decimal(int(units)) / MONEY_PER_USD


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position. ``adl_rank`` is 1-based within its symbol and side (1 = first to be
    deleveraged) out of ``adl_queue``; the light is 1–5 (0 when flat)."""
    account: int
    symbol: str
    qty: Decimal
    lots: int
    entry: float | None
    mark: Decimal | None
    notional: Decimal
    upnl: Decimal
    pnl_pct: float
    effective_leverage: float | None
    margin_mode: str
    leverage: int
    isolated_margin: Decimal
    maintenance: Decimal
    liq_price: float | None
    bankruptcy_price: Decimal | None
    adl_light: int
    adl_rank: int | None
    adl_queue: int
    adl_score: float

    @property
    def side(self) -> str:
        return "long" if self.lots > 0 else "short" if self.lots < 0 else "flat"


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account's margin summary; the cross figures cover cross positions only."""
    account: int
    wallet: Decimal
    equity: Decimal
    margin_balance: Decimal
    initial_margin: Decimal
    order_margin: Decimal
    maintenance: Decimal
    available: Decimal
    margin_ratio: float


@dataclass(frozen=True, slots=True)
class OrderView:
    oid: int
    account: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    reduce_only: bool


def _pool(ex: "Exchange", a: int, s: int) -> tuple[int, list[int], list[int]]:
    """(equity, symbols, maintenance margins) of the margin pool that holds position (s, a)."""
    acc = ex.acc
    if acc.isov[s, a]:
        syms = [s]
        equity = acc.im[s, a] + ex._upnl(s, a)
    else:
        syms = [k for k in range(len(ex.symbols)) if acc.q[k, a] and not acc.isov[k, a]]
        equity = acc.w[a] + sum(ex._upnl(k, a) for k in syms)
    mms = [ex.instruments[k].maintenance_margin(ex._notional(k, a)) for k in syms]
    return equity, syms, mms


def position_view(ex: "Exchange", a: int, s: int) -> PositionView:
    ex.refresh_lights()
    acc, inst = ex.acc, ex.instruments[s]
    lots, cost = acc.q[s, a], acc.c[s, a]
    grid = ex._price_grid[s]
    mark = ex.marks.mark[s]
    notional, upnl = ex._notional(s, a), ex._upnl(s, a)
    unit = inst.unit_per_tick_lot
    liq = bank = None
    eff_lev = None
    rank, queue = None, 0
    mm = 0
    if lots and mark is not None:
        equity, syms, mms = _pool(ex, a, s)
        k = syms.index(s)
        mm = mms[k]
        bank = grid.value(bankruptcy_price(mark, share_equity(equity, mms)[k], lots, unit))
        other = equity - upnl - (sum(mms) - mm)
        ticks = liquidation_price(inst, lots, cost, other)
        liq = None if ticks is None else ticks * float(inst.tick_size)
        eff_lev = notional / equity if equity > 0 else None
        rank, queue = _adl_rank(ex, a, s, lots)
    return PositionView(
        account=a, symbol=ex.symbols[s], qty=ex._qty_grid[s].value(lots), lots=lots,
        entry=(cost / (lots * unit) * float(inst.tick_size)) if lots else None,
        mark=None if mark is None else grid.value(mark), notional=usd(notional), upnl=usd(upnl),
        pnl_pct=(upnl / notional) if notional else 0.0, effective_leverage=eff_lev,
        margin_mode="isolated" if acc.isov[s, a] else "cross", leverage=acc.lev[s, a],
        isolated_margin=usd(acc.im[s, a]), maintenance=usd(mm), liq_price=liq,
        bankruptcy_price=bank, adl_light=int(acc.adl_light[s, a]), adl_rank=rank,
        adl_queue=queue, adl_score=float(acc.adl_score[s, a]))


def _adl_rank(ex: "Exchange", a: int, s: int, lots: int) -> tuple[int | None, int]:
    """1-based queue place of (s, a) among same-side positions, from the last settle's scores."""
    acc = ex.acc
    n = acc.n
    q = acc.qty[s, :n]
    same = np.flatnonzero(((q > 0) if lots > 0 else (q < 0)) & ~acc.is_fund[:n])
    if not acc.adl_light[s, a]:
        return None, len(same)
    i = int(np.searchsorted(same, a))
    return adl_rank(acc.adl_score[s, same], same, i) + 1, len(same)


def account_view(ex: "Exchange", a: int) -> AccountView:
    acc = ex.acc
    cross = [s for s in range(len(ex.symbols)) if acc.q[s, a] and not acc.isov[s, a]]
    margin_balance = acc.w[a] + sum(ex._upnl(s, a) for s in cross)
    im = sum(ceil_div(ex._notional(s, a), acc.lev[s, a]) for s in cross)
    mm = sum(ex.instruments[s].maintenance_margin(ex._notional(s, a)) for s in cross)
    return AccountView(
        account=a, wallet=usd(acc.w[a]), equity=usd(ex.equity_units(a)),
        margin_balance=usd(margin_balance), initial_margin=usd(im), order_margin=usd(acc.om[a]),
        maintenance=usd(mm), available=usd(ex.available_units(a)),
        margin_ratio=(mm / margin_balance) if margin_balance > 0 else (float("inf") if mm else 0.0))
