"""Hypothesis stateful tests over the whole exchange: random traders, orders, index moves and
settles, with the named invariants in tests/engine/invariants.py checked after every operation."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine import CrashfloorError, Exchange
from engine.events import AdlFill

from . import invariants
from .conftest import fee_free

PRICES = {"BTC": (100_000, 0.1), "DOGE": (0.25, 0.00001)}


class ExchangeMachine(RuleBasedStateMachine):
    mark_method = "index"
    fees = False

    @initialize(fund=st.sampled_from([0, 50, 5_000, 1_000_000]),
                policy=st.sampled_from(["article", "bitmex", "binance", "hyperliquid", "dydx",
                                        "drift"]))
    def setup(self, fund, policy):
        from engine import Instrument
        make = Instrument.preset if self.fees else fee_free
        self.ex = Exchange([make("BTC"), make("DOGE")], insurance_fund=fund, adl_policy=policy,
                           mark_method=self.mark_method)
        self.index = {"BTC": 1_000_000, "DOGE": 25_000}  # ticks
        for sym, ticks in self.index.items():
            self.ex.set_index_ticks(self.ex._s(sym), ticks)
        self.accounts = [self.ex.open_account(d) for d in (500, 5_000, 50_000, 2_000_000)]
        self.oids = []
        self.last_events = []

    def _ok(self, call):
        try:
            return call()
        except CrashfloorError:
            return None

    @rule(deposit=st.sampled_from([100, 1_000, 20_000]))
    def open_account(self, deposit):
        self.accounts.append(self.ex.open_account(deposit))

    @rule(i=st.integers(0, 50), sym=st.sampled_from(["BTC", "DOGE"]), buy=st.booleans(),
          lots=st.integers(1, 3_000), offset=st.integers(-300, 300),
          tif=st.sampled_from(["gtc", "gtc", "ioc", "fok", "post_only", "market"]),
          lev=st.sampled_from([None, 5, 20, 50]),
          reduce_only=st.sampled_from([False, False, False, True]))
    def place(self, i, sym, buy, lots, offset, tif, lev, reduce_only):
        a = self.accounts[i % len(self.accounts)]
        s = self.ex._s(sym)
        inst = self.ex.instruments[s]
        qty = lots * inst.lot_size
        price = None if tif == "market" else (self.index[sym] + offset * 10) * inst.tick_size
        oid = self._ok(lambda: self.ex.place(a, sym, "buy" if buy else "sell", qty, price,
                                             "gtc" if tif == "market" else tif, lev, reduce_only))
        if oid is not None:
            self.oids.append(oid)

    @rule(maker=st.integers(0, 50), taker=st.integers(0, 50), sym=st.sampled_from(["BTC", "DOGE"]),
          buy=st.booleans(), usd=st.integers(100, 200_000), offset=st.integers(-50, 50),
          lev=st.sampled_from([10, 20, 50]))
    def trade(self, maker, taker, sym, buy, usd, offset, lev):
        """A resting order near the index, then a market order from another account into it."""
        m = self.accounts[maker % len(self.accounts)]
        t = self.accounts[taker % len(self.accounts)]
        s = self.ex._s(sym)
        inst = self.ex.instruments[s]
        ticks = self.index[sym] + offset
        lots = max(1, usd * 1_000_000 // (ticks * inst.unit_per_tick_lot))
        qty = lots * inst.lot_size
        oid = self._ok(lambda: self.ex.place(m, sym, "sell" if buy else "buy", qty,
                                             ticks * inst.tick_size, "gtc", lev))
        if oid is not None:
            self.oids.append(oid)
        self._ok(lambda: self.ex.place(t, sym, "buy" if buy else "sell", qty, None, "gtc", lev))

    @precondition(lambda self: self.oids)
    @rule(k=st.integers(0, 1_000))
    def cancel(self, k):
        oid = self.oids[k % len(self.oids)]
        self._ok(lambda: self.ex.cancel(oid))
        before = self.ex.checksum()
        assert self._ok(lambda: self.ex.cancel(oid)) is None
        assert self.ex.checksum() == before, "cancelling twice changed the state"

    @precondition(lambda self: self.oids)
    @rule(k=st.integers(0, 1_000), dprice=st.integers(-20, 20), frac=st.sampled_from([0.5, 1, 2]))
    def amend(self, k, dprice, frac):
        oid = self.oids[k % len(self.oids)]
        view = self.ex.order(oid)
        if view is None:
            return
        s = self.ex._s(view.symbol)
        inst = self.ex.instruments[s]
        lots = max(1, int(int(view.qty / inst.lot_size) * frac))
        self._ok(lambda: self.ex.amend(oid, view.price + dprice * 10 * inst.tick_size,
                                       lots * inst.lot_size))

    @rule(i=st.integers(0, 50), sym=st.sampled_from(["BTC", "DOGE"]),
          frac=st.sampled_from([0.25, 0.5, 1]))
    def close(self, i, sym, frac):
        a = self.accounts[i % len(self.accounts)]
        self._ok(lambda: self.ex.close_position(a, sym, frac))

    @rule(i=st.integers(0, 50), sym=st.sampled_from(["BTC", "DOGE"]), iso=st.booleans())
    def margin_mode(self, i, sym, iso):
        a = self.accounts[i % len(self.accounts)]
        self._ok(lambda: self.ex.set_margin_mode(a, sym, "isolated" if iso else "cross"))

    @rule(sym=st.sampled_from(["BTC", "DOGE"]), move=st.integers(-1_500, 1_500))
    def move_index(self, sym, move):
        """Move the index by up to ±15% and settle: liquidations, the fund and ADL fire."""
        ticks = max(10, self.index[sym] * (10_000 + move) // 10_000)
        self.index[sym] = ticks
        self.ex.set_index_ticks(self.ex._s(sym), ticks)
        self.settle()

    @rule(sym=st.sampled_from(["BTC", "DOGE"]), pct=st.integers(5, 30), up=st.booleans())
    def shock(self, sym, pct, up):
        """A gap of 5–30% in one step, into whatever the book holds."""
        self.move_index(sym, pct * 100 if up else -pct * 100)

    @rule()
    def settle(self):
        events = self.ex.settle()
        invariants.nobody_underwater(self.ex)
        invariants.adl_victims_solvent(self.ex, events)
        self.last_events = events

    @invariant()
    def always(self):
        if hasattr(self, "ex"):
            for check in invariants.ALWAYS:
                check(self.ex)


class MedianMarkWithFees(ExchangeMachine):
    mark_method = "median3"
    fees = True


_settings = settings(max_examples=200, stateful_step_count=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])
TestExchangeStateful = ExchangeMachine.TestCase
TestExchangeStateful.settings = _settings
TestMedianMarkWithFees = MedianMarkWithFees.TestCase
TestMedianMarkWithFees.settings = _settings
