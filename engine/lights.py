"""ADL scores and lights for every open position, and the same inputs for an ADL walk.

Positions are ranked within their symbol and side (crash.md): the pool that backs a position is
the account's cross pool (wallet, equity and maintenance margin over all its cross positions) or,
for an isolated position, the position itself. Insurance funds are not ranked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .adl import AdlPolicy, adl_lights, adl_scores
from .margin import mm_vector

if TYPE_CHECKING:
    from .exchange import Exchange


def _walk_start(ex: "Exchange") -> int:
    """dYdX's pseudo-random starting account, from the simulation's generator."""
    if ex.adl_policy is not AdlPolicy.DYDX:
        return 0
    return int(ex.rng.integers(0, max(ex.acc.n, 1)))


def position_scores(ex: "Exchange", s: int, idx: np.ndarray, walk_start: int = 0) -> np.ndarray:
    """ADL scores of positions (s, idx) (one side), valued afresh at the current marks (the ADL
    walk's view: earlier liquidations in the same settle have changed the pools)."""
    acc = ex.acc
    notional, upnl, mm, cross_equity, cross_mm = _fresh(ex, s, idx)
    iso = acc.iso[s, idx]
    return _scores(ex, acc.qty[s, idx], notional, acc.cost[s, idx], upnl, mm, iso,
                   acc.wallet[idx], acc.iso_margin[s, idx], cross_equity, cross_mm, idx,
                   walk_start)


def _scores(ex, qty, notional, cost, upnl, mm, iso, wallet, iso_margin, cross_equity, cross_mm,
            idx, walk_start):
    return adl_scores(ex.adl_policy, qty=qty, notional=notional, entry_notional=np.abs(cost),
                      upnl=upnl, wallet=np.where(iso, iso_margin, wallet),
                      equity=np.where(iso, iso_margin + upnl, cross_equity),
                      maint=np.where(iso, mm, cross_mm), account=idx, walk_start=walk_start)


def _fresh(ex: "Exchange", s: int, idx: np.ndarray):
    """Notional, uPnL and MM of (s, idx) and the cross pools of accounts idx, at current marks."""
    acc = ex.acc
    cross_equity = acc.wallet[idx].copy()
    cross_mm = np.zeros(len(idx), dtype=np.int64)
    out = None
    for k, inst in enumerate(ex.instruments):
        value = acc.qty[k, idx] * (ex.marks.mark[k] * inst.unit_per_tick_lot)
        notional = np.abs(value)
        upnl = value - acc.cost[k, idx]
        mm = mm_vector(inst, notional)
        cross = ~acc.iso[k, idx]
        cross_equity += upnl * cross
        cross_mm += mm * cross
        if k == s:
            out = (notional, upnl, mm)
    return (*out, cross_equity, cross_mm)


def update_lights(ex: "Exchange") -> None:
    """Recompute every open position's ADL score and 1–5 light (0 when flat), from the
    valuation the waterfall left behind."""
    acc = ex.acc
    val = ex.valuation
    start = _walk_start(ex)
    lit = ex.lit_positions
    for s, sv in enumerate(val.symbols):
        light_row, score_row = acc.adl_light[s], acc.adl_score[s]  # row views: fast indexing
        light_row[lit[s]] = 0  # positions lit last time; some have closed since
        score_row[lit[s]] = 0.0
        lit[s] = sv.idx
        if sv.idx.size == 0:
            continue
        traders = ~acc.is_fund[sv.idx]
        wallet = acc.wallet[sv.idx]
        iso_margin = acc.iso_margin[s][sv.idx]
        cross_equity, cross_mm = val.cross_equity[sv.idx], val.cross_mm[sv.idx]
        for side_mask in (sv.qty > 0, sv.qty < 0):
            rows = np.flatnonzero(side_mask & traders)
            if rows.size == 0:
                continue
            idx = sv.idx[rows]
            sc = _scores(ex, sv.qty[rows], sv.notional[rows], sv.cost[rows], sv.upnl[rows],
                         sv.mm[rows], sv.iso[rows], wallet[rows], iso_margin[rows],
                         cross_equity[rows], cross_mm[rows], idx, start)
            score_row[idx] = sc
            light_row[idx] = adl_lights(sc, idx)
