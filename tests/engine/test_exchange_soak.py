"""A seeded random soak over the exchange: many traders, leverage, crashes and rallies, with the
invariants checked after every operation. Complements the hypothesis machine with long runs that
reach deep into the waterfall (fund takeovers, fund deleveraging, ADL under every policy)."""

import collections

import numpy as np
import pytest

from engine import CrashfloorError, Exchange

from . import invariants
from .conftest import fee_free

POLICIES = ["article", "bitmex", "binance", "hyperliquid", "dydx", "drift"]


def soak(policy: str, seed: int, steps: int = 400, fund: int = 2_000):
    rng = np.random.default_rng(seed)
    ex = Exchange([fee_free("BTC"), fee_free("DOGE")], insurance_fund=fund, adl_policy=policy,
                  mark_method="median3" if seed % 2 else "index")
    index = [1_000_000, 25_000]
    for s, t in enumerate(index):
        ex.set_index_ticks(s, t)
    accounts = [ex.open_account(int(d)) for d in rng.choice([300, 2_000, 20_000, 500_000], 30)]
    for a in accounts:
        for sym in ex.symbols:
            ex.set_leverage(a, sym, int(rng.choice([5, 20, 50])))
    for a in accounts[::4]:
        ex.set_margin_mode(a, "DOGE", "isolated")
    seen = collections.Counter()
    for _ in range(steps):
        op = rng.random()
        a = int(rng.choice(accounts))
        s = int(rng.integers(0, 2))
        inst = ex.instruments[s]
        try:
            if op < 0.55:
                side = int(rng.choice([1, -1]))
                ticks = int(index[s] * (1 + rng.normal(0, 0.004)))
                lots = max(1, int(rng.integers(50, 50_000) * 1_000_000
                                  // (ticks * inst.unit_per_tick_lot)))
                tif = ["gtc", "gtc", "ioc", "post_only"][int(rng.integers(0, 4))]
                market = rng.random() < 0.4
                ex.place_lots(a, s, side, lots, None if market else ticks,
                              ex_tif("ioc" if market else tif), bool(rng.random() < 0.1))
            elif op < 0.7 and ex.ledger.orders:
                oid = sorted(ex.ledger.orders)[int(rng.integers(0, len(ex.ledger.orders)))]
                ex.cancel(oid)
            elif op < 0.75:
                ex.close_position(a, ex.symbols[s], 0.5)
        except CrashfloorError as exc:
            seen[type(exc).__name__] += 1
        for check in invariants.ALWAYS:
            check(ex)
        if rng.random() < 0.15:
            index[s] = max(10, int(index[s] * (1 + rng.normal(0, 0.04))))
            ex.set_index_ticks(s, index[s])
            events = ex.settle()
            seen.update(type(e).__name__ for e in events)
            invariants.nobody_underwater(ex)
            invariants.adl_victims_solvent(ex, events)
            for check in invariants.ALWAYS:
                check(ex)
    return seen, ex


def ex_tif(name):
    from engine.book import Tif
    return {"gtc": Tif.GTC, "ioc": Tif.IOC, "post_only": Tif.POST_ONLY}[name]


@pytest.mark.parametrize("policy", POLICIES)
def test_soak_reaches_every_tier_and_keeps_invariants(policy):
    seen = collections.Counter()
    for seed in (1, 2, 3):
        seen += soak(policy, seed)[0]
    assert seen["LiquidationFill"] > 0, seen
    assert seen["InsuranceTakeover"] > 0, seen
    assert seen["AdlFill"] > 0, seen
