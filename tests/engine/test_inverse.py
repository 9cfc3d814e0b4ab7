"""Inverse (coin-margined) contracts (``engine/exchange/inverse.py``): profit and loss in the coin,
N·F·(1/P₀ − 1/P₁), exactly; the waterfall and ADL in the coin; money conserved to the unit of
1e-12 coin after every call; the venue's units at the boundary (contracts, USD, the coin) and
clear refusals. The venues' own worked examples are in ``test_venues.py``."""

from __future__ import annotations

import collections
from decimal import Decimal as D

import numpy as np
import pytest

from engine import CoinExchange, InverseContract
from engine.errors import CrashfloorError, InvalidInput, LeverageError
from engine.events import AdlFill, InsuranceTakeover, LiquidationStarted, Trade

from . import invariants

BTCUSD = ((10, 0.4, 125), (20, 0.5, 100), (30, 1.0, 50), (50, 2.5, 20), (100, 5.0, 10),
          (200, 10.0, 5), (400, 12.5, 4))
"""Binance COIN-M BTCUSD, in BTC (``test_venues.py`` says where each row comes from)."""


def contract(face: str = "1", tick: str = "0.5", fees: bool = False, **kw) -> InverseContract:
    fee = {} if fees else {"maker_fee_ppm": 0, "taker_fee_ppm": 0, "liquidation_fee_ppm": 0}
    return InverseContract("BTC", D(face), D(tick), BTCUSD, **fee, **kw)


def exchange(fund: object = 10, **kw) -> CoinExchange:
    return CoinExchange("BTC", [contract()], insurance_fund=fund, mark_method="index", **kw)


def test_a_long_makes_contracts_times_the_change_in_reciprocal_price_exactly():
    """10,000 one-dollar contracts long from 8,000 to 10,000: 10,000 × (1/8,000 − 1/10,000) =
    0.25 BTC to the unit; the short on the other side loses exactly that."""
    ex = exchange()
    ex.set_index("BTC", 8_000)
    a, b = ex.open_account(1), ex.open_account(1)
    ex.place(b, "BTC", "sell", 10_000, 8_000)
    ex.place(a, "BTC", "buy", 10_000)
    ex.settle()
    assert ex.position(a, "BTC").entry == pytest.approx(8_000, abs=1e-9)
    ex.set_index("BTC", 10_000)
    ex.settle()
    assert ex.position(a, "BTC").upnl == D("0.25") and ex.position(b, "BTC").upnl == D("-0.25")
    assert ex.position(a, "BTC").notional == D(1)  # 10,000 contracts of $1 at $10,000: 1 BTC
    ex.place(b, "BTC", "buy", 10_000, 10_000)
    ex.place(a, "BTC", "sell", 10_000)  # a closes at 10,000 against b's order: b flat too
    assert ex.equity(a) == D("1.25") and ex.equity(b) == D("0.75")
    assert ex.account(a).wallet == D("1.25") and ex.position(a, "BTC").lots == 0
    assert ex.total_money() == ex.net_deposits == (1 + 1 + 10) * 10**12  # with the fund's 10


def test_the_collateral_falls_with_the_price_the_long_holds():
    """The same dollar loss costs more coin the lower the price: −10% from 10,000 is 0.0111 BTC
    for 1,000 contracts (1,000 × (1/10,000 − 1/9,000)), a +10% rise makes only 0.00909."""
    ex = exchange()
    ex.set_index("BTC", 10_000)
    a, b = ex.open_account(1), ex.open_account(1)
    ex.place(b, "BTC", "sell", 1_000, 10_000)
    ex.place(a, "BTC", "buy", 1_000)
    ex.set_index("BTC", 9_000)
    ex.settle()
    assert ex.position(a, "BTC").upnl.quantize(D("1e-8")) == D("-0.01111111")
    ex.set_index("BTC", 11_000)
    ex.settle()
    assert ex.position(a, "BTC").upnl.quantize(D("1e-8")) == D("0.00909091")


