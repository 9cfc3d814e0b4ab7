"""ADL measured as the research measures it (``engine/adl_research.py``), on a case computed by
hand, and on a run of the default level."""

from pathlib import Path

import pytest

from engine import CrashRun, load_level
from engine.adl_research import AdlLedger, concentration, measure_needed, needed_budget
from engine.events import AdlFill

from .test_waterfall import open_long

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"


def test_concentration_by_hand():
    """Haircuts of 3 and 1: the largest takes 3/4; HHI = 0.75² + 0.25² = 0.625; Gini of (1, 3) =
    ((−1)·1 + 1·3) / (2 · 4) = 0.25. One account: 1, 1, 0. Nothing taken: zeros."""
    assert concentration([3, 1]) == pytest.approx((0.75, 0.625, 0.25))
    assert concentration([5]) == (1.0, 1.0, 0.0)
    assert concentration([0, 0]) == (0.0, 0.0, 0.0)


def _bankrupt_long(ex):
    """A long of 0.2 BTC at 100,000 with 2,000 USD (bankrupt at 90,000) against two shorts of 0.1
    (one with 100,000 USD, one with 2,000); the index falls to 89,000: the long is 200 under
    water."""
    a, shorts = open_long(ex, 2_000, 0.2, [(100_000, 0.1), (2_000, 0.1)])
    ex.set_index("BTC", 89_000)
    return a, shorts, ex.settle()


def test_two_winners_pay_for_a_200_usd_hole_that_needed_150(make_exchange):
    """With a 50 USD fund, ADL closes both shorts at the bankruptcy price 90,000. Each had 1,100
    of profit at the 89,000 mark on its 0.1 BTC: 2,200 taken, 1,100 each (largest share 0.5, HHI
    0.5, Gini 0), 100 each against the mark (200: the hole). With the same fund 1,000 times as
    large, nothing is deleveraged: the fund takes the long over at 90,000 and is 200 down at the
    mark; the real fund's budget was 50, so ADL needed 150, and took 2,050 more than that."""
    ex = make_exchange(fund=50)
    _, (rich, lean), events = _bankrupt_long(ex)
    ledger = AdlLedger()
    fills = [e for e in events if isinstance(e, AdlFill)]
    assert [(e.counterparty, e.price, e.mark, e.pnl) for e in fills] == \
        [(lean, 900_000, 890_000, 1_100_000_000), (rich, 900_000, 890_000, 1_100_000_000)]
    assert fills[0].leverage == pytest.approx(8_900 / 3_100)  # notional ÷ (2,000 + 1,100)
    for e in fills:
        ledger.add(e, 0, 0, ex.units[0], ex.acc.q[0, e.counterparty])

    big = make_exchange(fund=50_000)
    _, _, events = _bankrupt_long(big)
    assert not [e for e in events if isinstance(e, AdlFill)]
    fund = big.funds.ids[0]
    needed = needed_budget([50_000_000_000], [big.funds.equity(fund)], [50_000_000])
    assert needed == 150_000_000

    out = ledger.measure(needed)
    assert out["taken_usd"] == 2_200 and out["taken_vs_mark_usd"] == 200
    assert out["needed_usd"] == 150 and out["overshoot_usd"] == 2_050
    assert (out["max_share"], out["hhi"], out["gini"]) == (0.5, 0.5, 0.0)
    assert out["accounts_hit"] == 2 and out["profitable_share"] == 1.0
    assert [(w["fills"], w["taken_usd"]) for w in out["waves"]] == [(2, 2_200)]


def test_a_position_reopened_within_a_minute_is_counted():
    """An account closed entirely at t = 100 that holds the contract again at t = 130 re-opened;
    one seen open again only at t = 200 did not."""
    import numpy as np
    ledger = AdlLedger()
    for account in (1, 2):
        e = AdlFill(100, 0, account, "BTC", -1, 10, 900, 0, 0.0, "article", 890, 5, 2.0)
        ledger.add(e, 100, 0, 1, 0)
    qty = np.zeros((1, 3), dtype=np.int64)
    ledger.step(qty, 110)
    qty[0, 1] = 3
    ledger.step(qty, 130)
    qty[0, 2] = 4
    ledger.step(qty, 200)
    assert ledger.reopened == {1}


def test_the_default_crash_overshoots_what_it_needed():
    """Seed 1 of the default level, with its no-ADL pass: ADL took far more profit than the funds
    lacked (the takeover stress sends positions to ADL while the funds still hold money), and the
    figures add up."""
    run = CrashRun(load_level(LEVEL, ["crowd.accounts=400", "clock.step_seconds=5"]), seed=2)
    run.run()
    measure_needed(run)
    research = run.summary()["adl"]["research"]
    assert research["taken_usd"] > 0 and research["needed_usd"] is not None
    assert research["overshoot_usd"] == pytest.approx(research["taken_usd"]
                                                      - research["needed_usd"], abs=0.02)
    assert sum(w["fills"] for w in research["waves"]) == run.summary()["adl"]["count"]
    assert sum(w["needed_usd"] for w in research["waves"]) <= research["needed_usd"] + 0.01
    assert 0 < research["max_share"] <= 1 and research["accounts_hit"] > 0


def test_each_wave_gets_what_the_need_grew_by_during_it():
    """Two funds with budgets 50 and 100: fund 1 is 80 down at t = 10 (30 beyond), fund 2 150 down
    at t = 20 (50 beyond), fund 1 then only 60 down at t = 30 (its worst stays 30 beyond), 130 down
    at t = 100 (80 beyond): the need is 30, 80, 80, 130. A wave over t 5–25 gets 80; one over
    t 95–100 gets 50; the run 130."""
    from engine.adl_research import _need_at, needed_series
    series = needed_series([1_000, 1_000], [(10, (920, 1_000)), (20, (920, 850)),
                                            (30, (940, 850)), (100, (870, 850))], [50, 100])
    assert series == [(10, 30), (20, 80), (100, 130)]
    assert _need_at(series, 25) - _need_at(series, 4) == 80
    assert _need_at(series, 100) - _need_at(series, 94) == 50
    assert needed_budget([1_000, 1_000], [870, 850], [50, 100]) == 130
