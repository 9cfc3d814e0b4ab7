"""A seeded fuzz of the exchange's public API, per ADL policy, with every invariant checked.

Per policy, ``EPISODES`` fresh small exchanges (2–3 symbols, 6–10 traders and a market maker,
small insurance funds including 0, isolated and cross margin, sometimes trading halts or an ADL
breaker) each take ``OPS_PER_EPISODE`` random operations: orders near and far from the mark, market
orders, amends (reduce-only too), cancels, closes, deposits and withdrawals, isolated margin in and
out, leverage and margin-mode changes, hostile values (sizes and prices near the int64 edge, wrong
types), index moves including ±30% gaps, the clock, and a settle every few operations.

Checked: money is conserved after every operation; every invariant in ``invariants.py`` holds after
every settle (and the cheap ones after every few operations); a ``CrashfloorError`` leaves
``checksum()`` unchanged; any other exception is a failure. A failing episode is written out as a
runnable Python script (the exchange it built and every call, in human units) and its tail is
shown in the failure message. To replay one by hand::

    python -m tests.engine.test_fuzz_invariants POLICY EPISODE [--seed S] [--upto N]  # the script

``CRASHFLOOR_FUZZ_SEEDS=11,12,13`` runs more seeds than the suite's one.
"""

from __future__ import annotations

import collections
import math
import os
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from engine import CrashfloorError, Exchange, Instrument

from . import invariants

POLICIES = ["article", "bitmex", "binance", "hyperliquid", "dydx", "drift", "pro_rata",
            "pro_rata_profit", "capped_pro_rata", "optimal"]
EPISODES = 10
OPS_PER_EPISODE = 2_000
"""10 × 2,000 = 20,000 operations per policy (settles not counted)."""
SEED = 11
SEEDS = [int(x) for x in os.environ.get("CRASHFLOOR_FUZZ_SEEDS", str(SEED)).split(",")]
"""The suite runs seed 11; ``CRASHFLOOR_FUZZ_SEEDS=11,12,13`` runs more (each 20,000 ops/policy)."""
BASE = {"BTC": Decimal(100_000), "ETH": Decimal(4_000), "DOGE": Decimal("0.25")}
MAX_USD = 10**12


def _fee_free(symbol: str) -> Instrument:
    inst = Instrument.preset(symbol)
    return Instrument(inst.symbol, inst.tick_size, inst.lot_size, inst.brackets,
                      maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)


class Violation(Exception):
    pass