def test_the_venues_units_at_the_boundary():
    """Contracts and USD in, contracts and USD out: a buy in contracts is the core's sell of r,
    the book's bids are the buys of contracts (best, highest, first); fills and orders say so."""
    ex = exchange()
    ex.set_index("BTC", 10_000)
    mm = ex.open_account(5)
    bid = ex.place(mm, "BTC", "buy", 300, D("9999.5"))
    ex.place(mm, "BTC", "buy", 200, 9_999)
    ex.place(mm, "BTC", "sell", 100, D("10000.5"))
    assert ex.l2("BTC") == {"bids": [(D("9999.5"), 300), (D("9999.0"), 200)],
                            "asks": [(D("10000.5"), 100)]}
    view = ex.order(bid)
    assert (view.side.word, view.price, view.qty) == ("buy", D("9999.5"), 300)
    taker = ex.open_account(1)
    ex.place(taker, "BTC", "sell", 400)
    trades = [e for e in ex.settle() if isinstance(e, Trade)]
    assert [(t.price, t.qty, t.taker_side) for t in trades] == [(19_999, 300, -1), (19_998, 100, -1)]
    assert ex.position(taker, "BTC").lots == -400 and ex.position(mm, "BTC").lots == 400
    ex.amend(ex.open_orders(mm)[0].oid, price=9_998, contracts=150)
    assert [(o.side.word, o.price, o.qty) for o in sorted(ex.open_orders(mm), key=lambda o: o.oid)] == \
        [("buy", D("9998.0"), 150), ("sell", D("10000.5"), 100)]


def test_a_stop_to_sell_contracts_fires_when_the_price_falls():
    ex = exchange()
    ex.set_index("BTC", 10_000)
    a, mm = ex.open_account(1), ex.open_account(5)
    ex.place(mm, "BTC", "sell", 1_000, 10_000)
    ex.place(a, "BTC", "buy", 1_000)
    stop = ex.place_trigger(a, "BTC", "sell", "stop", 9_500, 1_000, reduce_only=True)
    (view,) = ex.open_triggers(a)
    assert (view.oid, view.side.word, view.trigger) == (stop, "sell", D("9500.0"))
    ex.place(mm, "BTC", "buy", 1_000, 9_400)
    ex.set_index("BTC", 9_600)
    ex.settle()
    assert ex.position(a, "BTC").lots == 1_000
    ex.set_index("BTC", 9_500)
    ex.settle()
    assert ex.position(a, "BTC").lots == 0  # sold to the 9,400 bid
    # in r-ticks of 1e-12 BTC a contract: 10,000 → 100,000,000 exactly, 9,400 → 106,382,979
    assert ex.equity(a) == 1 - D(1_000 * (106_382_979 - 100_000_000)) / 10**12
    exact = 1 + 1_000 * (D(1) / 10_000 - D(1) / 9_400)
    assert abs(ex.equity(a) - exact) <= 1_000 * D("0.5e-12")  # under half an r-tick a contract


def test_a_liquidation_runs_the_waterfall_in_the_coin_and_adl_closes_the_winning_shorts():
    """A 50× long whose book has gone: the fund (0.001 BTC) cannot take it over, so ADL closes
    the most profitable short first, at the long's bankruptcy price, and says so in contracts."""
    ex = exchange(fund="0.001")
    ex.set_index("BTC", 10_000)
    long_, short_big, short_small, mm = (ex.open_account(d) for d in ("0.21", 5, 5, 50))
    ex.set_leverage(long_, "BTC", 50)
    ex.place(mm, "BTC", "sell", 100_000, 10_000)
    ex.place(long_, "BTC", "buy", 100_000)  # 10 BTC at 50×: 0.2 BTC initial margin
    for acct, n in ((short_big, 60_000), (short_small, 40_000)):
        ex.place(mm, "BTC", "buy", n, 10_000)
        ex.set_leverage(acct, "BTC", 10)
        ex.place(acct, "BTC", "sell", n)
    ex.cancel_all(mm)
    ex.set_index("BTC", 9_700)
    events = ex.settle()
    started = next(e for e in events if isinstance(e, LiquidationStarted))
    assert (started.account, started.side, started.qty) == (long_, 1, 100_000)
    assert not [e for e in events if isinstance(e, InsuranceTakeover)]
    fills = [e for e in events if isinstance(e, AdlFill)]
    assert sum(f.qty for f in fills) == 100_000
    assert {f.side for f in fills} == {-1}  # the positions closed are shorts (in contracts)
    assert fills[0].counterparty == short_big  # the same profit, more leverage: first
    assert ex.position(long_, "BTC").lots == 0
    assert ex.position(short_big, "BTC").lots == ex.position(short_small, "BTC").lots == 0
    # where the whole 0.21 BTC is gone: 100,000 / (10 + 0.21) = 9,794.32, to the nearest 0.5
    assert started.bankruptcy_price * D("0.5") == D("9794.5")
    assert {f.price for f in fills} == {19_589}
    invariants.money_conserved(ex.core)


