"""The benchmark ADL policies beside the venues' (``pro_rata``, ``pro_rata_profit``,
``capped_pro_rata``, ``optimal``; issue 16, after Chitra, "Autodeleveraging: Impossibilities and
Optimization", arXiv 2512.01112): their allocations by hand, and the optimal policy taking no more
profit than any other policy on the same ADL."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adl import AdlPolicy, adl_order, adl_scores, allocate
from engine.allocation import _floor_share, allocate_loop
from engine.exchange.waterfall import _shares


def test_allocate_by_hand():
    """8 lots by weights 3:1:0 → 6, 2, 0; with the first capped at 2 → 2, then the 6 left all to
    the second; weights all zero → pro rata over the room (4 over 3 and 3: 2, 2); single lots left
    over go to the larger weight."""
    assert allocate(np.array([3, 1, 0]), np.array([10, 10, 10]), 8).tolist() == [6, 2, 0]
    assert allocate(np.array([3, 1, 0]), np.array([2, 10, 10]), 8).tolist() == [2, 6, 0]
    assert allocate(np.array([0, 0]), np.array([3, 3]), 4).tolist() == [2, 2]
    assert allocate(np.array([2, 1]), np.array([5, 5]), 1).tolist() == [1, 0]
    with pytest.raises(Exception, match="sum of caps"):
        allocate(np.array([1]), np.array([1]), 2)



@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 50), st.integers(0, 10 ** 15)),
                          st.one_of(st.integers(0, 40), st.integers(0, 10 ** 7))),
                min_size=1, max_size=60),
       st.floats(0, 1), st.booleans())
def test_allocate_in_numpy_is_the_loop(pairs, fraction, equal):
    """The vectorized water-filling (``engine.allocation``: a floating-point quotient, exact
    floors re-taken near whole numbers) gives the one-at-a-time loop's shares, with weights of
    money units (profit up to $1B) and positions of millions of lots, equal weights included
    (every quotient then sits on a whole number or a tie)."""
    weights = np.array([w for w, _ in pairs], dtype=np.int64)
    if equal:
        weights[:] = weights[0]
    caps = np.array([c for _, c in pairs], dtype=np.int64)
    total = int(int(caps.sum()) * fraction)
    assert allocate(weights, caps, total).tolist() == allocate_loop(weights, caps, total).tolist()


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 2 ** 31 - 1), st.integers(2 ** 40, 2 ** 62), st.data())
def test_the_floating_point_quotient_is_floored_exactly(left, weight, data):
    """⌊left × w ÷ weight⌋ where the product passes int64, w chosen on and next to the weights
    whose quotient is a whole number (where a floating-point floor falls a lot short)."""
    k = data.draw(st.integers(0, left))
    w = min(weight, max(0, k * weight // left + data.draw(st.sampled_from([-1, 0, 1]))))
    got = _floor_share(left, np.array([w, 0, weight], dtype=np.int64), weight)
    assert got.tolist() == [left * w // weight, 0, left]

SIZES = np.array([100, 100, 100, 100])
PROFIT = np.array([4_000, 1_000, 0, -500])   # money units; the last position loses


def _take(policy: AdlPolicy, need: int, sizes=SIZES, profit=PROFIT) -> list[int]:
    """Lots each position gives up when ``need`` lots are deleveraged against them."""
    scores = adl_scores(policy, qty=-sizes, notional=sizes * 10, entry_notional=sizes * 10,
                        upnl=profit, wallet=np.full(len(sizes), 10**6),
                        equity=np.full(len(sizes), 10**6) + profit,
                        maint=np.ones(len(sizes), dtype=np.int64),
                        account=np.arange(len(sizes)))
    if policy in (AdlPolicy.PRO_RATA, AdlPolicy.PRO_RATA_PROFIT, AdlPolicy.CAPPED_PRO_RATA,
                  AdlPolicy.DRIFT):
        return _shares(policy, sizes, scores, need).tolist()
    out = [0] * len(sizes)
    for i in adl_order(scores, np.arange(len(sizes))).tolist():
        out[i] = min(int(sizes[i]), need)
        need -= out[i]
    return out


def test_the_benchmarks_split_160_lots_by_hand():
    """160 lots against four shorts of 100 with profits 4,000, 1,000, 0 and −500:
    pro rata by contracts 40 each; by profit 4:1 would be 128 and 32, but the first has only 100,
    so the second takes the other 60; capped at half a position, the winners give 50 each (4:1
    asks 128 and 32: the first is capped at 50, the second then filled to its 50) and the 60 left
    go pro rata over the room of the rest (50 and 50: 30 each); optimal: the loser's 100, then the
    flat one's 60 — no profit taken."""
    assert _take(AdlPolicy.PRO_RATA, 160) == [40, 40, 40, 40]
    assert _take(AdlPolicy.PRO_RATA_PROFIT, 160) == [100, 60, 0, 0]
    assert _take(AdlPolicy.CAPPED_PRO_RATA, 160) == [50, 50, 30, 30]
    assert _take(AdlPolicy.OPTIMAL, 160) == [0, 0, 60, 100]


def _profit_taken(take: list[int], sizes, profit) -> float:
    return sum(x * max(0, int(p)) / int(q) for x, q, p in zip(take, sizes, profit, strict=True))


@st.composite
def books(draw):
    n = draw(st.integers(1, 12))
    sizes = np.array(draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n)))
    profit = np.array(draw(st.lists(st.integers(-10**9, 10**10), min_size=n, max_size=n)))
    need = draw(st.integers(1, int(sizes.sum())))
    return sizes, profit, need


@given(book=books())
@settings(max_examples=200, deadline=None)
def test_the_optimal_policy_never_takes_more_profit_than_another(book):
    """On the same ADL (the same positions, the same lots to close), the optimal allocation takes
    no more profit than any venue's queue or benchmark: a fractional knapsack, solved greedily."""
    sizes, profit, need = book
    best = _profit_taken(_take(AdlPolicy.OPTIMAL, need, sizes, profit), sizes, profit)
    for policy in AdlPolicy:
        if policy in (AdlPolicy.OPTIMAL, AdlPolicy.DYDX):
            continue
        take = _take(policy, need, sizes, profit)
        assert sum(take) == need and all(0 <= x <= q for x, q in zip(take, sizes, strict=True))
        assert best <= _profit_taken(take, sizes, profit) + 1e-6 * max(1.0, best)
