"""ADL ranking: every policy's score by hand, the queue order, the lights and the pro-rata split.

Positions are written in whole USD (``M`` money units each) so the arithmetic in the comments can be
checked by hand; ``cross`` means the pool is the whole account (its equity includes the account's
other positions), ``isolated`` means the pool is the position's own margin.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adl import AdlPolicy, adl_lights, adl_order, adl_rank, adl_scores, pro_rata
from engine.errors import InvalidInput

M = 1_000_000  # money units per USD
INF = math.inf


@dataclass(frozen=True)
class Pos:
    """One position and its margin pool, in whole USD (qty in lots)."""

    account: int
    qty: int
    notional: int
    entry: int  # entry notional
    upnl: int
    wallet: int
    equity: int
    maint: int


def columns(*positions: Pos) -> dict[str, np.ndarray]:
    """The ``adl_scores`` keyword columns, money in units."""
    account, qty, *money = (np.array(col, dtype=np.int64) for col in zip(*map(astuple, positions), strict=False))
    names = ("notional", "entry_notional", "upnl", "wallet", "equity", "maint")
    return {"account": account, "qty": qty} | {name: col * M for name, col in zip(names, money, strict=False)}


def scores(policy: AdlPolicy, *positions: Pos, walk_start: int = 0) -> list[float]:
    return adl_scores(policy, **columns(*positions), walk_start=walk_start).tolist()


def queue(policy: AdlPolicy, *positions: Pos, walk_start: int = 0) -> list[int]:
    """Account ids in ADL queue order."""
    cols = columns(*positions)
    order = adl_order(adl_scores(policy, **cols, walk_start=walk_start), cols["account"])
    return cols["account"][order].tolist()


# One side of one contract, mark 10 USD per lot. Shorts profit when the mark is below entry.
SHORT_A = Pos(7, -100, 1_000, 1_410, 410, 2_923, 3_333, 50)
# cross, the account's only position: equity 3,333 = wallet 2,923 + uPnL 410
SHORT_B = Pos(3, -500, 5_000, 5_500, 500, 500, 1_000, 250)
# isolated at 11x on entry: margin 500, equity 500 + 500 = 1,000
SHORT_C = Pos(9, -200, 2_000, 1_600, -400, 1_000, 800, 100)
# cross: wallet 1,000, this short -400, a long on another symbol +200: equity 800
SHORT_D = Pos(4, -300, 3_000, 2_400, -600, 500, -100, 150)
# isolated, bankrupt: margin 500 - 600 = -100
SHORTS = (SHORT_A, SHORT_B, SHORT_C, SHORT_D)

# Longs of the same contract: they profit when the mark is above entry.
LONG_E = Pos(1, 50, 500, 400, 100, 1_000, 800, 60)
# cross: wallet 1,000, this long +100, a short elsewhere -300: equity 800
LONG_F = Pos(2, 1_000, 10_000, 12_500, -2_500, 2_500, 0, 500)
# isolated at 5x: margin 2,500 - 2,500 = 0, bankrupt exactly
LONG_G = Pos(5, 200, 2_000, 1_000, 1_000, 100, 1_100, 20)
# isolated at 10x: margin 100 + 1,000 = 1,100
LONG_H = Pos(8, 100, 1_000, 1_250, -250, 5_000, 4_750, 10)
# cross, the account's only position: 5,000 - 250 = 4,750
LONGS = (LONG_E, LONG_F, LONG_G, LONG_H)


def test_article_shorts_and_longs() -> None:
    # PnL% x eff.lev = uPnL/notional x notional/equity
    # A: 410/1,000 x 1,000/3,333 = 0.41 x 0.300030 = 0.123012
    # B: 500/5,000 x 5,000/1,000 = 0.10 x 5 = 0.5
    # C: -400/2,000 x 2,000/800 = -0.2 x 2.5 = -0.5
    # D: equity -100 <= 0 -> -inf
    assert scores(AdlPolicy.ARTICLE, *SHORTS) == pytest.approx([410 / 3_333, 0.5, -0.5, -INF])
    assert queue(AdlPolicy.ARTICLE, *SHORTS) == [3, 7, 9, 4]  # B, A, C, D
    # E: 100/500 x 500/800 = 0.2 x 0.625 = 0.125
    # F: equity 0 -> -inf
    # G: 1,000/2,000 x 2,000/1,100 = 0.5 x 1.818182 = 0.909091
    # H: -250/1,000 x 1,000/4,750 = -0.25 x 0.210526 = -0.052632
    expected = [0.125, -INF, 1_000 / 1_100, -250 / 4_750]
    assert scores(AdlPolicy.ARTICLE, *LONGS) == pytest.approx(expected)
    assert queue(AdlPolicy.ARTICLE, *LONGS) == [5, 1, 8, 2]  # G, E, H, F


def test_bitmex_shorts_and_longs() -> None:
    # p = uPnL / entry notional, lev = notional / equity; p x lev if p > 0 else p / lev
    # A: 410/1,410 x 1,000/3,333 = 0.290780 x 0.300030 = 0.087243
    # B: 500/5,500 x 5,000/1,000 = 0.090909 x 5 = 0.454545
    # C: (-400/1,600) / (2,000/800) = -0.25 / 2.5 = -0.1
    # D: bankrupt -> -inf
    assert scores(AdlPolicy.BITMEX, *SHORTS) == pytest.approx(
        [410 / 1_410 * 1_000 / 3_333, 500 / 5_500 * 5, -0.1, -INF]
    )
    assert queue(AdlPolicy.BITMEX, *SHORTS) == [3, 7, 9, 4]
    # E: 100/400 x 500/800 = 0.25 x 0.625 = 0.15625
    # F: bankrupt -> -inf
    # G: 1,000/1,000 x 2,000/1,100 = 1.818182
    # H: (-250/1,250) / (1,000/4,750) = -0.2 / 0.210526 = -0.95
    assert scores(AdlPolicy.BITMEX, *LONGS) == pytest.approx([0.15625, -INF, 2_000 / 1_100, -0.95])
    assert queue(AdlPolicy.BITMEX, *LONGS) == [5, 1, 8, 2]


def test_binance_shorts_and_longs() -> None:
    # max(0, uPnL) / max(1 USD, wallet) x maint / equity (margin ratio 0 when equity <= 0)
    # A: 410/2,923 x 50/3,333 = 0.140267 x 0.015002 = 0.0021042
    # B: 500/500 x 250/1,000 = 1 x 0.25 = 0.25
    # C: max(0, -400) = 0 -> 0
    # D: 0 (a loss, and equity -100 gives margin ratio 0): not -inf, the published rule
    expected = [410 / 2_923 * 50 / 3_333, 0.25, 0, 0]
    assert scores(AdlPolicy.BINANCE, *SHORTS) == pytest.approx(expected)
    assert queue(AdlPolicy.BINANCE, *SHORTS) == [3, 7, 4, 9]  # B, A, then the 0s by account id
    # E: 100/1,000 x 60/800 = 0.1 x 0.075 = 0.0075
    # F: 0; G: 1,000/100 x 20/1,100 = 10 x 0.018182 = 0.181818; H: 0
    assert scores(AdlPolicy.BINANCE, *LONGS) == pytest.approx([0.0075, 0, 200 / 1_100, 0])
    assert queue(AdlPolicy.BINANCE, *LONGS) == [5, 1, 2, 8]


def test_binance_wallet_floor_is_one_usd() -> None:
    tiny = Pos(1, 1, 10, 8, 2, 0, 0, 0)  # isolated margin 0.40 USD, equity 2.40, maint 0.05
    cols = columns(tiny)
    cols["wallet"][0], cols["equity"][0], cols["maint"][0] = 400_000, 2_400_000, 50_000
    # 2 / max(1, 0.40) = 2 (not 5), x 0.05/2.40 = 0.0208333 -> 0.0416667
    assert adl_scores("binance", **cols).tolist() == pytest.approx([2 * 0.05 / 2.40])
    # cross account, wallet -50, this long +300, another -100: equity 150; 300 / 1 x 15/150 = 30
    in_debt = Pos(2, 30, 400, 100, 300, -50, 150, 15)
    assert scores(AdlPolicy.BINANCE, in_debt) == pytest.approx([30.0])


def test_hyperliquid_shorts_and_longs() -> None:
    # shorts: entry/mark x notional/equity (entry/mark = entry notional / notional)
    # A: 1,410/1,000 x 1,000/3,333 = 1.41 x 0.300030 = 0.423042
    # B: 5,500/5,000 x 5,000/1,000 = 1.1 x 5 = 5.5
    # C: 1,600/2,000 x 2,000/800 = 0.8 x 2.5 = 2.0   (a loser, above winner A: leverage wins)
    # D: bankrupt -> -inf
    assert scores(AdlPolicy.HYPERLIQUID, *SHORTS) == pytest.approx([1_410 / 3_333, 5.5, 2.0, -INF])
    assert queue(AdlPolicy.HYPERLIQUID, *SHORTS) == [3, 9, 7, 4]  # B, C, A, D
    # longs: mark/entry x notional/equity
    # E: 500/400 x 500/800 = 1.25 x 0.625 = 0.78125
    # F: -inf; G: 2,000/1,000 x 2,000/1,100 = 2 x 1.818182 = 3.636364
    # H: 1,000/1,250 x 1,000/4,750 = 0.8 x 0.210526 = 0.168421
    expected = [0.78125, -INF, 4_000 / 1_100, 0.8 / 4.75]
    assert scores(AdlPolicy.HYPERLIQUID, *LONGS) == pytest.approx(expected)
    assert queue(AdlPolicy.HYPERLIQUID, *LONGS) == [5, 1, 8, 2]


def test_dydx_walks_from_the_start_account_and_wraps() -> None:
    # short accounts A=7, B=3, C=9, D=4; ascending 3, 4, 7, 9
    # start 8: first id >= 8 is 9, then wrap: 9, 3, 4, 7 -> C 0, B -1, D -2, A -3
    assert scores(AdlPolicy.DYDX, *SHORTS, walk_start=8) == [-3, -1, 0, -2]
    assert queue(AdlPolicy.DYDX, *SHORTS, walk_start=8) == [9, 3, 4, 7]
    assert queue(AdlPolicy.DYDX, *SHORTS, walk_start=7) == [7, 9, 3, 4]  # an exact id starts there
    assert queue(AdlPolicy.DYDX, *SHORTS, walk_start=10) == [3, 4, 7, 9]  # past the top: wrap
    assert queue(AdlPolicy.DYDX, *SHORTS, walk_start=-5) == [3, 4, 7, 9]
    # long accounts E=1, F=2, G=5, H=8; start 3: 5, 8, 1, 2 (bankrupt F is not special)
    assert scores(AdlPolicy.DYDX, *LONGS, walk_start=3) == [-2, -3, 0, -1]


def test_drift_scores_are_notional() -> None:
    assert scores(AdlPolicy.DRIFT, *SHORTS) == [1_000 * M, 5_000 * M, 2_000 * M, 3_000 * M]
    assert queue(AdlPolicy.DRIFT, *SHORTS) == [3, 4, 9, 7]  # B, D, C, A by size


def test_article_case_doge_hedge_ranks_above_a_calmer_short() -> None:
    # The hedger (cross): wallet 1,900,000 backs BTC long 5M (3x), DOGE short 500k (15x), ETH long
    # 1M (5x). DOGE falls 30%: the short is worth 350,000 at mark, +150,000; BTC -1,000,000 and
    # ETH -300,000, so equity = 1,900,000 - 1,000,000 - 300,000 + 150,000 = 750,000.
    # score = 150,000/350,000 x 350,000/750,000 = 0.428571 x 0.466667 = 0.2
    hedger = Pos(1, -5_000_000, 350_000, 500_000, 150_000, 1_900_000, 750_000, 60_000)
    # A calmer short (isolated 2x on entry 385,000): margin 192,500, +35,000, equity 227,500.
    # score = 35,000/350,000 x 350,000/227,500 = 0.1 x 1.538462 = 0.153846
    calm = Pos(2, -5_000_000, 350_000, 385_000, 35_000, 192_500, 227_500, 1_750)
    assert scores(AdlPolicy.ARTICLE, hedger, calm) == pytest.approx([0.2, 35_000 / 227_500])
    result = adl_scores(AdlPolicy.ARTICLE, **columns(hedger, calm))
    assert adl_rank(result, [1, 2], 0) == 0  # first in line: the hedge leg goes first
    assert adl_lights(result, [1, 2]).tolist() == [5, 3]


def test_bitmex_losers_rank_below_winners_and_bankrupt_pools_last() -> None:
    # W: +1/999 x 1,000/10,000 = 0.001001 x 0.1 = +0.0001001  (tiny profit, tiny leverage)
    # L1: (-1/1,001) / (1,000/100) = -0.000999 / 10 = -0.0000999 (same loss, high leverage)
    # L2: (-1/1,001) / (1,000/1,000) = -0.000999               (same loss, 1x)
    # L3: bankrupt (isolated margin 400 - 500 = -100)           -> -inf
    w = Pos(10, 100, 1_000, 999, 1, 9_999, 10_000, 5)
    l1 = Pos(11, 100, 1_000, 1_001, -1, 101, 100, 5)
    l2 = Pos(12, 100, 1_000, 1_001, -1, 1_001, 1_000, 5)
    l3 = Pos(13, 100, 1_000, 1_500, -500, 400, -100, 5)
    got = scores(AdlPolicy.BITMEX, l3, l2, w, l1)
    assert got == pytest.approx([-INF, -1 / 1_001, 1 / 9_990, -1 / 10_010])
    assert queue(AdlPolicy.BITMEX, l3, l2, w, l1) == [10, 11, 12, 13]
    result = adl_scores(AdlPolicy.BITMEX, **columns(l3, l2, w, l1))
    assert adl_lights(result, [13, 12, 10, 11]).tolist() == [2, 3, 5, 4]  # n=4: 5, 4, 3, 2


# ----------------------------------------------------------------------------------- lights


@pytest.mark.parametrize(
    ("score", "account", "lights"),
    [
        ([0.3], [1], [5]),
        ([0.1, 0.2], [1, 2], [3, 5]),  # n=2: rank 0 -> 5, rank 1 -> 5 - 5//2 = 3
        ([0.7, 0.7], [2, 1], [3, 5]),  # a tie: the smaller account id goes first
        # n=5 distinct: ranks 4, 0, 2, 3, 1
        ([0.1, 0.5, 0.3, 0.2, 0.4], [1, 2, 3, 4, 5], [1, 5, 3, 2, 4]),
        # n=5 all tied: account order 10, 20, 30, 40, 50
        ([0.0] * 5, [50, 10, 40, 20, 30], [1, 5, 2, 4, 3]),
        # n=7: ranks 0..6 give 5, 5, 4, 3, 3, 2, 1. Order: 2 (acc 7), then the tied 1s by account
        # 3, 4, 5, 6 (ranks 1-4, straddling the edges at ranks 2 and 3), 0 (acc 2), -inf (acc 1)
        ([2, 1, 1, 1, 1, 0, -INF], [7, 6, 5, 4, 3, 2, 1], [5, 3, 3, 4, 5, 2, 1]),
        # n=10: ranks 0-1 -> 5, 2-3 -> 4, 4-5 -> 3, 6-7 -> 2, 8-9 -> 1. Order: 5 (acc 9); the 3s by
        # account 1, 3, 7, 8; 1 (acc 6); the -infs by account 2, 4, 5, 10
        (
            [-INF, 5, -INF, 3, 3, 3, 3, -INF, 1, -INF],
            [4, 9, 2, 7, 1, 8, 3, 10, 6, 5],
            [2, 5, 2, 4, 5, 3, 4, 1, 3, 1],
        ),
    ],
)
def test_lights_by_hand(score: list[float], account: list[int], lights: list[int]) -> None:
    assert adl_lights(np.array(score), np.array(account)).tolist() == lights
    assert adl_lights(np.array(score), np.array(account)).dtype == np.int8


def test_empty_side() -> None:
    assert adl_lights(np.array([]), np.array([], dtype=np.int64)).tolist() == []
    assert adl_order(np.array([]), np.array([], dtype=np.int64)).tolist() == []
    assert pro_rata(np.array([], dtype=np.int64), 0).tolist() == []


def reference_lights(score: np.ndarray, account: np.ndarray) -> np.ndarray:
    """The definition: rank by full lexsort, then 5 - 5·rank // n."""
    n = score.size
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((account, -score))] = np.arange(n)
    return (5 - 5 * rank // n).astype(np.int8)


@st.composite
def ranked_side(draw: st.DrawFn, max_size: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Scores with many ties (a few values, ±inf) or arbitrary floats, and unique account ids."""
    n = draw(st.integers(0, max_size))
    few = st.sampled_from([-INF, -1.0, 0.0, 0.25, 1.0, INF])
    value = st.one_of(few, st.floats(allow_nan=False, width=64)) if draw(st.booleans()) else few
    score = draw(st.lists(value, min_size=n, max_size=n))
    account = draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n, unique=True))
    return np.array(score, dtype=np.float64), np.array(account, dtype=np.int64)


@given(ranked_side())
def test_lights_equal_the_full_sort(side: tuple[np.ndarray, np.ndarray]) -> None:
    score, account = side
    assert adl_lights(score, account).tolist() == reference_lights(score, account).tolist()


@pytest.mark.parametrize("n", [999, 1_000, 10_007])
@pytest.mark.parametrize("distinct", [1, 3, 50, None])
def test_lights_equal_the_full_sort_at_scale(n: int, distinct: int | None) -> None:
    rng = np.random.default_rng(n)
    account = rng.permutation(3 * n)[:n].astype(np.int64)
    score = rng.standard_normal(n) if distinct is None else rng.integers(0, distinct, n) * 1.0
    score[rng.random(n) < 0.1] = -INF
    assert np.array_equal(adl_lights(score, account), reference_lights(score, account))


@given(ranked_side(max_size=30))
def test_rank_is_the_place_in_the_order(side: tuple[np.ndarray, np.ndarray]) -> None:
    score, account = side
    order = adl_order(score, account)
    assert order.dtype == np.int64
    # the queue: score descending, account ascending
    assert order.tolist() == sorted(range(score.size), key=lambda i: (-score[i], account[i]))
    assert [adl_rank(score, account, i) for i in range(score.size)] == np.argsort(order).tolist()


# ---------------------------------------------------------------------------- scores vs formulas


def literal_score(policy: AdlPolicy, p: Pos) -> float:
    """The brief's formulas, one position at a time, in plain floats."""
    if policy in (AdlPolicy.DRIFT, AdlPolicy.PRO_RATA):
        return float(p.notional * M)
    if policy in (AdlPolicy.PRO_RATA_PROFIT, AdlPolicy.CAPPED_PRO_RATA):
        return float(max(0, p.upnl) * M)
    if policy is AdlPolicy.OPTIMAL:
        return -(p.upnl * M) / abs(p.qty)
    if policy is AdlPolicy.BINANCE:
        ratio = p.maint / p.equity if p.equity > 0 else 0.0
        return max(0, p.upnl) / max(1, p.wallet) * ratio
    if p.equity <= 0:
        return -INF
    lev = p.notional / p.equity
    if policy is AdlPolicy.ARTICLE:
        return p.upnl / p.notional * lev
    if policy is AdlPolicy.BITMEX:
        pnl = p.upnl / p.entry
        return pnl * lev if pnl > 0 else pnl / lev
    mark_over_entry = p.notional / p.entry
    return (mark_over_entry if p.qty > 0 else 1 / mark_over_entry) * lev


@st.composite
def positions(draw: st.DrawFn) -> list[Pos]:
    side = draw(st.sampled_from([1, -1]))
    n = draw(st.integers(1, 20))
    accounts = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    out = []
    for account in accounts:
        notional, entry = draw(st.integers(1, 10**7)), draw(st.integers(1, 10**7))
        upnl = (notional - entry) * side
        wallet = draw(st.integers(-(10**7), 10**7))
        equity = wallet + upnl + draw(st.integers(-(10**7), 10**7))
        qty = side * draw(st.integers(1, 10**6))
        maint = draw(st.integers(0, 10**6))
        out.append(Pos(account, qty, notional, entry, upnl, wallet, equity, maint))
    return out


@pytest.mark.parametrize("policy", [p for p in AdlPolicy if p is not AdlPolicy.DYDX])
@given(book=positions())
@settings(max_examples=60)
def test_scores_equal_the_literal_formulas(policy: AdlPolicy, book: list[Pos]) -> None:
    expected = [literal_score(policy, p) for p in book]
    assert scores(policy, *book) == pytest.approx(expected, rel=1e-12)


@given(
    accounts=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=30, unique=True),
    dense=st.booleans(),
    start=st.integers(-(10**12), 10**12),
)
def test_dydx_walk_order(accounts: list[int], dense: bool, start: int) -> None:
    if dense:  # small ids take the counting path, spread ones the sorting path
        accounts = [a % 97 for a in accounts]
        accounts = list(dict.fromkeys(accounts))
        start %= 100
    book = [Pos(a, -1, 10, 10, 0, 10, 10, 1) for a in accounts]
    ascending = sorted(accounts)
    first = next((i for i, a in enumerate(ascending) if a >= start), 0)
    walk = ascending[first:] + ascending[:first]
    assert queue(AdlPolicy.DYDX, *book, walk_start=start) == walk
    got = scores(AdlPolicy.DYDX, *book, walk_start=start)
    assert sorted(got, reverse=True) == [-float(i) for i in range(len(book))]


# ----------------------------------------------------------------------------------- pro rata


def test_pro_rata_by_hand() -> None:
    # 10 lots over sizes 5, 3, 2 (S = 10): exact shares 5, 3, 2
    assert pro_rata(np.array([5, 3, 2]), 10).tolist() == [5, 3, 2]
    # 7 over 5, 3, 2: exact 3.5, 2.1, 1.4 -> floors 3, 2, 1 (sum 6); the 1 left goes to the
    # largest remainder, .5 (the first)
    assert pro_rata(np.array([5, 3, 2]), 7).tolist() == [4, 2, 1]
    # 2 over 1, 1, 1: exact 0.667 each, floors 0; tied remainders -> the lower indices
    assert pro_rata(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]
    assert pro_rata(np.array([4, 6]), 0).tolist() == [0, 0]


def reference_pro_rata(sizes: list[int], total: int) -> list[int]:
    whole = sum(sizes)
    exact = [Fraction(total * s, whole) for s in sizes]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


@given(st.lists(st.integers(1, 2**62 // 64), min_size=1, max_size=40), st.data())
def test_pro_rata_properties(sizes: list[int], data: st.DataObject) -> None:
    total = data.draw(st.integers(0, sum(sizes)))
    shares = pro_rata(np.array(sizes, dtype=np.int64), total)  # large sizes: the exact-int path
    assert shares.dtype == np.int64
    assert int(shares.sum()) == total
    assert all(0 <= share <= size for share, size in zip(shares.tolist(), sizes, strict=False))
    assert shares.tolist() == reference_pro_rata(sizes, total)


@given(st.lists(st.integers(1, 1_000), min_size=1, max_size=40), st.data())
def test_pro_rata_small_sizes(sizes: list[int], data: st.DataObject) -> None:
    total = data.draw(st.integers(0, sum(sizes)))
    assert pro_rata(np.array(sizes), total).tolist() == reference_pro_rata(sizes, total)


# -------------------------------------------------------------------------------------- errors


def test_parse_policy() -> None:
    assert AdlPolicy.parse("bitmex") is AdlPolicy.BITMEX
    assert AdlPolicy.parse(AdlPolicy.DRIFT) is AdlPolicy.DRIFT
    assert AdlPolicy.ARTICLE == "article"
    allowed = "'article', 'bitmex', 'binance', 'hyperliquid', 'dydx', 'drift'"
    with pytest.raises(InvalidInput, match=f"'okx'; allowed: {allowed}"):
        AdlPolicy.parse("okx")
    with pytest.raises(ValueError, match="unknown ADL policy"):
        adl_scores("Binance", **columns(SHORT_A))


def test_bad_columns_are_refused() -> None:
    cols = columns(SHORT_A, SHORT_B)
    with pytest.raises(InvalidInput, match="one length"):
        adl_scores(AdlPolicy.ARTICLE, **(cols | {"maint": cols["maint"][:1]}))
    with pytest.raises(InvalidInput, match="upnl must be a 1-D integer array.*float64"):
        adl_scores(AdlPolicy.ARTICLE, **(cols | {"upnl": cols["upnl"] / 1.0}))
    with pytest.raises(InvalidInput, match="all long .* or all short .* from -500 to 50"):
        adl_scores(AdlPolicy.ARTICLE, **(cols | {"qty": np.array([-500, 50])}))
    with pytest.raises(InvalidInput, match="from 0 to 0"):
        adl_scores(AdlPolicy.ARTICLE, **(cols | {"qty": np.array([0, 0])}))


def test_bad_rankings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="NaN"):
        adl_lights(np.array([0.1, math.nan]), np.array([1, 2]))
    with pytest.raises(InvalidInput, match="NaN"):
        adl_order(np.array([math.nan]), np.array([1]))
    with pytest.raises(InvalidInput, match="one length"):
        adl_lights(np.array([0.1, 0.2]), np.array([1]))
    with pytest.raises(InvalidInput, match=r"index 2 is outside 0\.\.1"):
        adl_rank(np.array([0.1, 0.2]), np.array([1, 2]), 2)
    with pytest.raises(InvalidInput, match="sizes must all be > 0, got 0"):
        pro_rata(np.array([3, 0]), 1)
    with pytest.raises(InvalidInput, match=r"total must be in 0\.\.5 .* got 6"):
        pro_rata(np.array([3, 2]), 6)