def test_money_is_conserved_to_the_unit_through_a_random_crash():
    """Forty traders, cross and isolated, 5–50×, with fees, a market maker that quotes one step in
    three while the price falls 20%, and a fund of 0.01 BTC, through a seeded random walk: money
    conserved and the book sane after every call, nobody left under water after a settle
    (``invariants``), and every tier of the waterfall reached."""
    rng = np.random.default_rng(11)
    ex = CoinExchange("BTC", [contract(fees=True)], insurance_fund="0.01", mark_method="index")
    ex.set_index("BTC", 20_000)
    mm = ex.open_account(200)
    traders = [ex.open_account(D(str(x))) for x in rng.choice([0.05, 0.2, 1, 3], 40)]
    for a in traders:
        ex.set_leverage(a, "BTC", int(rng.choice([5, 20, 50])))
    for a in traders[::5]:
        ex.set_margin_mode(a, "BTC", "isolated")
    path = np.concatenate([np.full(150, 1.0), np.linspace(1, 0.8, 100), np.linspace(0.8, 1.1, 100)])
    seen: collections.Counter[str] = collections.Counter()
    for step, level in enumerate(path):
        price = int(20_000 * level * (1 + rng.normal(0, 0.002)))
        ex.set_index("BTC", price)
        ex.cancel_all(mm)
        if not (150 <= step < 250 and step % 3):
            for k in range(1, 4):
                ex.place(mm, "BTC", "buy", 3_000, price - k * 10)
                ex.place(mm, "BTC", "sell", 3_000, price + k * 10)
        a = int(rng.choice(traders))
        try:
            ex.place(a, "BTC", str(rng.choice(["buy", "sell"])), int(rng.integers(100, 20_000)),
                     None if rng.random() < 0.5 else price + int(rng.integers(-30, 30)))
        except CrashfloorError as e:
            seen[type(e).__name__] += 1
        invariants.check_always(ex.core)
        ex.t = step
        seen.update(type(e).__name__ for e in ex.settle())
        invariants.check_always(ex.core)
        invariants.nobody_underwater(ex.core)
    assert ex.total_money() == ex.net_deposits
    assert {"InsufficientMargin", "LiquidationFill", "InsuranceTakeover", "AdlFill"} <= set(seen)


def test_same_inputs_same_checksum():
    def run() -> str:
        ex = exchange()
        ex.set_index("BTC", 30_000)
        a, b = ex.open_account(1), ex.open_account(1)
        ex.place(a, "BTC", "buy", 5_000, 30_000)
        ex.place(b, "BTC", "sell", 5_000)
        ex.set_index("BTC", 29_000)
        ex.settle()
        return ex.checksum()
    assert run() == run()


def test_bad_input_is_refused_with_what_is_allowed():
    ex = exchange()
    ex.set_index("BTC", 10_000)
    a = ex.open_account(1)
    with pytest.raises(InvalidInput, match=r"deposit \(BTC\) '0.0000000000001' is not a multiple"):
        ex.open_account("0.0000000000001")
    with pytest.raises(InvalidInput, match="lots must be a whole number"):
        ex.place(a, "BTC", "buy", D("1.5"), 10_000)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"BTC price 2000000 USD is outside the prices its coin "
                                           r"grid \(1e-12 BTC a contract\) tells apart: "
                                           r"1\.0\.\.707106\.5 USD"):
        ex.place(a, "BTC", "buy", 10, 2_000_000)
    with pytest.raises(InvalidInput, match="not a multiple of 0.5"):
        ex.place(a, "BTC", "buy", 10, D("10000.3"))
    with pytest.raises(InvalidInput, match="coin must be upper-case"):
        CoinExchange("btc", [contract()])
    with pytest.raises(InvalidInput, match="contract_usd must be a positive Decimal"):
        InverseContract("BTC", D(0), D("0.5"), BTCUSD)
    with pytest.raises(LeverageError, match="allowed 1× to 20×"):
        ex.place(ex.open_account(100), "BTC", "buy", 400_000, 10_000, leverage=50)  # 40 BTC
    assert ex.total_money() == ex.net_deposits


def test_the_price_band_is_the_linear_contracts_in_dollars():
    """A limit from a tenth of the mark to twice it, as on a linear contract (``Instrument``'s
    band): a stink bid at 1,100 under a 10,000 mark rests, one at 900 is refused; an offer at
    20,000 rests, one at 20,500 is refused."""
    ex = exchange()
    ex.set_index("BTC", 10_000)
    ex.settle()
    a = ex.open_account(10)
    ex.place(a, "BTC", "buy", 100, 1_100)
    ex.place(a, "BTC", "sell", 100, 20_000)
    for side, price in (("buy", 900), ("sell", 20_500)):
        with pytest.raises(CrashfloorError, match="band"):
            ex.place(a, "BTC", side, 100, price)
    assert len(ex.open_orders(a)) == 2