class Episode:
    """One fresh exchange and its random operations; ``log`` is a runnable script."""

    def __init__(self, policy: str, episode: int, seed: int = SEED, hostile: bool = True):
        self.policy, self.episode, self.hostile_ops = policy, episode, hostile
        self.rng = rng = np.random.default_rng([seed, POLICIES.index(policy), episode])
        syms = ["BTC", "ETH", "DOGE"] if rng.random() < 0.5 else \
            [["BTC", "ETH"], ["BTC", "DOGE"], ["ETH", "DOGE"]][int(rng.integers(0, 3))]
        fees = bool(rng.random() < 0.5)
        shared = bool(rng.random() < 0.2)
        if shared:
            fund: object = int(rng.choice([0, 50, 2_000]))
        else:
            fund = {s: int(rng.choice([0, 0, 50, 2_000, 100_000])) for s in syms}
        floor = 10 if rng.random() < 0.25 else 0  # a fund floor above zero, sometimes
        if shared:
            fund = max(fund, floor)
        else:
            fund = {k: max(v, floor) for k, v in fund.items()}
        mark = "index" if rng.random() < 0.7 else "median3"
        self.breaker_used = False
        self.oids: list[int] = []
        self.events = collections.Counter()
        self.ops = 0
        self.attempts = 0
        self.in_hostile = False
        self.errors = collections.Counter()
        self.log = ["import math, sys",
                    "from math import inf, nan",
                    f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})",
                    "from decimal import Decimal",
                    "from engine import CrashfloorError, Exchange, Instrument",
                    "from tests.engine import invariants",
                    "from tests.engine.test_fuzz_invariants import _fee_free",
                    f"# fuzz: policy={policy} episode={episode} seed={seed}",
                    "def refused(call):",
                    "    before = ex.checksum()",
                    "    try:",
                    "        call()",
                    "    except CrashfloorError:",
                    "        assert ex.checksum() == before, 'a refused call changed the state'",
                    "    else:",
                    "        raise AssertionError('this call was refused in the fuzz run')",
                    f"ex = Exchange([{'_fee_free' if not fees else 'Instrument.preset'}(s) "
                    f"for s in {syms!r}], insurance_fund={fund!r}, shared_fund={shared}, "
                    f"fund_floor={floor}, adl_policy={policy!r}, mark_method={mark!r})"]
        make = Instrument.preset if fees else _fee_free
        self.ex = Exchange([make(s) for s in syms], insurance_fund=fund, shared_fund=shared,
                           fund_floor=floor, adl_policy=policy, mark_method=mark)
        self.syms = syms
        self.index = {s: BASE[s] for s in syms}
        for s in syms:
            self.call("set_index", s, self.index[s])
        self.settle()
        self.maker = self.call("open_account", 5_000_000)
        n = int(rng.integers(6, 11))
        self.traders = [self.call("open_account", int(rng.choice([200, 1_000, 5_000, 50_000,
                                                                  1_000_000])))
                        for _ in range(n)]
        for a in self.traders:
            for s in syms:
                cap = self.ex.instruments[self.ex._s(s)].max_leverage
                lev = int(rng.choice([2, 5, 10, 20, 50, cap]))
                self.call("set_leverage", a, s, min(lev, cap))
                if rng.random() < 0.3:
                    self.call("set_margin_mode", a, s, "isolated")
        rules = {}
        if rng.random() < 0.3:
            rules.update(halt_drop_pct=float(rng.choice([8, 15, 25])),
                         halt_window_minutes=int(rng.choice([1, 5])),
                         halt_minutes=int(rng.choice([1, 2])))
        if rng.random() < 0.15:
            rules["adl_breaker_usd_per_min"] = int(rng.choice([1_000, 50_000]))
            self.breaker_used = True
        if rng.random() < 0.3:  # partial liquidation in slices (Hyperliquid's rule)
            rules.update(partial_slice_pct=float(rng.choice([20, 50])),
                         partial_min_usd=int(rng.choice([0, 5_000])),
                         partial_cooldown_seconds=int(rng.choice([0, 5, 30])))
        if rng.random() < 0.2:  # ADL at the mark: the funds pay the gap (OKX, Hyperliquid)
            rules["adl_price"] = "mark"
        if rng.random() < 0.2:  # dYdX's fillable price: past bankruptcy, the funds pay the gap
            rules["liquidation_limit"] = "fillable"
        if rng.random() < 0.3:  # Binance's and Bybit's risk-tier step-down
            rules["tier_step_down"] = True
        if rng.random() < 0.2:  # Drift: the loss beyond a fund is socialized, nobody closed
            rules["tier3"] = "socialize"
        if rng.random() < 0.3:  # BitMEX, Bybit: maintenance on the entry value
            rules["maintenance_basis"] = str(rng.choice(["entry", "entry_isolated"]))
        if rules:
            self.call("set_rules", **rules)

    # --- calls ---------------------------------------------------------------------------------
    def call(self, name, *args, **kw):
        """A public call, logged as a runnable line; raises whatever the engine raises."""
        text = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kw.items()])
        self.log.append(f"ex.{name}({text})")
        return getattr(self.ex, name)(*args, **kw)

    def attempt(self, name, *args, check_state=None, **kw):
        """A call that may be refused: a CrashfloorError must leave the state unchanged (checked
        on every other call, and on every hostile one, to keep the fuzz quick)."""
        if check_state is None:
            self.attempts += 1
            check_state = self.in_hostile or self.attempts % 2 == 0
        before = self.ex.checksum() if check_state else None
        try:
            return self.call(name, *args, **kw)
        except CrashfloorError as exc:
            self.errors[type(exc).__name__] += 1
            self.log[-1] = f"refused(lambda: {self.log[-1]})  # -> {type(exc).__name__}"
            if before is not None and self.ex.checksum() != before:
                raise Violation(f"{type(exc).__name__} from ex.{name} changed the state: "
                                f"{exc}") from exc
            return None

    def settle(self):
        self.log.append("events = ex.settle(); invariants.check_after_settle(ex, events, "
                        f"breaker_used={self.breaker_used})")
        events = self.ex.settle()
        self.events.update(type(e).__name__ for e in events)
        invariants.check_after_settle(self.ex, events, breaker_used=self.breaker_used)
        return events

    # --- values ---------------------------------------------------------------------------------
    def _inst(self, sym):
        return self.ex.instruments[self.ex._s(sym)]

    def _ticks(self, sym):
        return int(self.index[sym] / self._inst(sym).tick_size)

    def price(self, sym, rel):
        """A price ``rel`` (fraction) from the index, on the tick grid, at least one tick."""
        inst = self._inst(sym)
        ticks = max(1, int(self._ticks(sym) * (1 + rel)))
        return ticks * inst.tick_size

    def qty(self, sym, usd):
        inst = self._inst(sym)
        lots = max(1, int(Decimal(usd) / (self.index[sym] * inst.lot_size)))
        return lots * inst.lot_size

    def account(self):
        return self.traders[int(self.rng.integers(0, len(self.traders)))]

    def sym(self):
        return self.syms[int(self.rng.integers(0, len(self.syms)))]

    def resting(self):
        live = [o for o in self.oids if o in self.ex.ledger.orders]
        self.oids = live
        return live

    # --- the operations ---------------------------------------------------------------------------
    def op(self):
        rng = self.rng
        r = rng.random()
        a, sym = self.account(), self.sym()
        side = "buy" if rng.random() < 0.5 else "sell"
        if r < 0.28:  # a limit near the index
            tif = ["gtc", "gtc", "gtc", "ioc", "fok", "post_only"][int(rng.integers(0, 6))]
            lev = None if rng.random() < 0.8 else int(rng.choice([2, 10, 20, 50]))
            oid = self.attempt("place", a, sym, side,
                               self.qty(sym, int(rng.choice([50, 500, 5_000, 50_000]))),
                               self.price(sym, float(rng.normal(0, 0.01))), tif, lev,
                               bool(rng.random() < 0.1))
            if oid is not None:
                self.oids.append(oid)
        elif r < 0.40:  # a market order
            self.attempt("place", a, sym, side,
                         self.qty(sym, int(rng.choice([50, 500, 5_000, 50_000, 500_000]))), None,
                         "gtc", None, bool(rng.random() < 0.2))
        elif r < 0.45:  # a limit far from the mark: up to ±90%, past the bands, one tick
            where = rng.random()
            price = self._inst(sym).tick_size if where < 0.15 else \
                self.price(sym, float(rng.choice([-0.9, -0.75, -0.5, -0.3, 0.3, 0.72, 0.9,
                                                  1.0, 1.5])))
            oid = self.attempt("place", a, sym, side, self.qty(sym, int(rng.choice([50, 5_000]))),
                               price, "gtc", None, bool(rng.random() < 0.3))
            if oid is not None:
                self.oids.append(oid)
        elif r < 0.53:
            live = self.resting()
            if live:
                self.attempt("cancel", live[int(rng.integers(0, len(live)))])
        elif r < 0.55:
            self.attempt("cancel_all", a, None if rng.random() < 0.5 else sym)
        elif r < 0.63:
            self.amend()
        elif r < 0.68:
            if self.ex.acc.q[self.ex._s(sym), a]:
                self.attempt("close_position", a, sym, float(rng.choice([0.25, 0.5, 1, 1])))
        elif r < 0.71:
            self.attempt("deposit", a, int(rng.choice([10, 100, 1_000, 10_000])))
        elif r < 0.74:
            self.withdraw(a)
        elif r < 0.78:
            self.isolated_margin(a, sym)
        elif r < 0.81:
            cap = self._inst(sym).max_leverage
            self.attempt("set_leverage", a, sym, int(rng.choice([1, 2, 5, 10, 20, 50, cap])))
        elif r < 0.83:
            self.attempt("set_margin_mode", a, sym, "isolated" if rng.random() < 0.5 else "cross")
        elif r < 0.93:
            self.requote(sym)
        elif r < 0.95:  # a reduce-only order on a position, for the amends to work on
            s = self.ex._s(sym)
            pos = int(self.ex.acc.q[s, a])
            if pos:
                lots = max(1, int(abs(pos) * float(rng.choice([0.3, 0.5, 1]))))
                oid = self.attempt("place", a, sym, "sell" if pos > 0 else "buy",
                                   lots * self._inst(sym).lot_size,
                                   self.price(sym, float(rng.normal(0, 0.02))), "gtc", None, True)
                if oid is not None:
                    self.oids.append(oid)
        elif self.hostile_ops:
            self.in_hostile = True
            self.hostile(a, sym, side)
            self.in_hostile = False
        self.ops += 1

    def amend(self):
        rng = self.rng
        live = self.resting()
        ro = [o for o in live if self.ex.ledger.orders[o].reduce_only]
        pool = ro if ro and rng.random() < 0.4 else live
        if not pool:
            return
        oid = pool[int(rng.integers(0, len(pool)))]
        view = self.ex.order(oid)
        sym = view.symbol
        book = self.ex.books[self.ex._s(sym)]
        kw = {}
        how = rng.random()
        if how < 0.3:  # through the touch, so that it fills
            touch = book.best_ask() if view.side > 0 else book.best_bid()
            if touch is None:
                return
            kw["price"] = touch * self._inst(sym).tick_size
        elif how < 0.6:
            kw["price"] = self.price(sym, float(rng.normal(0, 0.01)))
        if how >= 0.3 and rng.random() < 0.6:
            lots = int(view.qty / self._inst(sym).lot_size)
            lots = max(1, int(lots * float(rng.choice([0.5, 1.5, 2]))))
            kw["qty"] = lots * self._inst(sym).lot_size
        if kw:
            self.attempt("amend", oid, **kw)

    def withdraw(self, a):
        rng = self.rng
        if rng.random() < 0.5:
            free = min(self.ex.available_units(a), int(self.ex.acc.w[a]))
            if free <= 0:
                return
            usd = Decimal(free) / 1_000_000
        else:
            usd = int(rng.choice([10, 100, 1_000, 100_000]))
        self.attempt("withdraw", a, usd)

    def isolated_margin(self, a, sym):
        rng = self.rng
        ex, s = self.ex, self.ex._s(sym)
        add = rng.random() < 0.5
        if rng.random() < 0.5:
            if add:
                free = min(ex.available_units(a), int(ex.acc.w[a]))
            else:
                need = -(-ex.pools.notional(s, a) // max(int(ex.acc.lev[s, a]), 1))
                free = min(int(ex.acc.im[s, a]) + ex.pools.upnl(s, a) - need, int(ex.acc.im[s, a]))
            if free <= 0:
                return
            usd = Decimal(free) / 1_000_000
        else:
            usd = int(rng.choice([1, 100, 10_000]))
        self.attempt("add_margin" if add else "remove_margin", a, sym, usd)

    def requote(self, sym):
        """The market maker replaces its quotes: three levels each side around the index."""
        rng = self.rng
        self.attempt("cancel_all", self.maker, sym, check_state=False)
        for k, rel in enumerate((0.001, 0.005, 0.02)):
            size = int(rng.choice([2_000, 20_000, 100_000])) * (k + 1)
            for side, sign in (("buy", -1), ("sell", 1)):
                oid = self.attempt("place", self.maker, sym, side, self.qty(sym, size),
                                   self.price(sym, sign * rel), "post_only", check_state=False)
                if oid is not None:
                    self.oids.append(oid)

    def pick(self, options):
        return options[int(self.rng.integers(0, len(options)))]

    def hostile(self, a, sym, side):
        """Values near the int64 edge and of the wrong type: typed errors, nothing changed."""
        rng, pick = self.rng, self.pick
        inst = self._inst(sym)
        k = int(rng.integers(0, 12))
        big = int(rng.choice([2**62, 2**63 - 1, 2**63, 10**15, 10**18]))
        if k == 0:
            self.attempt("place", a, sym, side, big * inst.lot_size, None)
        elif k == 1:
            self.attempt("place", a, sym, side, inst.lot_size, big * inst.tick_size)
        elif k == 2:
            self.attempt("deposit", a, pick([MAX_USD, MAX_USD - 1, MAX_USD + 1, 10**13]))
        elif k == 3:
            self.attempt("open_account", pick([MAX_USD + 1, 1e13, -1, math.nan]))
        elif k == 4:
            self.attempt("set_index", sym, pick([big * inst.tick_size, 0, -1, math.inf]))
        elif k == 5:
            live = self.resting()
            if live:
                oid = live[int(rng.integers(0, len(live)))]
                self.attempt("amend", oid, **pick([{"price": 2**63}, {"qty": 2**63},
                                                   {"price": 1e300}, {"qty": 0},
                                                   {"price": math.nan}]))
        elif k == 6:
            self.attempt("place", a, sym, pick([[], {}, None, "up"]), inst.lot_size, None)
        elif k == 7:
            self.attempt("place", a, sym, side, inst.lot_size, self.price(sym, 0),
                         pick([{}, [], None, "day"]))
        elif k == 8:
            self.attempt("l2", sym, pick([math.nan, None, -1, "3"]))
        elif k == 9:
            self.attempt("depth_usd", sym, pick([None, math.nan, -1, "1"]))
        elif k == 10:
            self.attempt("set_leverage", a, sym, pick([0, 2**63, 2.5, None]))
        else:
            self.attempt("withdraw", a, pick([MAX_USD + 1, 2**63, math.inf, -5]))

    def move_index(self):
        rng = self.rng
        sym = self.sym()
        r = rng.random()
        if r < 0.6:
            move = rng.normal(0, 0.01)
        elif r < 0.85:
            move = rng.normal(0, 0.05)
        elif r < 0.95:
            move = float(rng.choice([-0.3, -0.2, 0.2, 0.3]))  # a gap
        else:
            move = float(BASE[sym] / self.index[sym]) - 1  # back to where it started
        inst = self._inst(sym)
        ticks = max(1, int(self._ticks(sym) * (1 + move)))
        ticks = min(ticks, int(BASE[sym] * 20 / inst.tick_size))
        self.index[sym] = ticks * inst.tick_size
        self.call("set_index", sym, self.index[sym])

    def run(self, ops: int):
        rng = self.rng
        money = invariants.money_conserved
        while self.ops < ops:
            self.op()
            money(self.ex)
            if self.ops % 5 == 0:
                self.log.append("invariants.check_always(ex, "
                                f"breaker_used={self.breaker_used})")
                invariants.check_always(self.ex, breaker_used=self.breaker_used)
            if rng.random() < 0.2:
                if rng.random() < 0.6:
                    self.move_index()
                self.ex.t += int(rng.choice([1, 5, 20, 60]))
                self.log.append(f"ex.t = {self.ex.t}")
                self.settle()

    def script(self) -> str:
        return "\n".join(self.log) + "\n"


def run_policy(policy: str, episodes: int = EPISODES, ops: int = OPS_PER_EPISODE,
               seed: int = SEED, out: Path | None = None, hostile: bool = True):
    """Every episode of one policy; returns (violations, totals). A violation stops its episode."""
    violations = []
    totals = {"ops": 0, "events": collections.Counter(), "errors": collections.Counter()}
    for k in range(episodes):
        ep = Episode(policy, k, seed, hostile)  # set-up errors are the harness's: not collected
        try:
            ep.run(ops)
        except Exception as exc:  # noqa: BLE001 - every failure is collected
            kind = ("invariant" if isinstance(exc, (AssertionError, Violation)) else
                    "typed error from a call that must not fail" if isinstance(exc, CrashfloorError)
                    else "untyped")
            where = traceback.extract_tb(exc.__traceback__)[-1]
            info = {"policy": policy, "episode": k, "seed": seed, "kind": kind,
                    "op": ep.ops if ep else None,
                    "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:400],
                    "at": f"{Path(where.filename).name}:{where.lineno} {where.name}",
                    "tail": ep.log[-25:] if ep else []}
            if ep is not None and out is not None:
                path = out / f"fuzz-{policy}-seed{seed}-ep{k}.py"
                path.write_text(ep.script())
                info["script"] = str(path)
            violations.append(info)
        if True:
            totals["ops"] += ep.ops
            totals["events"] += ep.events
            totals["errors"] += ep.errors
    return violations, totals


def describe(violations) -> str:
    lines = [f"{len(violations)} fuzz episode(s) broke:"]
    for v in violations:
        lines.append(f"- {v['policy']} episode {v['episode']} (seed {v['seed']}), op {v['op']}: "
                     f"[{v['kind']}] {v['error']}  at {v['at']}")
        if "script" in v:
            lines.append(f"  reproducer: python {v['script']}")
    first = violations[0]
    lines.append(f"\nlast calls of {first['policy']} episode {first['episode']}:")
    lines.extend("    " + t for t in first["tail"])
    return "\n".join(lines)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_fuzz_keeps_every_invariant(policy, seed, tmp_path):
    start, cpu = time.perf_counter(), time.process_time()
    violations, totals = run_policy(policy, seed=seed, out=tmp_path)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{policy} seed {seed}: {totals['ops']} ops in {elapsed:.1f} s ({cpu:.1f} s CPU); "
          f"events {dict(totals['events'])}; refusals {dict(totals['errors'])}")
    assert not violations, describe(violations)
    assert totals["ops"] >= 20_000
    ev = totals["events"]
    # the fuzz reaches every tier of the waterfall, not just the book
    assert ev["LiquidationStarted"] and ev["AdlFill"] and ev["InsuranceTakeover"], dict(ev)


def main(argv: list[str]) -> int:
    """``python -m tests.engine.test_fuzz_invariants POLICY EPISODE [--seed S] [--upto N]``: print
    the runnable script of one episode, up to its failure (or N operations)."""
    policy, episode = argv[0], int(argv[1])
    upto = int(argv[argv.index("--upto") + 1]) if "--upto" in argv else OPS_PER_EPISODE
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else SEED
    ep = None
    try:
        ep = Episode(policy, episode, seed)
        ep.run(upto)
        status = "# no violation"
    except Exception as exc:  # noqa: BLE001
        status = f"# stops with {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    sys.stdout.write(ep.script() + status + "\n" if ep else status + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
