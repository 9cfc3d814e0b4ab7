"""Read-only views of an exchange's state in human units, for the UI, the CLI and tests.

Money is ``Decimal`` USD (exact), sizes ``Decimal`` coins, prices ``Decimal`` USD on the tick grid,
except derived prices that are not on the grid (average entry, liquidation price): ``float``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from ..adl import adl_rank
from ..margin import bankruptcy_price, liquidation_price, share_equity
from ..book import BUY, SELL, Side
from ..errors import InvalidInput
from ..instruments import PPM
from ..units import MONEY_PER_USD, ceil_div

if TYPE_CHECKING:
    from .front import Exchange


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
    margin_addable: Decimal
    """USD that can be added to the isolated margin now (0 for a cross position)."""
    margin_removable: Decimal
    """USD that can be withdrawn from the isolated margin now, keeping the initial margin."""
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
    side: Side
    price: Decimal
    qty: Decimal
    reduce_only: bool


def position_view(ex: Exchange, a: int, s: int) -> PositionView:
    ex.refresh_lights()
    acc, inst = ex.acc, ex.instruments[s]
    lots, cost = acc.q[s, a], acc.c[s, a]
    grid = ex.price_grid[s]
    mark = ex.marks.mark[s]
    notional, upnl = ex.pools.notional(s, a), ex.pools.upnl(s, a)
    unit = inst.unit_per_tick_lot
    liq = bank = None
    eff_lev = None
    rank, queue = None, 0
    mm = 0
    if lots and mark is not None:
        equity, syms, mms = ex.pools.pool_of(a, s)
        k = syms.index(s)
        mm = mms[k]
        bank = grid.value(bankruptcy_price(mark, share_equity(equity, mms)[k], lots, unit))
        other = equity - upnl - (sum(mms) - mm)
        ticks: float | None
        if ex.pools.mm_entry(s, a):  # BitMEX, Bybit isolated: a maintenance fixed at entry
            fixed = (cost - other + mm) / (lots * unit)
            ticks = fixed if fixed > 0 else None
        else:
            ticks = liquidation_price(inst, lots, cost, other)
        liq = None if ticks is None else ticks * float(inst.tick_size)
        eff_lev = notional / equity if equity > 0 else None
        rank, queue = _adl_rank(ex, a, s, lots)
    return PositionView(
        account=a, symbol=ex.symbols[s], qty=ex.qty_grid[s].value(lots), lots=lots,
        entry=(cost / (lots * unit) * float(inst.tick_size)) if lots else None,
        mark=None if mark is None else grid.value(mark), notional=usd(notional), upnl=usd(upnl),
        pnl_pct=(upnl / notional) if notional else 0.0, effective_leverage=eff_lev,
        margin_mode="isolated" if acc.isov[s, a] else "cross", leverage=acc.lev[s, a],
        isolated_margin=usd(acc.im[s, a]), margin_addable=usd(ex.pools.addable(a, s)),
        margin_removable=usd(ex.pools.removable(a, s)), maintenance=usd(mm), liq_price=liq,
        bankruptcy_price=bank, adl_light=int(acc.adl_light[s, a]), adl_rank=rank,
        adl_queue=queue, adl_score=float(acc.adl_score[s, a]))


def _adl_rank(ex: Exchange, a: int, s: int, lots: int) -> tuple[int | None, int]:
    """1-based queue place of (s, a) among same-side positions, from the last settle's scores."""
    acc = ex.acc
    n = acc.n
    q = acc.qty[s, :n]
    same = np.flatnonzero(((q > 0) if lots > 0 else (q < 0)) & ~acc.is_fund[:n])
    if not acc.adl_light[s, a]:
        return None, len(same)
    i = int(np.searchsorted(same, a))
    return adl_rank(acc.adl_score[s, same], same, i) + 1, len(same)


def account_view(ex: Exchange, a: int) -> AccountView:
    acc = ex.acc
    margin_balance, _, mms = ex.pools.pool(a, None)
    im = ex.pools.cross_initial_margin(a)
    mm = sum(mms)
    return AccountView(
        account=a, wallet=usd(acc.w[a]), equity=usd(ex.pools.equity(a)),
        margin_balance=usd(margin_balance), initial_margin=usd(im), order_margin=usd(acc.om[a]),
        maintenance=usd(mm), available=usd(ex.pools.available(a)),
        margin_ratio=(mm / margin_balance) if margin_balance > 0 else (float("inf") if mm else 0.0))


