"""Auto-deleveraging (ADL): the queue of profitable positions closed when the insurance fund is dry.

One call ranks the open positions of ONE symbol and ONE side (the caller splits longs from shorts).
Every input is a 1-D column with one entry per position; money columns are int64 money units
(1e-6 USD). Balances stay integers: they become float64 only inside a score, and a score is used
for nothing but ordering.

Queue order is: score descending, ties broken by account id ascending, so every ranking here is
deterministic. ``adl_order`` gives the whole queue (when ADL executes), ``adl_lights`` the
Bybit-style five lights and ``adl_rank`` one position's place (for the UI), without a full sort.

Scores are computed one ufunc at a time into preallocated float64 buffers, with no temporary per
operator and no ``where=`` masks over mixed data (both cost more than the arithmetic at 1M
positions; ``../shared/docs/performance.md``). Division by a bankrupt pool's equity is done and then
overwritten with -inf, so it runs under ``np.errstate``.
"""

from __future__ import annotations

import enum

import numpy as np

from .allocation import allocate as allocate, pro_rata as pro_rata  # re-exported
from .errors import InvalidInput
from .units import MONEY_PER_USD

LIGHTS = 5
"""Number of ADL lights: 5 = first 20% of the queue, 1 = last 20%."""


class AdlPolicy(enum.StrEnum):
    """Which venue's rule orders the ADL queue; a level picks one (``../shared/docs/crash.md``)."""

    ARTICLE = "article"
    """The article's formula, the default: ``PnL% × effective leverage`` with
    ``PnL% = uPnL / notional`` and ``effective leverage = notional / equity``."""

    BITMEX = "bitmex"
    """BitMEX / OKX family: ``PnL% × leverage`` for winners, ``PnL% / leverage`` for losers, with
    ``PnL% = uPnL / entry notional``; losers rank below every winner."""

    BINANCE = "binance"
    """Binance's published LeveragePnL: ``max(0, uPnL) / max(1 USD, wallet) × maint / equity``."""

    HYPERLIQUID = "hyperliquid"
    """``(mark / entry) × notional / equity`` for longs, ``(entry / mark) × notional / equity`` for
    shorts."""

    DYDX = "dydx"
    """dYdX v4: no ranking; the queue walks account ids upward from a pseudo-random start."""

    DRIFT = "drift"
    """Drift: no queue; the loss is spread pro rata over open interest (score = notional)."""

    # Benchmarks beside the venues' (the ADL research's transparent allocations, issue 16):
    PRO_RATA = "pro_rata"
    """Every opposite position closes the same share of its contracts (as ``drift``)."""

    PRO_RATA_PROFIT = "pro_rata_profit"
    """Lots closed in proportion to each position's unrealized profit (none from a loser while a
    winner has lots left)."""

    CAPPED_PRO_RATA = "capped_pro_rata"
    """Pro rata by profit, but no position gives more than half its contracts in one ADL while
    others have room (``CAP_SHARE``); what is left then goes pro rata by contracts."""

    OPTIMAL = "optimal"
    """The least profit taken: lots are closed from the positions with the least unrealized profit
    per lot first. For one ADL of ``n`` lots this is the exact optimum of the linear program
    "minimise Σ profit per lot × lots taken, Σ lots = n, 0 ≤ lots ≤ position" (a fractional
    knapsack: the greedy order is optimal), so no other policy takes less profit on the same
    state (``tests/engine/test_adl_benchmarks.py``)."""

    @classmethod
    def parse(cls, text: str) -> AdlPolicy:
        """The policy named ``text`` (exact, lower case), or ``InvalidInput`` listing the names."""
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(repr(p.value) for p in cls)
            raise InvalidInput(f"unknown ADL policy {text!r}; allowed: {allowed}") from None


# --------------------------------------------------------------------------------------- scores


