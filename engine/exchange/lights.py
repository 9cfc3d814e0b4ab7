"""ADL scores and lights for every open position, and the same inputs for an ADL walk.

Positions are ranked within their symbol and side (crash.md): the pool that backs a position is
the account's cross pool (wallet, equity and maintenance margin over all its cross positions) or,
for an isolated position, the position itself. Insurance funds are not ranked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from ..adl import (SIDE_FREE, AdlPolicy, adl_lights, adl_lights_by_quantity, adl_scores,
                   scores_both_sides)
from ..margin import mm_basis, mm_vector, value_all

if TYPE_CHECKING:
    from .front import Exchange


def walk_start(ex: Exchange) -> int:
    """dYdX's pseudo-random starting account, from the simulation's generator."""
    if ex.adl_policy is not AdlPolicy.DYDX:
        return 0
    return int(ex.rng.integers(0, max(ex.acc.n, 1)))


def position_scores(ex: Exchange, s: int, idx: np.ndarray, walk_start: int = 0) -> np.ndarray:
    """ADL scores of positions (s, idx) (one side), valued afresh at the current marks (the ADL
    walk's view: earlier liquidations in the same settle have changed the pools)."""
    return scores_and_pools(ex, s, idx, walk_start)[0]


def scores_and_pools(ex: Exchange, s: int, idx: np.ndarray, walk_start: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``position_scores``, and each position's notional, unrealized PnL and its pool's equity
    (the isolated margin plus PnL, or the cross pool's), as the scores saw them."""
    acc = ex.acc
    notional, upnl, mm, cross_equity, cross_mm = _fresh(ex, s, idx)
    iso = acc.iso[s, idx]
    scores = _scores(ex, acc.qty[s, idx], notional, acc.cost[s, idx], upnl, mm, iso,
                     acc.wallet[idx], acc.iso_margin[s, idx], cross_equity, cross_mm, idx,
                     walk_start)
    return scores, notional, upnl, np.where(iso, acc.iso_margin[s, idx] + upnl, cross_equity)


def _scores(ex: Exchange, qty: np.ndarray, notional: np.ndarray, cost: np.ndarray,
            upnl: np.ndarray, mm: np.ndarray, iso: np.ndarray, wallet: np.ndarray,
            iso_margin: np.ndarray, cross_equity: np.ndarray, cross_mm: np.ndarray,
            idx: np.ndarray, walk_start: int) -> np.ndarray:
    return adl_scores(ex.adl_policy, qty=qty, notional=notional, entry_notional=np.abs(cost),
                      upnl=upnl, wallet=np.where(iso, iso_margin, wallet),
                      equity=np.where(iso, iso_margin + upnl, cross_equity),
                      maint=np.where(iso, mm, cross_mm), account=idx, walk_start=walk_start)


def _fresh(ex: Exchange, s: int, idx: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Notional, uPnL and MM of (s, idx) and the cross pools of accounts idx, at current marks."""
    acc = ex.acc
    cross_equity = acc.wallet[idx].copy()
    cross_mm = np.zeros(len(idx), dtype=np.int64)
    marks = cast("list[int]", ex.marks.mark)  # every mark is set: the ADL walk runs in settle()
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for k, inst in enumerate(ex.instruments):
        value = acc.qty[k, idx] * (marks[k] * inst.unit_per_tick_lot)
        notional = np.abs(value)
        upnl = value - acc.cost[k, idx]
        cross = ~acc.iso[k, idx]
        mm = mm_vector(inst, mm_basis(ex.pools.mm_basis, notional, acc.cost[k, idx], ~cross))
        cross_equity += upnl * cross
        cross_mm += mm * cross
        if k == s:
            out = (notional, upnl, mm)
    assert out is not None  # s is one of the instruments
    return (*out, cross_equity, cross_mm)


def _lights_start(ex: Exchange) -> int:
    """The dYdX start account the lights rank from: the walk draws its own when ADL runs, so the
    lights show a queue whose start moves every second (without drawing from the generator:
    looking at the lights must not change the simulation)."""
    if ex.adl_policy is not AdlPolicy.DYDX:
        return 0
    return ex.t * 2_654_435_761 % max(ex.acc.n, 1)


def update_lights(ex: Exchange) -> None:
    """Recompute every open position's ADL score and 1–5 light (0 when flat) at the current
    marks (``Exchange.refresh_lights`` calls this when someone looks). Side-free policies score
    a symbol in one pass; the ranking is always per side; the lights bucket it by count of
    positions or by contracts (``MarketRules.adl_lights``)."""
    acc = ex.acc
    marks = cast("list[int]", ex.marks.mark)  # every mark is set: refresh_lights() checks
    val = value_all(ex.instruments, marks, acc, ex.pools.mm_basis)
    start = _lights_start(ex)
    lit = ex.lit_positions
    side_free = ex.adl_policy in SIDE_FREE
    by_count = ex.rules.adl_lights == "count"
    for s, sv in enumerate(val.symbols):
        light_row, score_row = acc.adl_light[s], acc.adl_score[s]  # row views: fast indexing
        light_row[lit[s]] = 0  # positions lit last time; some have closed since
        score_row[lit[s]] = 0.0
        lit[s] = sv.idx
        if sv.idx.size == 0:
            continue
        iso_margin = acc.iso_margin[s][sv.idx]
        wallet = np.where(sv.iso, iso_margin, acc.wallet[sv.idx])
        equity = np.where(sv.iso, iso_margin + sv.upnl, val.cross_equity[sv.idx])
        maint = np.where(sv.iso, sv.mm, val.cross_mm[sv.idx])
        columns = dict(qty=sv.qty, notional=sv.notional, entry_notional=np.abs(sv.cost),
                       upnl=sv.upnl, wallet=wallet, equity=equity, maint=maint, account=sv.idx)
        scores = scores_both_sides(ex.adl_policy, **columns) if side_free else None
        traders = ~acc.is_fund[sv.idx]
        for side_mask in (sv.qty > 0, sv.qty < 0):
            rows = np.flatnonzero(side_mask & traders)
            if rows.size == 0:
                continue
            idx = sv.idx[rows]
            if scores is not None:  # side_free
                sc = scores[rows]
            else:
                sc = adl_scores(ex.adl_policy, walk_start=start,
                                **{k: v[rows] for k, v in columns.items()})
            score_row[idx] = sc
            light_row[idx] = adl_lights(sc, idx) if by_count else \
                adl_lights_by_quantity(sc, idx, sv.qty[rows])
