"""The crowd's hedged traders (engine/agents/crowd.py): a short leg worth ``hedge_ratio`` of the
long leg, leverage times ``hedged_leverage_scale``, re-hedges after ADL limited to
``rebalance_slippage_pct`` through the mark."""

from pathlib import Path

import numpy as np
import pytest

from engine import CrashRun, load_level
from engine.book import SELL

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"


def _legs(run):
    """Per hedged account: (long notional, short notional, equity), money units at mark."""
    ex, ids = run.sim.exchange, run.crowd.hedged_ids
    per_lot = np.array([ex.marks.mark[s] * ex.units[s] for s in range(len(ex.symbols))], float)
    value = ex.acc.qty[:, ids] * per_lot[:, None]
    equity = np.array([ex.equity_units(int(a)) for a in ids], float)
    return np.where(value > 0, value, 0).sum(0), -np.where(value < 0, value, 0).sum(0), equity


@pytest.mark.parametrize("ratio", [0.5, 0.25])
def test_a_hedge_leg_is_its_ratio_of_the_long_leg(ratio):
    run = CrashRun(load_level(LEVEL, ["crowd.accounts=4000", f"crowd.hedge_ratio={ratio}"]),
                   seed=3)
    long, short, _ = _legs(run)
    assert len(long) > 50
    # whole lots at each leg's own entry price: within a few per cent of the ratio
    assert np.median(short / long) == pytest.approx(ratio, rel=0.01)
    assert np.all(np.abs(short / long / ratio - 1) < 0.15)


def test_hedged_traders_lever_up():
    plain = CrashRun(load_level(LEVEL, ["crowd.accounts=4000", "crowd.hedged_leverage_scale=1"]),
                     seed=3)
    levered = CrashRun(load_level(LEVEL, ["crowd.accounts=4000", "crowd.hedged_leverage_scale=3"]),
                       seed=3)
    (l1, _, e1), (l3, _, e3) = _legs(plain), _legs(levered)
    # the same accounts and sizes; three times the leverage leaves about a third of the margin
    assert np.median(l3 / e3) / np.median(l1 / e1) == pytest.approx(3, rel=0.15)


def test_a_rehedge_after_adl_is_limited_through_the_mark(monkeypatch):
    run = CrashRun(load_level(LEVEL, ["crowd.accounts=2000", "crowd.rebalance_slippage_pct=2"]),
                   seed=1)
    ex, crowd = run.sim.exchange, run.crowd
    sent = []
    monkeypatch.setattr(type(ex), "place_lots", lambda self, a, s, side, lots, price, *rest:
                        sent.append((a, s, side, lots, price)))
    a, s = int(crowd.ids[0]), ex.index_of("BTC")
    crowd._rehedge.append((a, s, SELL, 7))
    crowd.act(run.sim)
    mark = ex.marks.mark[s]
    assert sent[0] == (a, s, SELL, 7, round(mark * 0.98))