def adl_scores(
    policy: AdlPolicy | str,
    *,
    qty: np.ndarray,
    notional: np.ndarray,
    entry_notional: np.ndarray,
    upnl: np.ndarray,
    wallet: np.ndarray,
    equity: np.ndarray,
    maint: np.ndarray,
    account: np.ndarray,
    walk_start: int = 0,
) -> np.ndarray:
    """ADL score of each position of one symbol and one side; higher = earlier in the queue.

    Columns (int64, one entry per position): ``qty`` signed lots (nonzero, one sign per call),
    ``notional`` = |qty| × mark × multiplier (> 0), ``entry_notional`` = |qty| × average entry ×
    multiplier (> 0), ``upnl`` the position's unrealized PnL at mark, and for the margin pool
    backing it (cross: the account; isolated: the position's own margin) ``wallet``, ``equity``
    (wallet + all unrealized PnL of the pool) and ``maint`` (maintenance margin). ``account`` ids
    are unique within a call. ``walk_start`` is the dYdX walk's start account id, drawn by the
    caller from the simulation's generator.

    Formulas (``equity ≤ 0`` = bankrupt pool, being liquidated: ``-inf`` wherever the formula
    divides by equity, so it ranks last):

    - ARTICLE: ``uPnL / notional × notional / equity``, computed as ``uPnL / equity`` (the notional
      cancels; one rounding instead of three).
    - BITMEX: ``p = uPnL / entry_notional``, ``lev = notional / equity``;
      ``p × lev`` if ``p > 0`` else ``p / lev``.
    - BINANCE: ``max(0, uPnL) / max(1 USD, wallet) × maint / equity``, the margin ratio being 0
      when ``equity ≤ 0`` (published rule: so a bankrupt pool scores 0, not ``-inf``).
    - HYPERLIQUID: ``lev = notional / equity``; longs ``notional / entry_notional × lev``
      (mark / entry), shorts ``entry_notional / notional × lev`` (entry / mark).
    - DYDX: ``-(place in the walk)``: the walk visits accounts in ascending id from the first id
      ``≥ walk_start``, wrapping around; the start scores 0, the next -1, ...
    - DRIFT, PRO_RATA: ``notional`` (the share of the loss grows with size; see ``pro_rata``).
    - PRO_RATA_PROFIT, CAPPED_PRO_RATA: ``max(0, uPnL)`` (the share grows with profit).
    - OPTIMAL: ``-(uPnL / |qty|)``: the least profit per lot first.
    """
    policy = policy if isinstance(policy, AdlPolicy) else AdlPolicy.parse(policy)
    cols = _position_columns(
        qty=qty, notional=notional, entry_notional=entry_notional, upnl=upnl,
        wallet=wallet, equity=equity, maint=maint, account=account,
    )
    _check_one_side(cols["qty"])
    return _SCORERS[policy](cols, walk_start)


SIDE_FREE = frozenset({AdlPolicy.ARTICLE, AdlPolicy.BITMEX, AdlPolicy.BINANCE, AdlPolicy.DRIFT,
                       AdlPolicy.PRO_RATA, AdlPolicy.PRO_RATA_PROFIT, AdlPolicy.CAPPED_PRO_RATA,
                       AdlPolicy.OPTIMAL})
"""Policies whose score of a position does not depend on the other positions or its side: one
call can score both sides of a symbol at once (``scores_both_sides``)."""


def scores_both_sides(policy: AdlPolicy, **columns: np.ndarray) -> np.ndarray:
    """Scores of every position of one symbol, both sides together, for a ``SIDE_FREE`` policy
    (the ranking itself stays per side). Columns as in ``adl_scores``; trusted, unchecked."""
    if policy not in SIDE_FREE:
        raise InvalidInput(f"{policy.value} scores depend on the side; use adl_scores per side")
    return _SCORERS[policy](columns, 0)


