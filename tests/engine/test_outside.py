"""The outside market (engine/outside) and the firms' shared stance (engine/agents/stance.py):
the pieces of the emergent crash, checked on their own arithmetic and on small runs."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from engine import CrashRun, load_level
from engine.agents.stance import FirmStance
from engine.outside.liqmap import LiquidationMap

MM = load_level("levels/1011.toml").config.market_makers


def _map(long_share=0.87, usd=1e9):
    return LiquidationMap(np.random.default_rng(7), crowd_usd=[usd], long_share=long_share,
                          leverage_min=2, leverage_tail=1.2, leverage_max=[100],
                          margin_buffer=0.3, entry_spread_pct=2.5, maint_rate=[0.005],
                          survived_pct=1.5, positions=20_000)


def test_the_liquidation_map_holds_the_crowd_below_and_above_the_price():
    m = _map()
    here = int(m.bucket(np.zeros(1))[0])
    longs_below, shorts_above = m.long_cum[0, 0] - m.long_cum[0, here], \
        m.short_cum[0, -1] - m.short_cum[0, here + 1]
    # the survivors are open at the start: longs liquidate below the price, shorts above
    assert longs_below == pytest.approx(m.long_cum[0, 0]) and m.long_cum[0, here] < 1e-6
    assert shorts_above == pytest.approx(m.short_cum[0, -1])
    # by count 87% long, sizes drawn alike: about 87% of the surviving notional is long
    share = m.long_cum[0, 0] / (m.long_cum[0, 0] + m.short_cum[0, -1])
    assert 0.80 < share < 0.93
    # a 10% fall liquidates some of the longs, a 50% fall most of them (2× longs survive it)
    ten, fifty = (int(m.bucket(np.array([math.log(x)]))[0]) for x in (0.9, 0.5))
    assert 0.05 < m.long_cum[0, ten] / m.long_cum[0, 0] < 0.6
    assert 0.6 < m.long_cum[0, fifty] / m.long_cum[0, 0] < 0.95


def test_a_balanced_crowd_has_far_less_long_notional_below_the_price():
    skewed, balanced = _map(0.87), _map(0.5)
    assert balanced.long_cum[0, 0] / skewed.long_cum[0, 0] == pytest.approx(0.5 / 0.87, rel=0.05)


def _stance(never=False, **changes):
    p = SimpleNamespace(**{f: getattr(MM, f) for f in MM.__slots__}) if hasattr(
        MM, "__slots__") else MM
    for k, v in changes.items():
        setattr(p, k, v)
    return FirmStance(p, np.linspace(0.1, 0.9, 5), long_share=0.87,
                      weights=np.array([1.0]), never=never)


def test_firms_thin_then_pull_as_risk_rises_and_return_after_the_market_calms():
    st = _stance(risk_half_life_s=1.0, reentry_hold_s=60.0, stagger_seconds=0, ramp_s=60.0,
                 dd_smoothing_s=0.0)
    rel = np.array([1.0])
    for _ in range(30):
        st.step(rel, 0.0, 0.0, 0.0)
    assert (st.phi == 1).all() and not st.pulled.any()
    crash = np.array([0.85])   # a 15% drawdown × the 1.74 skew edge: far past every threshold
    for _ in range(600):
        st.step(crash, math.log(0.85), 0.0, 0.0)
    assert st.risk > st.pull_at.max() and st.pulled.all() and (st.phi == 0).all()
    back = np.array([0.85 * 1.05])   # 5% off the low, no liquidations: re-entry is attractive
    for _ in range(200):
        st.step(back, math.log(0.8925), 0.0, 0.0)
    assert (st.phi > 0).all() and not st.pulled.any()


def test_the_desk_reads_the_index_smoothed_so_a_brief_dip_is_not_a_drawdown():
    """``dd_smoothing_s``: the drawdown is read from the index's EWMA (half-life 120 s in the
    default level), so five seconds 3% down move the desk's index by 0.09% (3% × (1 − ½^(5/120)))
    and leave the firms quoting; read from every tick (0) the same dip is the whole 3% at once."""
    calm = dict(risk_half_life_s=1.0, vol_weight=0.0)
    smooth, raw = _stance(dd_smoothing_s=120.0, **calm), _stance(dd_smoothing_s=0.0, **calm)
    for st in (smooth, raw):
        for _ in range(30):
            st.step(np.array([1.0]), 0.0, 0.0, 0.0)
        for _ in range(5):
            st.step(np.array([0.97]), math.log(0.97), 0.0, 0.0)
    assert smooth.seen[0] == pytest.approx(1 - 0.03 * (1 - 0.5 ** (5 / 120)), rel=1e-9)
    assert raw.seen[0] == 0.97 and smooth.risk < raw.risk / 10
    for _ in range(600):   # held for five half-lives it is read in full (3% of the gap left)
        smooth.step(np.array([0.97]), math.log(0.97), 0.0, 0.0)
    assert smooth.seen[0] == pytest.approx(0.97 + 0.03 * 0.5 ** (605 / 120), rel=1e-9)


def _hold(st, rel: float, seconds: int = 400):
    for _ in range(seconds):
        st.step(np.array([rel]), math.log(rel), 0.0, 0.0)


def test_a_thinning_firm_keeps_its_floor_until_its_pull_threshold():
    """``thin_floor``: between the thresholds a firm targets floor + (1 − floor) of the linear
    share; past its pull threshold it goes to 0 at ``pull_rate``."""
    calm = dict(risk_half_life_s=1.0, thin_rate=0.05, pull_rate=0.05, vol_weight=0.0)
    st, plain = _stance(thin_floor=0.5, **calm), _stance(thin_floor=0.0, **calm)
    lo, hi = st.thin_at.max(), st.pull_at.min()
    assert lo < hi  # a risk inside every firm's band
    dd = (lo + hi) / 2 / (1 + st.p.skew_weight * st.skew) * st.p.dd_ref_pct / 100
    for firm in (st, plain):
        firm.step(np.array([1.0]), 0.0, 0.0, 0.0)
        _hold(firm, 1 - dd)
    assert lo < st.risk < hi
    linear = np.clip((st.pull_at - st.risk) / (st.pull_at - st.thin_at), 0, 1)
    assert np.allclose(st.phi, 0.5 + 0.5 * linear) and (st.phi > 0.5).all()
    assert np.allclose(plain.phi, linear) and (plain.phi < st.phi).all()
    _hold(st, 0.85)   # a 15% drawdown: past every pull threshold
    assert st.pulled.all() and (st.phi == 0).all()


def test_firms_that_never_withdraw_stay_at_full_depth_whatever_the_risk():
    st = _stance(never=True, risk_half_life_s=1.0)
    for _ in range(300):
        st.step(np.array([0.7]), math.log(0.7), 1e10, 1e10)
    assert st.risk > 10 and (st.phi == 1).all()


@pytest.fixture(scope="module")
def small_runs():
    """Seed 1 of the default level at a tenth of the crowd, with and without withdrawal."""
    out = {}
    for name, extra in (("emergent", []), ("never", ["market_makers.withdrawal=never"])):
        run = CrashRun(load_level("levels/1011.toml",
                                  overrides=["crowd.accounts=2000", *extra]), seed=1)
        run.run()
        out[name] = run
    return out


def test_the_index_is_made_by_the_mechanics_and_the_withdrawal_makes_the_cascade(small_runs):
    """The same seed: with the firms withdrawing, the market-wide liquidations and the fall are
    several times what they are with the firms staying (the correction-not-crash claim)."""
    cascade, calm = (small_runs[k].summary() for k in ("emergent", "never"))
    assert cascade["market"]["liquidated_usd"] > 2.5 * calm["market"]["liquidated_usd"]
    assert cascade["market"]["peak_minute_usd"] > 4 * calm["market"]["peak_minute_usd"]
    stance = small_runs["emergent"].stance
    assert stance.pulled.all() or (stance.phi < 1).all()  # every firm left (or is returning)
    assert (small_runs["never"].stance.phi == 1).all()
    # the outside index itself fell further: drawn from the same seed, news and map
    lows = {k: float(small_runs[k].recorder.low[0]) for k in small_runs}
    assert lows["emergent"] < lows["never"]


def test_market_wide_liquidations_reach_the_summary_and_the_ticker(small_runs):
    from engine.events import MarketLiquidations
    s = small_runs["emergent"].summary()
    m = s["market"]
    assert m["liquidated_usd"] > 1e9 and m["peak_minute"] is not None
    assert set(s["adl"]) >= {"hedged_then_liquidated", "max_second_share", "symbols"}
    told = []
    run = CrashRun(load_level("levels/1011.toml", overrides=["crowd.accounts=2000"]), seed=1)
    run.sim.listeners.append(lambda sim, events: told.extend(
        e for e in events if type(e) is MarketLiquidations))
    run.run(until="05:20")
    assert told and all(e.minute % 60 == 0 for e in told)
    peak = max(told, key=lambda e: e.notional)
    assert peak.notional / 1e6 == pytest.approx(run.outside.liq_minutes[
        (peak.minute - run.sim.start) // 60], rel=1e-9)
