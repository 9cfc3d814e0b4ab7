"""The incremental margin scan (engine/scan.py) finds exactly the pools a full valuation finds.

Hand-computed edges first (the BTC long of test_waterfall.py: liquidated below 90,361.45…), then a
seeded random soak that moves marks hard, trades, deposits, withdraws and moves isolated margin,
with the scan checked against a full valuation at every settle (``verify``), then whole levels.
"""

from pathlib import Path

import numpy as np
import pytest

from engine.crash import CrashRun
from engine.errors import CrashfloorError
from engine.events import LiquidationStarted
from engine.level import load_level
from engine.exchange import scan as scan_module

from .conftest import usd

LEVELS = Path(__file__).resolve().parents[2] / "levels"


def _liquidated(events) -> list[int]:
    return [e.account for e in events if isinstance(e, LiquidationStarted)]


def _position(ex, side: str, deposit: float, qty: float, price: float = 100_000) -> int:
    ex.set_index("BTC", price)
    other = ex.open_account(1_000_000)
    ex.place(other, "BTC", "sell" if side == "buy" else "buy", qty, price, leverage=20)
    a = ex.open_account(deposit)
    ex.place(a, "BTC", side, qty, None, leverage=20)
    ex.settle()
    return a


def test_a_long_is_liquidated_at_the_first_tick_below_maintenance(make_exchange):
    ex = make_exchange()
    ex.scan.verify = True
    a = _position(ex, "buy", 1_000, 0.1)  # liquidated below 9,000 / 0.0996 = 90,361.45…
    for price in (99_000, 95_000, 91_000, 90_400, 90_361.5):  # falling, never crossing
        ex.set_index("BTC", price)
        assert _liquidated(ex.settle()) == []
    assert ex.scan.valued <= 1  # the far-away pool was not valued again on the way down
    ex.set_index("BTC", 90_361.4)
    assert _liquidated(ex.settle()) == [a]


def test_a_short_is_liquidated_at_the_first_tick_above_maintenance(make_exchange):
    # 1,000 + 0.1 × (100,000 − p) = 0.004 × 0.1 × p  ⇔  p = 11,000 / 0.1004 = 109,561.75…
    ex = make_exchange()
    ex.scan.verify = True
    a = _position(ex, "sell", 1_000, 0.1)
    for price in (105_000, 109_000, 109_561.7):
        ex.set_index("BTC", price)
        assert _liquidated(ex.settle()) == []
    ex.set_index("BTC", 109_561.8)
    assert _liquidated(ex.settle()) == [a]


def test_money_moved_outside_a_fill_is_seen(make_exchange):
    """A withdrawal changes no position; the scan must still value the pool again."""
    ex = make_exchange()
    a = _position(ex, "buy", 2_000, 0.1)
    ex.set_index("BTC", 95_000)   # equity 1,500, maintenance 38: healthy
    assert _liquidated(ex.settle()) == []
    ex.acc.w[a] -= usd(1_470)     # below maintenance now, without a fill or a price move
    ex.acc.touch(a)
    assert _liquidated(ex.settle()) == [a]


def test_a_withdrawal_moves_the_trigger(make_exchange):
    """The pool's trigger was set with 5,000 of margin; after a withdrawal leaves 600, the long
    must go at its new liquidation price (9,400 / 0.0996 = 94,377.5…), not the old one."""
    ex = make_exchange()
    a = _position(ex, "buy", 5_000, 0.1)
    ex.set_index("BTC", 100_000)
    assert _liquidated(ex.settle()) == []
    ex.withdraw(a, 4_400)
    ex.set_index("BTC", 94_377.6)
    assert _liquidated(ex.settle()) == []
    ex.set_index("BTC", 94_377.5)
    assert _liquidated(ex.settle()) == [a]


def test_scan_state_is_not_saved_and_is_rebuilt():
    from engine.saves.state import attributes
    from engine.exchange import Exchange
    from engine.instruments import Instrument
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=1_000)
    assert "scan" not in dict(attributes(ex))
    assert "touched" not in dict(attributes(ex.acc))


