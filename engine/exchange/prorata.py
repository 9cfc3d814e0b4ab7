"""The pro-rata ADL walk over traders, all counterparties at once.

A pro-rata policy (``adl.PRO_RATA_POLICIES``: Drift, by contracts, by profit, capped) closes a
share of *every* opposite position, not the head of a queue: a run of the default level under one
makes about a million ADL fills, against about fifteen hundred under a ranked queue. Walked one
counterparty at a time (``waterfall._walk``) that cost 35 s of a 43 s run; here each step of the
walk is one numpy operation over the counterparties, with the same integers in the same order:

* each counterparty's cap (``waterfall._carry``) comes from its pool as the walk found it — a fill
  changes only the bankrupt pool and that counterparty's, so no earlier fill moves a later cap;
* a counterparty only ever reduces (its share is at most its position), so its new cost basis is
  ``cost × new ÷ old`` rounded down, as ``Accounts.apply_fill`` takes it, and an isolated one's
  margin releases the same way; the products are split (``_scaled``) so that they stay inside
  int64 (for positions up to ``SPLIT_SAFE_LOTS``);
* the bankrupt pool's fills run in order on Python ints (its cost basis is rounded down at every
  fill, so the order matters), and every ``AdlFill`` is emitted in the order the loop emitted it,
  with a counterparty's reduce-only orders trimmed right after its own fill.

A walk over the funds, one that would flip the bankrupt position, or one against a position of more
than ``SPLIT_SAFE_LOTS`` keeps the one-at-a-time path;
``tests/engine/test_prorata_walk.py`` checks that both paths give the same state and events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..events import AdlFill

if TYPE_CHECKING:
    from .front import Exchange


def _scaled(value: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``value × num // den`` (floor, as Python ints take it) without the product leaving int64,
    for |num| ≤ |den| ≤ ``SPLIT_SAFE_LOTS``: value = k·den + r with 0 ≤ |r| < |den|, so the result
    is k·num + r·num // den (k·num·den divides exactly, and |r·num| < den²)."""
    k = value // den
    r = value - k * den
    return k * num + (r * num) // den


SPLIT_SAFE_LOTS = 3_037_000_499
"""⌊√(2⁶³ − 1)⌋: ``_scaled``'s remainder times a position's lots stays inside int64 up to this
many lots (3 billion DOGE); a walk past it keeps the one-at-a-time path, on Python ints."""


def vectorizable(ex: Exchange, a: int, s: int, idx: np.ndarray, lots: int) -> bool:
    """Can ``walk`` close ``lots`` (signed, the bankrupt side) of (s, a) against ``idx``: traders
    only, none holding more than ``SPLIT_SAFE_LOTS``, and a bankrupt position at least that
    large (so that it only reduces)?"""
    q = int(ex.acc.q[s, a])
    return (q * lots > 0 and abs(lots) <= abs(q) and not ex.acc.is_fund[idx].any()
            and int(np.abs(ex.acc.qty[s, idx]).max(initial=0)) <= SPLIT_SAFE_LOTS)


