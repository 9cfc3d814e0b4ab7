"""The pro-rata ADL walk, all counterparties at once (``engine.exchange.prorata``), against the
one-at-a-time walk it replaces (``waterfall._walk``'s loop): the same state, the same events in the
same order, the same report, on a level where pro-rata ADL closes hundreds of positions, isolated
and cross, with bankrupt pools of both kinds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.crash import CrashRun
from engine.events import AdlFill
from engine.exchange import prorata
from engine.level import load_level

from ..conftest import MINI_LEVEL

BIG = 2 ** 62


@settings(max_examples=300, deadline=None)
@given(st.integers(-BIG, BIG), st.one_of(st.integers(1, 10 ** 9),
                                         st.integers(1, prorata.SPLIT_SAFE_LOTS)), st.data())
def test_scaled_is_python_floor_division(value, den, data):
    """value × num // den on int64 without the product: exactly what Python ints give, for
    |num| ≤ den ≤ SPLIT_SAFE_LOTS, whatever the signs."""
    num = data.draw(st.integers(-den, den))
    sign = data.draw(st.sampled_from([1, -1]))
    got = prorata._scaled(np.array([value]), np.array([num]), np.array([sign * den]))
    assert int(got[0]) == value * num // (sign * den)


def _run(policy: str, vectorized: bool, monkeypatch) -> tuple[str, list, dict, dict]:
    """A run of the mini level under ``policy``: its checksum, every ADL fill and every event
    after one (in order), its report, and what the vectorized walk met."""
    met = {"walks": 0, "isolated": 0, "cross": 0, "isolated_bankrupt": 0}
    walk = prorata.walk

    def counted(ex, a, s, lots, price, idx, *rest):
        met["walks"] += 1
        iso = ex.acc.iso[s, idx]
        met["isolated"] += int(iso.sum())
        met["cross"] += int((~iso).sum())
        met["isolated_bankrupt"] += int(bool(ex.acc.isov[s, a]))
        return walk(ex, a, s, lots, price, idx, *rest)

    monkeypatch.setattr(prorata, "walk", counted)
    if not vectorized:
        monkeypatch.setattr(prorata, "vectorizable", lambda *args: False)
    run = CrashRun(load_level(MINI_LEVEL, [f"exchange.adl_policy={policy}"]), seed=1)
    seen: list = []
    while not run.sim.finished:
        events = run.sim.step()
        if any(type(e) is AdlFill for e in events):
            seen.extend(repr(e) for e in events)
    monkeypatch.undo()
    return run.checksum(), seen, run.summary(), met


@pytest.mark.parametrize("policy", ["pro_rata", "drift", "pro_rata_profit", "capped_pro_rata"])
def test_the_vectorized_walk_is_the_one_at_a_time_walk(policy, monkeypatch):
    fast = _run(policy, True, monkeypatch)
    slow = _run(policy, False, monkeypatch)
    checksum, events, summary, met = fast
    assert met["walks"] >= 10 and met["isolated"] > 0 and met["cross"] > 0, met
    assert slow[3]["walks"] == 0
    assert sum(e.startswith("AdlFill(") for e in events) >= 700
    assert checksum == slow[0]
    assert events == slow[1]
    assert summary == slow[2]


def _billions_of_doge(vectorized: bool, monkeypatch) -> tuple[dict, list]:
    """A pro-rata ADL against shorts of 6 and 2 billion DOGE (lots of 1 DOGE): past
    ``SPLIT_SAFE_LOTS``, where the split products would leave int64 (found in review: an
    isolated short's margin and wallet then came out $3,074 apart from the exact split)."""
    from engine.exchange.front import Exchange
    from engine.instruments import Instrument
    if not vectorized:
        monkeypatch.setattr(prorata, "vectorizable", lambda *args: False)
    ex = Exchange([Instrument.preset("DOGE")], insurance_fund=0, mark_method="index",
                  adl_policy="pro_rata")
    ex.set_index("DOGE", "0.1")
    ids = np.array([ex.open_account(usd) for usd in (2_000_000, 300_000_000, 100_000_000,
                                                      1_000_000_000)])
    ex.settle()
    ex.seed_positions(0, ids, np.array([4, -6, -2, 4]) * 1_000_000_000,
                      np.array([10_000, 12_000, 12_000, 10_000]),
                      np.array([10 ** 12, 123_467_900_000_000, 50_000_000_000_001, 0]))
    ex.set_index("DOGE", "0.05")
    fills = [repr(e) for e in ex.settle() if type(e) is AdlFill]
    monkeypatch.undo()
    return {k: v.tolist() for k, v in ex.acc.arrays().items()}, fills


def test_positions_past_the_int64_split_are_walked_exactly(monkeypatch):
    state, fills = _billions_of_doge(True, monkeypatch)
    assert len(fills) == 2
    assert (state, fills) == _billions_of_doge(False, monkeypatch)


@pytest.mark.parametrize("policy", ["drift", "pro_rata_profit", "capped_pro_rata"])
@pytest.mark.parametrize("fund, at_mark", [(0, False), (700, True)])
def test_both_walks_pay_back_isolated_counterparties_past_bankruptcy_alike(policy, fund, at_mark,
                                                                          monkeypatch):
    """Isolated counterparties closed past their own bankruptcy (review, session 19): the funds
    and the exchange pay each one's gap back (``Funds.cover_isolated``), in queue order, after the
    walk — the vectorized walk and the one-at-a-time walk give the same state, the same events in
    the same order, and no counterparty's cross wallet pays. L (isolated long 0.6 BTC from
    100,000 on 1,000) is bankrupt at 89,000; five of the six shorts are isolated, three of them
    past their margin there; two hold reduce-only bids that the walk trims."""
    from ..engine.conftest import FixtureExchange, fee_free, usd

    def run(vectorized: bool):
        real = prorata.vectorizable
        monkeypatch.setattr(prorata, "vectorizable",
                            lambda *a: real(*a) if vectorized else False)
        ex = FixtureExchange([fee_free("BTC")], insurance_fund=fund, mark_method="index",
                             adl_policy=policy)
        if at_mark:
            ex.set_rules(adl_price="mark")
        ex.set_index("BTC", 89_000)
        ids = [ex.open_account(10_000) for _ in range(7)] + [ex.open_account(100_000)]
        iso = [True, True, True, False, True, True, True, False]
        margin = [1_000, 300, 900, 0, 100, 400, 1_000, 0]
        ex.seed_positions(0, np.array(ids), np.array([600, -200, -100, -150, -50, -100, -300, 300]),
                          np.array([1_000_000, 500_000, 800_000, 880_000, 600_000, 870_000,
                                    850_000, 890_000]),
                          isolated_margin=np.array([usd(m) if i else 0
                                                    for m, i in zip(margin, iso, strict=True)]))
        for a in (ids[2], ids[5]):
            ex.place(a, "BTC", "buy", "0.1", 80_000, reduce_only=True)
        money, wallets = ex.total_money(), [ex.acc.w[a] for a in ids[1:7]]
        events = ex.settle()
        assert ex.total_money() == money
        shorts_open = [ex.acc.q[0, a] for a in ids[1:7]]
        # an isolated short's cross wallet never pays: it gets back its margin left, or nothing
        gained = [ex.acc.w[a] - w for a, w in zip(ids[1:7], wallets, strict=True)]
        assert all(g >= 0 for g, i in zip(gained, iso[1:7], strict=True) if i), \
            (shorts_open, gained)
        return ex.checksum(), [repr(e) for e in events], ex.funds.written_off

    fast, slow = run(True), run(False)
    assert fast == slow
    assert fast[2] > 0 or fund  # with an empty fund some gap is written off
    assert any("WrittenOff" in e for e in fast[1]) == (fast[2] > 0)