@pytest.mark.parametrize("few", [0, 10**9], ids=["arrays", "one-by-one"])
@pytest.mark.parametrize("seed", range(6))
def test_random_soak_scan_equals_full_valuation(make_exchange, seed, few, monkeypatch):
    """Random positions on three symbols (cross, isolated, multi-leg), prices swinging ±40%,
    trades, deposits, withdrawals and isolated margin moves; ``verify`` raises on any step
    where the scan and a full valuation disagree. Both valuations of the scan: numpy arrays,
    and one account at a time (``_FEW``: what a small batch uses)."""
    monkeypatch.setattr(scan_module, "_FEW", few)
    rng = np.random.default_rng(seed)
    ex = make_exchange(("BTC", "ETH", "DOGE"), fund=50_000)
    ex.scan.verify = True
    base = {"BTC": 100_000.0, "ETH": 4_000.0, "DOGE": 0.25}
    for sym, p in base.items():
        ex.set_index(sym, p)
    accounts = [ex.open_account(round(float(rng.uniform(2_000, 50_000)), 2)) for _ in range(60)]
    for a in accounts[::4]:
        ex.set_margin_mode(a, "ETH", "isolated")
    makers = [ex.open_account(50_000_000) for _ in range(2)]
    liquidated = 0
    for step in range(160):
        for sym in base:
            drift = rng.normal(0, 0.03) if step % 40 < 30 else rng.normal(0, 0.08)
            price = max(base[sym] * 0.3, min(base[sym] * 1.7, ex.marks.index[ex.index_of(sym)]
                                             * float(ex.instrument(sym).tick_size) * (1 + drift)))
            ex.set_index(sym, round(price, 5 if sym == "DOGE" else 1))
            ex.cancel_all(makers[0], sym)
            mark = ex.marks.index[ex.index_of(sym)] * float(ex.instrument(sym).tick_size)
            tick = float(ex.instrument(sym).tick_size)
            for k in range(1, 4):
                for side, sign in (("buy", -1), ("sell", 1)):
                    try:
                        ex.place(makers[0], sym, side, _qty(sym, 0.5), round(mark * (1 + sign
                                 * 0.002 * k) / tick) * tick)
                    except CrashfloorError:
                        pass
        for a in rng.choice(accounts, 8, replace=False).tolist():
            sym = list(base)[int(rng.integers(0, 3))]
            action = rng.integers(0, 5)
            try:
                if action <= 1:
                    ex.place(a, sym, ("buy", "sell")[int(rng.integers(0, 2))],
                             _qty(sym, float(rng.uniform(0.05, 0.6))), None,
                             leverage=int(rng.choice([5, 10, 20])))
                elif action == 2:
                    ex.deposit(a, round(float(rng.uniform(10, 500)), 2))
                elif action == 3:
                    ex.withdraw(a, round(float(rng.uniform(10, 800)), 2))
                elif ex.acc.isov[ex.index_of("ETH"), a] and ex.acc.q[ex.index_of("ETH"), a]:
                    ex.add_margin(a, "ETH", round(float(rng.uniform(5, 200)), 2))
            except CrashfloorError:
                pass
        liquidated += len(_liquidated(ex.settle()))
        assert ex.total_money() == ex.net_deposits
    assert liquidated > 5  # the soak did exercise the waterfall


def _qty(sym: str, usd_scale: float) -> float:
    return {"BTC": round(usd_scale, 3), "ETH": round(usd_scale * 20, 2),
            "DOGE": float(round(usd_scale * 200_000))}[sym]


@pytest.mark.parametrize("name,overrides", [
    ("1011", []),
    ("breaker", ["exchange.adl_breaker_usd_per_min=0", "exchange.halt_drop_pct=4"]),
])
def test_whole_level_scan_equals_full_valuation(name, overrides):
    """A whole crash (small crowd) with every scan checked; the halt variant freezes pools under
    water until the halt ends, so they must stay in sight."""
    level = load_level(LEVELS / f"{name}.toml",
                       ["crowd.accounts=1500", "clock.step_seconds=2", *overrides])
    run = CrashRun(level, seed=3)
    run.sim.exchange.scan.verify = True
    run.run()
    summary = run.summary()
    assert summary["liquidations"]["count"] > 100
    if overrides:
        assert summary["halts"]


@pytest.mark.parametrize("venue", ["binance", "bybit", "bitmex"])
def test_both_valuations_run_the_same_crash(venue, monkeypatch):
    """The scan's two valuations (numpy arrays; one account at a time for a small batch) give
    the same run to the checksum, under each maintenance basis (mark, entry for isolated
    positions, entry) with isolated positions in the crowd."""
    checksums = []
    for few in (0, 10**9):
        monkeypatch.setattr(scan_module, "_FEW", few)
        level = load_level(LEVELS / "1011.toml", [
            "crowd.accounts=500", "clock.step_seconds=2",
            f"exchange.venue={venue}"])
        run = CrashRun(level, seed=2)
        run.sim.exchange.scan.verify = True
        run.run()
        checksums.append(run.sim.checksum())
    assert checksums[0] == checksums[1]


@pytest.mark.parametrize("policy", ["article", "dydx"])
def test_looking_at_the_lights_changes_nothing(policy):
    """Lights are computed when a view asks for them: a run whose lights are read every step ends
    with the same checksum as one nobody watched (dYdX's lights draw nothing from the generator),
    and the lights read are those of a fresh full ranking."""
    from engine.exchange.lights import update_lights

    def play(watch: bool) -> str:
        level = load_level(LEVELS / "1011.toml", ["crowd.accounts=800", "clock.step_seconds=5",
                                                  f"exchange.adl_policy={policy}"])
        run = CrashRun(level, seed=2)
        ex = run.sim.exchange
        while run.sim.t < 3_600:
            run.sim.step()
            if watch:
                seen = [ex.position(run.player, sym).adl_light for sym in ex.symbols]
                assert not ex.lights_stale
                if run.sim.t % 600 == 0:
                    before = ex.acc.adl_light.copy()
                    update_lights(ex)
                    assert np.array_equal(before, ex.acc.adl_light)
                    assert seen == [int(ex.acc.adl_light[s, run.player])
                                    for s in range(len(ex.symbols))]
        return run.checksum()

    assert play(True) == play(False)