def _position_columns(**columns: np.ndarray) -> dict[str, np.ndarray]:
    """The columns as 1-D integer arrays of one length, or ``InvalidInput`` naming the bad one."""
    out = {name: _int_column(name, values) for name, values in columns.items()}
    lengths = {name: col.size for name, col in out.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInput(f"ADL columns must have one length, got {lengths}")
    return out


def _check_one_side(qty: np.ndarray) -> None:
    """Every qty nonzero and of one sign: ADL ranks longs and shorts separately."""
    if qty.size and not (qty.min() > 0 or qty.max() < 0):
        raise InvalidInput(
            f"qty must be all long (> 0) or all short (< 0) in one ADL call, "
            f"got values from {int(qty.min())} to {int(qty.max())}"
        )


def _int_column(name: str, values: object) -> np.ndarray:
    col = np.asarray(values)
    if col.ndim != 1 or (col.size and col.dtype.kind not in "iu"):
        raise InvalidInput(
            f"{name} must be a 1-D integer array, got shape {col.shape} of {col.dtype}"
        )
    return col.astype(np.int64, copy=False)


def _bankrupt_last(out: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """Overwrite the scores of bankrupt pools (equity ≤ 0) with -inf."""
    np.copyto(out, -np.inf, where=equity <= 0)
    return out


def _article_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``uPnL / notional × notional / equity = uPnL / equity``; -inf if equity ≤ 0."""
    out = np.empty(c["upnl"].size)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(c["upnl"], c["equity"], out=out)
    return _bankrupt_last(out, c["equity"])


def _bitmex_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """p × lev if p > 0 else p / lev, where p = uPnL / entry_notional and lev = notional / equity.

    Computed branch-free as ``max(p × lev, 0) + min(p / lev, 0)``: with lev > 0 both terms have the
    sign of p, so exactly one survives. (A ``where=`` mask over mixed winners and losers is slower.)
    """
    equity = c["equity"]
    pnl_pct = np.divide(c["upnl"], c["entry_notional"], out=np.empty(equity.size))
    lev = np.empty(equity.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(c["notional"], equity, out=lev)
        out = np.multiply(pnl_pct, lev, out=np.empty(equity.size))
        np.maximum(out, 0.0, out=out)
        np.divide(pnl_pct, lev, out=pnl_pct)
        np.minimum(pnl_pct, 0.0, out=pnl_pct)
    out += pnl_pct
    return _bankrupt_last(out, equity)


def _binance_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``max(0, uPnL) / max(1 USD, wallet) × (maint / equity, or 0 if equity ≤ 0)``."""
    upnl, equity = c["upnl"], c["equity"]
    out = np.maximum(upnl, 0, out=np.empty(upnl.size))
    buf = np.maximum(c["wallet"], MONEY_PER_USD, out=np.empty(upnl.size))
    out /= buf
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(c["maint"], equity, out=buf)
    np.copyto(buf, 0.0, where=equity <= 0)
    out *= buf
    return out


def _hyperliquid_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``lev = notional / equity``; longs ``notional / entry_notional × lev`` (mark / entry × lev),
    shorts ``entry_notional / notional × lev`` (entry / mark × lev)."""
    notional, entry, equity = c["notional"], c["entry_notional"], c["equity"]
    out = np.empty(notional.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(notional, equity, out=out)
    long = notional.size > 0 and c["qty"][0] > 0  # one side per call (checked by adl_scores)
    # notional / entry_notional = mark / entry, which rises with a long's profit; shorts invert it
    top, bottom = (notional, entry) if long else (entry, notional)
    out *= np.divide(top, bottom, out=np.empty(out.size))
    return _bankrupt_last(out, equity)


def _dydx_scores(c: dict[str, np.ndarray], walk_start: int) -> np.ndarray:
    """``-(place in the walk)``: ascending ids from the first id ≥ ``walk_start``, then wrapping."""
    account = c["account"]
    out = np.empty(account.size)
    if account.size == 0:
        return out
    low, high = int(account.min()), int(account.max())
    start = min(max(int(walk_start), low), high + 1)
    walk_key = account - start  # the walk visits walk_key 0, 1, ... in turn
    walk_key[walk_key < 0] += high - low + 1  # ids below the start come after the top
    if high - low < 8 * account.size:  # dense ids, the usual case: count instead of sorting
        present = np.zeros(high - low + 1, dtype=bool)
        present[walk_key] = True
        ids_up_to = np.cumsum(present, dtype=np.int64)
        np.subtract(1, ids_up_to[walk_key], out=out)  # -(ids strictly before it in the walk)
    else:
        out[np.argsort(walk_key)] = -np.arange(account.size, dtype=np.float64)
    return out


def _drift_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``notional``: no queue; bigger positions take a bigger share of the socialised loss."""
    return c["notional"].astype(np.float64)


def _profit_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``max(0, uPnL)``: a bigger profit takes a bigger share."""
    return np.maximum(c["upnl"], 0).astype(np.float64)


def _optimal_scores(c: dict[str, np.ndarray], _walk_start: int) -> np.ndarray:
    """``-(uPnL / |qty|)``: the least profit per lot first."""
    return -(c["upnl"] / np.abs(c["qty"]))


_SCORERS = {
    AdlPolicy.ARTICLE: _article_scores,
    AdlPolicy.BITMEX: _bitmex_scores,
    AdlPolicy.BINANCE: _binance_scores,
    AdlPolicy.HYPERLIQUID: _hyperliquid_scores,
    AdlPolicy.DYDX: _dydx_scores,
    AdlPolicy.DRIFT: _drift_scores,
    AdlPolicy.PRO_RATA: _drift_scores,
    AdlPolicy.PRO_RATA_PROFIT: _profit_scores,
    AdlPolicy.CAPPED_PRO_RATA: _profit_scores,
    AdlPolicy.OPTIMAL: _optimal_scores,
}

PRO_RATA_POLICIES = frozenset({AdlPolicy.DRIFT, AdlPolicy.PRO_RATA, AdlPolicy.PRO_RATA_PROFIT,
                               AdlPolicy.CAPPED_PRO_RATA})
"""Policies that split an ADL over many positions at once instead of walking a queue."""

CAP_SHARE = (1, 2)
"""``capped_pro_rata``: the most of a position's contracts one ADL takes while others have room."""


# ---------------------------------------------------------------------------- queue and lights


def adl_order(scores: np.ndarray, account: np.ndarray) -> np.ndarray:
    """Indices of the positions in queue order: score descending, then account id ascending."""
    scores, account = _ranking_columns(scores, account)
    _reject_nan(scores)
    return np.lexsort((account, -scores)).astype(np.int64, copy=False)


def adl_rank(scores: np.ndarray, account: np.ndarray, i: int) -> int:
    """0-based place of position ``i`` in the queue (the UI's "#3 of 1,240" shows rank + 1).

    The count of positions with a higher score plus tied ones with a smaller account id: O(n).
    """
    scores, account = _ranking_columns(scores, account)
    if not 0 <= i < scores.size:
        raise InvalidInput(f"position index {i!r} is outside 0..{scores.size - 1}")
    _reject_nan(scores)
    score = scores[i]
    tied = np.flatnonzero(scores == score)
    return int(np.count_nonzero(scores > score) + np.count_nonzero(account[tied] < account[i]))


def adl_lights(scores: np.ndarray, account: np.ndarray) -> np.ndarray:
    """Bybit-style lights (int8): ``5 - (5·rank) // n``; 5 = first 20% of the queue, 1 = last 20%.

    Without a full sort: a position's light is 1 + the number of bucket edges ``e_k = ceil(k·n/5)``
    (k = 1..4) it ranks before. ``np.partition`` finds the score ``t`` at rank ``e`` in O(n); a
    position ranks before ``e`` iff its score is above ``t``, or equal to ``t`` with an account id
    below that of the position at rank ``e``, which is the ``(e − #above)``-th smallest id among the
    ties at ``t``. The result equals the full lexsort exactly.
    """
    scores, account = _ranking_columns(scores, account)
    n = scores.size
    lights = np.ones(n, dtype=np.int8)
    if n == 0:
        return lights
    edges = [-(-k * n // LIGHTS) for k in range(1, LIGHTS)]
    lights += sum(e >= n for e in edges)  # an edge past the end: every position ranks before it
    inner = sorted({e for e in edges if e < n})
    # Rank e (descending) is ascending index n-1-e; index n-1 (the maximum) also catches a NaN.
    part = np.partition(scores, sorted({n - 1 - e for e in inner} | {n - 1}))
    if np.isnan(part[n - 1]):
        raise InvalidInput("ADL scores must not be NaN")
    mask = np.empty(n, dtype=bool)
    for e in inner:
        edge_count = edges.count(e)  # edges share a rank only when n < 5
        threshold = part[n - 1 - e]
        np.greater(scores, threshold, out=mask)
        for _ in range(edge_count):
            lights += mask
        ties_ahead = e - int(np.count_nonzero(mask))  # tied positions that rank before e
        if ties_ahead:
            tied = np.flatnonzero(np.equal(scores, threshold, out=mask))
            tied_accounts = account[tied]
            edge_account = np.partition(tied_accounts, ties_ahead)[ties_ahead]
            lights[tied[tied_accounts < edge_account]] += edge_count
    return lights


def adl_lights_by_quantity(scores: np.ndarray, account: np.ndarray,
                           qty: np.ndarray) -> np.ndarray:
    """BitMEX-style lights (int8): the queue in 20% steps of *contracts*, not of positions. A
    position's percentile is the share of the side's contracts at or before it in the queue
    (score descending, ties by account id), rounded up to the next 20%: 20% → 5 lights (first
    in line), 100% → 1. BitMEX's published example (tests/engine/test_venues.py) has six longs of
    10, 10, 20, 30, 20 and 10 contracts whose percentiles are 20, 40, 60, 80, 80 and 100%: a
    count rule would give the fifth 100%. Exact: integer contracts, one full sort."""
    scores, account = _ranking_columns(scores, account)
    size = np.abs(_int_column("qty", qty))
    if size.shape != scores.shape:
        raise InvalidInput(f"qty must match the scores, got {size.shape} and {scores.shape}")
    _reject_nan(scores)
    lights = np.ones(scores.size, dtype=np.int8)
    total = int(size.sum())
    if total == 0:
        return lights
    order = np.lexsort((account, -scores))
    cumulative = np.cumsum(size[order])
    bucket = (LIGHTS * cumulative + total - 1) // total  # ceil(5 · share): 1..5
    lights[order] = (LIGHTS + 1 - bucket).astype(np.int8)
    return lights


def _ranking_columns(scores: object, account: object) -> tuple[np.ndarray, np.ndarray]:
    """Scores as float64 and account ids as int64, 1-D and of one length, or ``InvalidInput``."""
    scores = np.asarray(scores, dtype=np.float64)
    account = _int_column("account", account)
    if scores.ndim != 1 or scores.shape != account.shape:
        raise InvalidInput(
            f"scores and account must be 1-D of one length, got {scores.shape} and {account.shape}"
        )
    return scores, account


def _reject_nan(scores: np.ndarray) -> None:
    nan = np.flatnonzero(np.isnan(scores))
    if nan.size:
        raise InvalidInput(f"ADL scores must not be NaN, got NaN at index {int(nan[0])}")
