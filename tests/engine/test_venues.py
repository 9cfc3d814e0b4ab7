"""Venue rule books (``exchange.venue``, ``engine/level/venues.py``) and the venues' own published
examples, reproduced with the engine's formulas.

Sources (each test names its own):

* Binance, "Liquidation" (help centre, https://binance.zendesk.com/hc/en-us/articles/360033525271):
  "if the position of BTC/USDT Contract is 264,000 USDT, then the maintenance amount would be
  1,300 USDT" at "1% (or 0.01)"; "the Maintenance Amount on Level 5 = 5,000,000 USDT * (5% -2.5%)
  +16,300 USDT = 141,300 USDT"; the cross example with a wallet of 10.72 USDT: 11,383.99 (BTC
  short) and 190.29 (ETH long), "difference due to rounding off". Also "How to Calculate
  Liquidation Price of USDⓈ-M Futures Contracts" (binance.com/en/support/faq) for the formula
  ``LP = (WB − TMM1 + UPNL1 + cumB − Side × Pos × EP) / (Pos × MMR − Side × Pos)``.
* Bybit, "Bankruptcy Price (USDT Contract)"
  (https://www.bybit.com/en/help-center/article/Bankruptcy-Price-USDT-Contract): "traders hold a
  1BTC Long position with an entry price at 10,000USDT, leverage is 50x. Bankruptcy Price= 10,000
  × (1 - 2%) = 9,800 USDT"; a short's is ``Entry × (1 + 1/leverage)``.
* dYdX, "Liquidations" and "Insurance Fund" (docs.dydx.exchange; the fillable price as in the
  v4 chain's ``GetFillablePrice``): the ABC example, the fund contributing $15.
* BitMEX, "Auto-Deleveraging" (https://www.bitmex.com/app/autoDeleveraging): six long accounts
  (1: 10 contracts, ranking 3; 2: 10, 6; 3: 20, 1; 4: 30, 4; 5: 20, 5; 6: 10, 2) sorted with the
  percentile column 2 → 20%, 5 → 40%, 4 → 60%, 1 → 80%, 6 → 80%, 3 → 100%; a liquidated short of 20
  at bankruptcy price 650 deleverages account 2 (all 10) and account 5 (10 of its 20). "This
  indicator represents your priority in the queue in 20% increments." That the percentiles are
  shares of contracts, not of positions, is read from the example (the page does not say it).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pytest

from engine import CrashRun, load_level
from engine.adl import adl_lights, adl_lights_by_quantity, adl_order
from engine.errors import LevelError
from engine.instruments import Instrument, _brackets
from engine.level.venues import VENUES
from engine.margin import bankruptcy_price, liquidation_price
from engine.units import MONEY_PER_USD

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"

BINANCE_BTCUSDT = [(50_000, 0.4, 125), (250_000, 0.5, 100), (1_000_000, 1.0, 50),
                   (5_000_000, 2.5, 20), (10_000_000, 5.0, 10)]
"""Binance's BTC/USDT brackets of the worked examples (cap USDT, MMR %, max leverage)."""


def _usd(units: int) -> Decimal:
    return Decimal(units) / MONEY_PER_USD


# --- Binance -------------------------------------------------------------------------------------
def test_binance_maintenance_amounts_are_its_tax_brackets():
    """Binance: 264,000 USDT is in the 1% bracket with a maintenance amount of 1,300 USDT; the
    level-5 amount is 5,000,000 × (5% − 2.5%) + 16,300 = 141,300 USDT."""
    btc = Instrument("BTC", Decimal("0.1"), Decimal("0.001"), _brackets(BINANCE_BTCUSDT))
    bracket = btc.bracket(264_000 * MONEY_PER_USD)
    assert (bracket.mmr_ppm, _usd(bracket.maintenance_amount)) == (10_000, 1_300)
    assert [_usd(b.maintenance_amount) for b in btc.brackets] == [0, 50, 1_300, 16_300, 141_300]
    # MM = notional × MMR − amount: 264,000 × 1% − 1,300 = 1,340
    assert _usd(btc.maintenance_margin(264_000 * MONEY_PER_USD)) == 1_340