def test_a_rule_amount_is_in_the_coin():
    """``partial_min_usd`` and the ADL breaker's amount are in the coin on a coin exchange: a
    partial-liquidation minimum of 2 BTC is 2 BTC of position value, not 2 USD."""
    ex = exchange()
    ex.set_rules(partial_slice_pct=20, partial_min_usd=2, adl_breaker_usd_per_min="0.5")
    assert ex.core.rules.slice_min == 2 * 10**12
    assert ex.core.rules.adl_breaker == 5 * 10**11
    with pytest.raises(InvalidInput, match=r"partial_min_usd \(BTC\)"):
        ex.set_rules(partial_min_usd="1e-13")
    ex.set_rules(partial_slice_pct=20)
    assert ex.core.rules.slice_min == 10**12  # the default: 1 BTC


def test_refusals_speak_contracts_usd_and_the_coin():
    """A core refusal reaches the user in the venue's units: amounts in BTC (not the core's
    micro-coins called USD), sizes in contracts, the band and a trigger's side in USD and
    contracts (checked before the core, which sees r and the other side)."""
    ex = exchange()
    ex.set_index("BTC", 10_000)
    ex.settle()
    a, mm = ex.open_account(1), ex.open_account(5)
    ex.place(mm, "BTC", "sell", 1_000, 10_000)
    ex.place(a, "BTC", "buy", 1_000)
    with pytest.raises(InvalidInput, match=r"a stop to sell would fire at once: its trigger must "
                                           r"be below the mark price now \(10000\.0 USD\)"):
        ex.place_trigger(a, "BTC", "sell", "stop", 10_500, 1_000)
    with pytest.raises(CrashfloorError, match=r"limit price 900 is outside the price band "
                                              r"1000\.0\.\.20000\.0 around the mark 10000\.0"):
        ex.place(a, "BTC", "buy", 10, 900)
    with pytest.raises(CrashfloorError, match=r"cannot withdraw 5 BTC; at most 0\.995 BTC is free"):
        ex.withdraw(a, 5)
    with pytest.raises(CrashfloorError, match=r"order needs 1 BTC of initial margin at 20×; "
                                              r"0\.995 BTC is available"):
        ex.place(a, "BTC", "buy", 200_000, 10_000)  # 20 BTC at 20×
    with pytest.raises(LeverageError, match=r"a notional of 200\.1 BTC; allowed 1× to 4×"):
        ex.place(a, "BTC", "buy", 2_000_000, 10_000)
    oid = ex.place(a, "BTC", "buy", 10, 9_000)
    for bad in (True, 1.5, np.int64(5), 0):
        with pytest.raises(InvalidInput, match="contracts must be a whole number"):
            ex.amend(oid, contracts=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="halt_drop_pct"):
        ex.set_rules(halt_drop_pct=10)
    assert ex.total_money() == ex.net_deposits


def test_an_event_shows_the_bankruptcy_price_the_position_view_shows():
    """A 50× long of 100,000 contracts at 10,000 with 0.2103 BTC is bankrupt at 100,000 / 10.2103
    = 9,794.03: the view and the liquidation's events both show 9,794.5 (a long's, up to the
    0.5 tick), not the nearest tick."""
    ex = exchange(fund="0.001")
    ex.set_index("BTC", 10_000)
    mm, a = ex.open_account(50), ex.open_account("0.2103")
    ex.place(mm, "BTC", "sell", 100_000, 10_000)
    ex.place(a, "BTC", "buy", 100_000, leverage=50)
    ex.settle()
    assert ex.position(a, "BTC").bankruptcy_price == D("9794.5")
    short = ex.open_account(5)
    ex.place(mm, "BTC", "buy", 100_000, 10_000)
    ex.place(short, "BTC", "sell", 100_000, leverage=10)
    ex.cancel_all(mm)
    ex.set_index("BTC", 9_700)
    events = ex.settle()
    started = next(e for e in events if isinstance(e, LiquidationStarted))
    assert started.bankruptcy_price * D("0.5") == D("9794.5")
    assert {e.price for e in events if isinstance(e, AdlFill)} == {19_589}