def walk(ex: Exchange, a: int, s: int, lots: int, price: int, idx: np.ndarray,
         take: np.ndarray, scores: np.ndarray, notional: np.ndarray, upnl: np.ndarray,
         equity: np.ndarray, checked: bool) -> int:
    """``waterfall._walk`` for a pro-rata policy (``vectorizable``): position i of ``idx`` gives
    up ``take[i]`` lots, no more than its pool can carry when ``checked``; ``scores`` …
    ``equity``: the walk's view of each (``lights.scores_and_pools``). Returns the signed lots
    left."""
    acc, unit, sign = ex.acc, ex.units[s], 1 if lots > 0 else -1
    mark = ex.marks.mark[s]
    assert mark is not None  # settle() runs the waterfall only once every mark is set
    loss_per_lot = sign * (price - mark) * unit
    need = abs(lots)
    queued = np.flatnonzero(take)
    x = take[queued].astype(np.int64)
    if checked and loss_per_lot > 0:  # _carry: its pool at zero or above
        x = np.minimum(x, np.maximum(equity[queued], 0) // loss_per_lot)
        x = _isolated_caps(ex, s, idx[queued], x, price, unit)
    live = x > 0
    ranks, x = queued[live], x[live]  # rank: the place in the queue, skipped ones counted
    rank = np.flatnonzero(live)
    if not len(x):
        return sign * need
    c = idx[ranks]
    old_q = acc.qty[s, c]
    held = np.abs(old_q)
    pnl = _scaled(upnl[ranks], x, held)  # its uPnL on the closed lots, as it stood
    new_q = old_q + sign * x
    old_c = acc.cost[s, c]
    new_c = _scaled(old_c, new_q, old_q)
    realized = new_c - (old_c + sign * x * (price * unit))
    acc.cost[s, c] = new_c
    acc.qty[s, c] = new_q
    gaps = _counterparty_pools(acc, s, c, old_q, new_q, realized)
    xs, cs = x.tolist(), c.tolist()
    _bankrupt_fills(ex, a, s, sign, xs, price, unit)
    acc.touched.append(a)
    acc.touched.extend(cs)
    # notional ÷ equity as Python divides ints (correctly rounded, past 2⁵³ too)
    leverage = [n / e if e > 0 else 0.0
                for n, e in zip(notional[ranks].tolist(), equity[ranks].tolist(), strict=True)]
    t, symbol, policy = ex.t, ex.symbols[s], ex.adl_policy.value
    events = ex.journal.events
    fills = [AdlFill(t, a, cp, symbol, -sign, q, price, r, sc, policy, mark, p, lev)
             for cp, q, r, sc, p, lev in zip(cs, xs, rank.tolist(), scores[ranks].tolist(),
                                             pnl.tolist(), leverage, strict=True)]
    reduce_only = ex.ledger.reduce_only
    trimmed = [k for k, cp in enumerate(cs) if cp in reduce_only]
    done = 0
    for k in trimmed:  # their reduce-only orders are trimmed right after their own fill
        events.extend(fills[done:k + 1])
        done = k + 1
        ex.ledger.trim_reduce_only(cs[k], s)
    events.extend(fills[done:])
    for cp, gap in gaps:
        ex.funds.cover_isolated(cp, gap)
    return sign * (need - sum(xs))


def _isolated_caps(ex: Exchange, s: int, c: np.ndarray, x: np.ndarray, price: int,
                   unit: int) -> np.ndarray:
    """``_carry``'s second cap for isolated counterparties: the close's loss against the entry
    stays within the isolated margin (less 1 unit for rounding); on Python ints, as there."""
    acc = ex.acc
    iso = np.flatnonzero(acc.iso[s, c])
    if not len(iso):
        return x
    x = x.copy()
    ids = c[iso]
    for k, q, cost, margin in zip(iso.tolist(), acc.qty[s, ids].tolist(),
                                  acc.cost[s, ids].tolist(), acc.iso_margin[s, ids].tolist(),
                                  strict=True):
        loss_at_price = cost - q * price * unit  # the whole position's loss at price
        if loss_at_price > 0:
            x[k] = min(int(x[k]), max(0, margin - 1) * abs(q) // loss_at_price)
    return x


def _counterparty_pools(acc, s: int, c: np.ndarray, old_q: np.ndarray, new_q: np.ndarray,
                        realized: np.ndarray) -> list[tuple[int, int]]:
    """Book each counterparty's realized PnL in its pool, as ``Accounts.apply_fill`` does for a
    reducing fill: a cross one's wallet; an isolated one frees the closed lots' share of its
    margin with their PnL, to the wallet when that is above zero, else out of the margin the rest
    keeps (all of it when closed), any shortfall falling to the wallet. Returns (account, gap) of
    those isolated ones whose wallet paid a shortfall, in order: the funds pay it back
    (``Funds.cover_isolated``), as ``waterfall._walk`` does."""
    iso = acc.iso[s, c]
    cross = c[~iso]
    acc.wallet[cross] += realized[~iso]
    if not iso.any():
        return []
    c, old_q, new_q = c[iso], old_q[iso], new_q[iso]
    margin = acc.iso_margin[s, c]
    keep = np.where(new_q == 0, 0, _scaled(margin, np.abs(new_q), np.abs(old_q)))
    freed = margin - keep + realized[iso]
    kept = keep + np.minimum(freed, 0)
    short = np.minimum(kept, 0)
    acc.wallet[c] += np.maximum(freed, 0) + short
    acc.iso_margin[s, c] = kept - short
    hit = np.flatnonzero(short < 0)
    return list(zip(c[hit].tolist(), (-short[hit]).tolist(), strict=True))


def _bankrupt_fills(ex: Exchange, a: int, s: int, sign: int, xs: list[int], price: int,
                    unit: int) -> None:
    """The bankrupt position's side of every fill, in order, as ``Accounts.apply_fill`` takes a
    reducing fill (the cost basis, and an isolated margin's release, rounded down at each)."""
    acc = ex.acc
    q, cost, wallet = acc.q[s, a], acc.c[s, a], 0
    iso = bool(acc.isov[s, a])
    margin = int(acc.im[s, a])
    for x in xs:
        new_q = q - sign * x
        new_c = cost * new_q // q if new_q else 0
        realized = new_c - (cost - sign * x * price * unit)
        if iso:  # as Accounts._isolated_fill
            keep = margin * abs(new_q) // abs(q) if new_q else 0
            freed = margin - keep + realized
            if freed >= 0:
                wallet += freed
                margin = keep
            else:
                margin = keep + freed
            if margin < 0:
                wallet += margin
                margin = 0
        else:
            wallet += realized
        q, cost = new_q, new_c
    acc.q[s, a], acc.c[s, a], acc.w[a] = q, cost, acc.w[a] + wallet
    if iso:
        acc.im[s, a] = margin