@dataclass(frozen=True, slots=True)
class TriggerView:
    """A stop or take-profit order the exchange holds (``triggers.py``)."""
    oid: int
    account: int
    symbol: str
    side: Side
    kind: str
    trigger: Decimal
    price: Decimal | None
    """The limit of the order it becomes; None: a market order."""
    qty: Decimal
    reduce_only: bool
    watches: str
    """The price it watches: "mark" or "last"."""


def trigger_views(ex: Exchange, a: int) -> list[TriggerView]:
    """Account a's conditional orders, oldest first."""
    out = []
    for oid, t in sorted(ex.triggers.of(a)):
        grid = ex.price_grid[t.s]
        out.append(TriggerView(oid, a, ex.symbols[t.s], Side(t.side), t.kind,
                               grid.value(t.trigger),
                               None if t.limit is None else grid.value(t.limit),
                               ex.qty_grid[t.s].value(t.lots), t.reduce_only,
                               ex.rules.stop_trigger))
    return out


def order_view(ex: Exchange, oid: object) -> OrderView | None:
    if type(oid) is not int:
        return None
    info = ex.ledger.orders.get(oid)
    if info is None:
        return None
    rest = ex.books[info.s].order(oid)
    assert rest is not None  # the ledger holds resting orders only
    return OrderView(oid, info.account, ex.symbols[info.s], Side(info.side),
                     ex.price_grid[info.s].value(info.price),
                     ex.qty_grid[info.s].value(rest[3]), info.reduce_only)


def l2(ex: Exchange, s: int, n: int) -> dict[str, list[tuple[Decimal, Decimal]]]:
    """Top ``n`` price levels each side of book s, in USD and coins, best first."""
    if type(n) is not int or not 1 <= n <= 10_000:
        raise InvalidInput(f"l2 depth n must be a whole number 1..10000, got {n!r}")
    pg, qg = ex.price_grid[s], ex.qty_grid[s]
    return {side: [(pg.value(p), qg.value(q)) for p, q in ex.books[s].levels(sd, n)]
            for side, sd in (("bids", BUY), ("asks", SELL))}


def depth_units(ex: Exchange, s: int, pct_ppm: int = 10_000) -> int:
    """Resting notional (money units, both sides) within ±pct of mid (default ±1%). In a gapped
    book (spread over 2%, or one side empty) the mark stands in for the mid."""
    book = ex.books[s]
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None and (ask - bid) * 50 <= ask:
        mid2 = bid + ask
    elif (mark := ex.marks.mark[s]) is not None:
        mid2 = 2 * mark
    else:
        return 0
    lo = ceil_div(mid2 * (PPM - pct_ppm), 2 * PPM)
    hi = mid2 * (PPM + pct_ppm) // (2 * PPM)
    return book.notional_within(lo, hi) * ex.units[s]


def depth_usd(ex: Exchange, s: int, pct: object) -> Decimal:
    """Resting notional in USD within ±pct % of mid, both sides (0 < pct ≤ 100)."""
    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct <= 100:
        raise InvalidInput(f"depth pct must be a number in (0, 100], got {pct!r}")
    return Decimal(depth_units(ex, s, round(pct * 10_000))) / MONEY_PER_USD


def checksum(ex: Exchange) -> str:
    """``Exchange.checksum``: a hash of the whole state (arrays, books, orders, conditional
    orders, prices, funds, fees, clock, RNG); the light caches are left out."""
    h = hashlib.blake2b(digest_size=16)
    for name, arr in sorted(ex.acc.arrays().items()):
        if name in ("adl_light", "adl_score"):
            continue
        h.update(name.encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    for book in ex.books:
        h.update(repr((book.resting(), book.last_trade_price)).encode())
    h.update(repr(ex.ledger.digest()).encode())
    h.update(repr(ex.marks.state()).encode())
    h.update(repr((ex.ledger.fee_pool, ex.pools.net_deposits, ex.t,
                   ex.ledger.next_oid)).encode())
    if ex.rules.active:
        h.update(repr(ex.rules.digest()).encode())
    if ex.triggers.pending:
        h.update(repr(ex.triggers.digest()).encode())
    if ex.funds.written_off:
        h.update(repr(("written_off", ex.funds.written_off)).encode())
    h.update(repr(ex.rng.bit_generator.state).encode())
    return h.hexdigest()