def _truncated(ticks: float | None, tick: str) -> Decimal:
    assert ticks is not None
    return (Decimal(repr(ticks)) * Decimal(tick)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def test_binance_cross_liquidation_prices_of_its_worked_example():
    """Binance's cross example, wallet 10.72 USDT: a 0.005 BTC short at 9,451.53 (MMR 0.4%) with
    the ETH long's maintenance 1.3 and uPnL 0.47 beside it liquidates at 11,383.99; the 1 ETH long
    at 199.53 (MMR 0.65%) with the BTC short's 0.19 and −0.06 beside it at 190.29. Binance prints
    the exact prices cut to the cent (11,383.994…, 190.296…)."""
    btc = Instrument("BTC", Decimal("0.01"), Decimal("0.001"), _brackets([(50_000, 0.4, 125)]))
    eth = Instrument("ETH", Decimal("0.01"), Decimal("0.001"), _brackets([(50_000, 0.65, 75)]))
    usd = MONEY_PER_USD
    # BTC: −5 lots at 945,153 ticks; pool_other = WB − TMM1 + UPNL1 = 10.72 − 1.3 + 0.47 USDT
    btc_cost = -5 * 945_153 * btc.unit_per_tick_lot
    btc_other = round(Decimal("9.89") * usd)
    assert _truncated(liquidation_price(btc, -5, btc_cost, btc_other), "0.01") == \
        Decimal("11383.99")
    # ETH: +1,000 lots at 19,953 ticks; pool_other = 10.72 − 0.19 − 0.06
    eth_cost = 1_000 * 19_953 * eth.unit_per_tick_lot
    eth_other = round(Decimal("10.47") * usd)
    assert _truncated(liquidation_price(eth, 1_000, eth_cost, eth_other), "0.01") == \
        Decimal("190.29")


# --- Bybit ---------------------------------------------------------------------------------------
def test_bybit_bankruptcy_price_is_where_the_margin_is_gone():
    """Bybit: a long of 1 BTC at 10,000 USDT opened with 50× leverage (initial margin 200) is
    bankrupt at 10,000 × (1 − 2%) = 9,800; by its short formula a 10× short at 11,000."""
    btc = Instrument("BTC", Decimal("0.5"), Decimal("0.001"), _brackets(BINANCE_BTCUSDT))
    unit = btc.unit_per_tick_lot
    mark = 20_000  # 10,000 USD in 0.5 ticks
    assert bankruptcy_price(mark, 200 * MONEY_PER_USD, 1_000, unit) * Decimal("0.5") == 9_800
    assert bankruptcy_price(mark, 1_000 * MONEY_PER_USD, -1_000, unit) * Decimal("0.5") == 11_000


# --- dYdX ----------------------------------------------------------------------------------------
def _abc_exchange(fillable: bool):
    """dYdX's example market ABC: price 1 USD, maintenance 3%, no fees; A deposits 100 USD and is
    long 500 ABC at 1; a buyer bids 0.77 for 500; the fund holds 1,000 USD."""
    from engine import Exchange
    abc = Instrument("ABC", Decimal("0.001"), Decimal("1"), _brackets([(1e9, 3.0, 20)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = Exchange([abc], insurance_fund=1_000, mark_method="index")
    if fillable:
        ex.set_rules(liquidation_limit="fillable", fillable_spread_x_mmr=1.5,
                     liquidation_fee_pct=1.5)
    ex.set_index("ABC", 1)
    seller = ex.open_account(10_000)
    ex.place(seller, "ABC", "sell", 500, 1, leverage=5)
    a = ex.open_account(100)
    ex.place(a, "ABC", "buy", 500, None, leverage=5)
    ex.settle()
    buyer = ex.open_account(10_000)
    ex.place(buyer, "ABC", "buy", 500, "0.77", leverage=5)
    return ex, a, buyer


def test_dydx_liquidates_at_its_fillable_price_and_the_fund_pays_15():
    """dYdX, "Liquidations" / "Insurance Fund" (docs.dydx.exchange): "A deposits $100 and goes
    long 500 ABC contracts at $1 with ... MMF of 3%. ... ABC's price drops to $0.801 ... equity
    is now $0.50 ... The protocol liquidates A's position at $0.77 ... The insurance fund
    contributes $15". Its fillable price here is 0.801 × (1 − 0.9584 × 1.5 × 3%) = 0.7665: the
    0.77 bid is inside it, past the bankruptcy price 0.800."""
    ex, a, buyer = _abc_exchange(fillable=True)
    money = ex.total_money()
    ex.set_index("ABC", "0.801")
    ex.settle()
    assert ex.position(buyer, "ABC").qty == 500  # the bid took the whole position at 0.77
    assert ex.position(a, "ABC").lots == 0 and ex.equity(a) == 0
    assert ex.insurance_fund_balance("ABC") == Decimal("985")  # it contributed $15
    assert ex.total_money() == money
    # limited at the bankruptcy price (0.800) instead, the bid is out of reach: the fund takes
    # the position over at 0.800 and A's loss stops at its $100
    ex, a, buyer = _abc_exchange(fillable=False)
    ex.set_index("ABC", "0.801")
    ex.settle()
    assert ex.position(buyer, "ABC").lots == 0
    assert ex.acc.q[0, ex.fund_account("ABC")] == 500


# --- BitMEX --------------------------------------------------------------------------------------
ACCOUNTS = np.array([1, 2, 3, 4, 5, 6])
CONTRACTS = np.array([10, 10, 20, 30, 20, 10])
RANKING = np.array([3.0, 6.0, 1.0, 4.0, 5.0, 2.0])
"""BitMEX's ADL example: the six long accounts, their contracts and their PNL ranking."""


def test_bitmex_lights_are_its_percentiles_of_contracts():
    """BitMEX's percentile column (2 → 20%, 5 → 40%, 4 → 60%, 1 → 80%, 6 → 80%, 3 → 100%) is the
    contracts at or before each account in the queue, in 20% steps: 5 lights for the first 20%.
    Counting positions instead would give account 5 a 5 and account 1 a 3."""
    by_quantity = adl_lights_by_quantity(RANKING, ACCOUNTS, CONTRACTS)
    percentile = {int(a): 20 * (6 - int(light)) for a, light in
                  zip(ACCOUNTS, by_quantity, strict=True)}
    assert percentile == {2: 20, 5: 40, 4: 60, 1: 80, 6: 80, 3: 100}
    assert adl_lights(RANKING, ACCOUNTS).tolist() == [3, 5, 1, 4, 5, 2]  # by count: not BitMEX's


def test_bitmex_deleverages_the_front_of_its_queue_for_a_20_contract_short():
    """A short of 20 liquidated at 650: the queue starts with account 2 (all 10 contracts) and
    account 5 (10 of its 20), as BitMEX's example says."""
    queue = [int(a) for a in ACCOUNTS[adl_order(RANKING, ACCOUNTS)]]
    assert queue == [2, 5, 4, 1, 6, 3]
    left, closed = 20, {}
    for a in queue:
        take = min(left, int(CONTRACTS[a - 1]))
        if take:
            closed[a] = take
        left -= take
    assert closed == {2: 10, 5: 10}


# --- the venue switch ----------------------------------------------------------------------------
def test_a_venue_sets_its_rule_book_and_a_later_setting_wins():
    bitmex = load_level(LEVEL, ["exchange.venue=bitmex"]).data["exchange"]
    assert (bitmex["adl_policy"], bitmex["adl_lights"]) == ("bitmex", "quantity")
    mixed = load_level(LEVEL, ["exchange.venue=bitmex", "exchange.adl_lights=count"])
    assert (mixed.data["exchange"]["adl_policy"], mixed.data["exchange"]["adl_lights"]) == \
        ("bitmex", "count")
    assert mixed.rules == ("exchange.venue=bitmex", "exchange.adl_lights=count")
    for venue, book in VENUES.items():
        data = load_level(LEVEL, [f"exchange.venue={venue}"]).data["exchange"]
        assert {k: data[k] for k in book} == book, venue
    with pytest.raises(LevelError, match="must be one of: none, binance"):
        load_level(LEVEL, ["exchange.venue=ftx"])


def test_a_bitmex_run_lights_the_queue_by_contracts():
    """On a run, every lit position's light is the contract-weighted one of its side's scores."""
    run = CrashRun(load_level(LEVEL, ["exchange.venue=bitmex", "crowd.accounts=400",
                                      "clock.step_seconds=5"]), seed=2)
    run.run(until="05:10")
    ex = run.sim.exchange
    ex.refresh_lights()
    acc = ex.acc
    checked = 0
    for s in range(len(ex.symbols)):
        q = acc.qty[s, :acc.n]
        for side in (q > 0, q < 0):
            idx = np.flatnonzero(side & ~acc.is_fund[:acc.n])
            if idx.size < 5:
                continue
            want = adl_lights_by_quantity(acc.adl_score[s, idx], idx, q[idx])
            assert acc.adl_light[s, idx].tolist() == want.tolist()
            checked += 1
    assert checked >= 4


def test_hyperliquid_slices_its_liquidations_on_the_crash():
    """venue = hyperliquid turns on partial liquidation: some pools are liquidated in slices
    (a liquidation that sent neither to the fund nor to ADL and left the position open), and
    money is conserved to the unit."""
    from engine.events import LiquidationFinished
    run = CrashRun(load_level(LEVEL, ["exchange.venue=hyperliquid", "crowd.accounts=400",
                                      "clock.step_seconds=5"]), seed=2)
    ex = run.sim.exchange
    assert ex.rules.slice_ppm == 200_000 and ex.rules.slice_min == 100_000 * MONEY_PER_USD
    left_open = []

    def watch(sim, events):
        for e in events:
            if isinstance(e, LiquidationFinished) and ex.acc.q[ex.symbols.index(e.symbol),
                                                               e.account]:
                left_open.append(e)
    run.sim.listeners.append(watch)
    run.run(until="05:20")
    assert left_open and all(e.fund_qty == e.adl_qty == 0 for e in left_open)
    assert run.summary()["conservation_error"] == 0


def test_the_venues_workshop_level_offers_every_venue():
    from engine.level import with_overrides
    level = load_level(LEVEL.with_name("venues.toml"))
    variants = {v["name"]: v["set"] for v in level.data["variants"]}
    assert variants.pop("as-is") == [] and sorted(variants) == sorted(VENUES)
    for name, sets in variants.items():
        assert sets == [f"exchange.venue={name}"]
        data = with_overrides(level, sets).data["exchange"]
        assert {k: data[k] for k in VENUES[name]} == VENUES[name]
