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
* Drift, "Insurance Fund" (drift-labs/drift-protocol-v2-docs, ``content/protocol/insurance-fund``):
  a loss beyond the fund is "paid for pro-rata (by base amount) by all open positions"; the code,
  drift-labs/protocol-v2 ``programs/drift/src/math/liquidation.rs``,
  ``calculate_funding_rate_deltas_to_resolve_bankruptcy``: the funding-rate delta is
  ``|loss| / (|base long| + |base short|)``, added to the longs' cumulative rate and taken from
  the shorts' (both sides pay); its unit test resolves a 100 USDC loss over 7 long and 4 short,
  9.0909… per unit of base.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pytest

from engine import CoinExchange, CrashRun, InverseContract, load_level
from engine.adl import adl_lights, adl_lights_by_quantity, adl_order
from engine.errors import LevelError, LeverageError
from engine.events import AdlFill, LiquidationStarted
from engine.exchange.inverse import COIN_UNITS
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


def _isolated_long(basis: str):
    """1 BTC long at 20,000 with 50× leverage, isolated (initial margin 400), on a BTCUSDT with
    Bybit's first-tier maintenance rate, 0.5% ("a position value of 2,000,000 USDT or below ...
    0.5%"); maintenance margin taken on ``basis``."""
    from engine import Exchange
    btc = Instrument("BTC", Decimal("0.1"), Decimal("0.001"),
                     _brackets([(2_000_000, 0.5, 100), (10_000_000, 1.0, 50)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = Exchange([btc], insurance_fund=1_000_000, mark_method="index")
    ex.set_rules(maintenance_basis=basis)
    ex.set_index("BTC", 20_000)
    seller = ex.open_account(1_000_000)
    ex.place(seller, "BTC", "sell", 1, 20_000, leverage=50)
    a = ex.open_account(400)
    ex.set_margin_mode(a, "BTC", "isolated")
    ex.set_leverage(a, "BTC", 50)
    ex.place(a, "BTC", "buy", 1, None)
    ex.settle()
    return ex, a


@pytest.mark.parametrize("basis, liq, liquidated_at_19699_9", [
    ("entry_isolated", Decimal("19700.00"), True), ("mark", Decimal("19698.49"), False)])
def test_bybit_isolated_maintenance_on_entry_value(basis, liq, liquidated_at_19699_9):
    """Bybit, "Liquidation Price (USDT Contract)" (help centre; read in its copy at
    testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract): "Trader A
    placed a long entry of 1 BTC at 20,000 USDT with 50x leverage … MMR is 0.5% … Initial Margin
    = … 400 USDT; Maintenance Margin = … 100 USDT; LP = 20,000 USDT - (400 - 100) = 19,700 USDT":
    maintenance on the entry value, 20,000 × (1 − 2% + 0.5%) = 19,700.
    20,000 × (1 − 2% + 0.5%) = 19,700. Binance's convention (maintenance at the liquidation
    price) gives 19,600 / 0.995 = 19,698.49. The engine liquidates where its rule says: at
    19,699.9 the pool holds 99.9 against Bybit's 100 (liquidated) or Binance's 98.4995 (not)."""
    ex, a = _isolated_long(basis)
    assert Decimal(ex.position(a, "BTC").liq_price).quantize(Decimal("0.01")) == liq
    assert ex.position(a, "BTC").maintenance == 100
    ex.set_index("BTC", Decimal("19700.1"))
    ex.settle()
    assert ex.position(a, "BTC").lots == 1_000
    ex.set_index("BTC", Decimal("19699.9"))
    ex.settle()
    assert (ex.position(a, "BTC").lots == 0) is liquidated_at_19699_9


def test_bitmex_cross_liquidation_price_of_karens_example():
    """BitMEX, "Isolated Margin Examples" (https://www.bitmex.com/app/isolatedMarginExamples),
    its linear cross example: "Karen's
    BitMEX account wallet has 10,000 USDT. She buys 20 contracts of ETHUSDT at the price of $1,000
    at 50x Cross Margin. The required initial margin is 2% = 400 USDT, and the maintenance margin
    is 1% = 200 USDT ... Her liquidation and bankruptcy prices are 510 and 500". Maintenance on
    the entry value (``maintenance_basis = "entry"``): (20,000 − 10,000 + 200) / 20 = 510; on the
    mark it would be 10,000 / 19.8 below 1,000, 505.05."""
    from engine import Exchange
    eth = Instrument("ETH", Decimal("0.01"), Decimal("1"), _brackets([(1e9, 1.0, 100)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    views = {}
    for basis in ("entry", "mark"):
        ex = Exchange([eth], insurance_fund=1_000_000, mark_method="index")
        ex.set_rules(maintenance_basis=basis)
        ex.set_index("ETH", 1_000)
        seller = ex.open_account(1_000_000)
        ex.place(seller, "ETH", "sell", 20, 1_000, leverage=50)
        karen = ex.open_account(10_000)
        ex.place(karen, "ETH", "buy", 20, None, leverage=50)
        ex.settle()
        assert ex.account(karen).wallet == 10_000
        views[basis] = ex.position(karen, "ETH")
    assert views["entry"].maintenance == 200 and views["entry"].bankruptcy_price == 500
    assert round(views["entry"].liq_price, 2) == 510
    assert round(views["mark"].liq_price, 2) == pytest.approx(505.05)


# --- dYdX ----------------------------------------------------------------------------------------
def test_dydx_isolated_and_cross_liquidation_prices_of_its_examples():
    """dYdX, "Liquidations" (dydxprotocol/v4-documentation, concepts/trading/liquidations):
    isolated ``p' = (e − s·p) / (|s|·MMF − s)``: "deposits $1,000 ... shorts 3 ETH contracts
    (s = -3) at $3,000 ... MMF = 0.05 ... p' = (1000 + 9000) / (0.15 + 3) = 10000 / 3.15 ≈
    3174.60", where "3 * 3174.6 * 0.05 ≈ 476.2" is left; cross ``p' = (e − s·p − MMR_o) /
    (|s|·MMF − s)``: "shorts 1.5 ETH (s = -1.5) at $3,000 and buys 1,000 STRK contracts at $1.75
    (MMF = 10% for STRK). MMR_o = 1000 * 1.75 * 0.10 = 175 ... ≈ 3380.95". dYdX's maintenance is
    taken at the (oracle) price, the engine's ``mark`` basis."""
    eth = Instrument("ETH", Decimal("0.01"), Decimal("0.001"), _brackets([(1e12, 5.0, 20)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    unit, usd = eth.unit_per_tick_lot, MONEY_PER_USD
    iso = liquidation_price(eth, -3_000, -3_000 * 300_000 * unit, 1_000 * usd) * 0.01
    assert round(iso, 2) == pytest.approx(3174.60)
    assert round(3 * round(iso, 1) * 0.05, 1) == pytest.approx(476.2)
    cross = liquidation_price(eth, -1_500, -1_500 * 300_000 * unit, (1_000 - 175) * usd) * 0.01
    assert round(cross, 2) == pytest.approx(3380.95)


def test_dydx_deleverages_b_at_its_bankruptcy_price_of_1_2():
    """dYdX, "Contract Loss Mechanisms": "A deposits $100 and goes long 500 ABC contracts at $1. B
    deposits $100 and goes short 500 ... price jumps from $1 to $2 ... B's bankruptcy price is $1.2,
    so A's position is closed at $1.2, resulting in a $100 profit for A and a $100 loss for B,
    leaving B's account value at $0" (no insurance fund in the way: it is empty here)."""
    from engine import Exchange
    from engine.events import AdlFill
    abc = Instrument("ABC", Decimal("0.001"), Decimal("1"), _brackets([(1e9, 3.0, 20)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = Exchange([abc], insurance_fund=0, mark_method="index", adl_policy="dydx")
    ex.set_index("ABC", 1)
    b = ex.open_account(100)
    ex.place(b, "ABC", "sell", 500, 1, leverage=5)
    a = ex.open_account(100)
    ex.place(a, "ABC", "buy", 500, None, leverage=5)
    ex.settle()
    ex.set_index("ABC", 2)
    events = ex.settle()
    assert [(e.counterparty, e.qty, e.price) for e in events if isinstance(e, AdlFill)] == \
        [(a, 500, 1_200)]
    assert ex.equity(a) == 200 and ex.equity(b) == 0
    assert ex.position(a, "ABC").lots == ex.position(b, "ABC").lots == 0

def _abc_exchange(fillable: bool, isolated: bool = False):
    """dYdX's example market ABC: price 1 USD, maintenance 3%, no fees; A deposits 100 USD and is
    long 500 ABC at 1; a buyer bids 0.77 for 500; the fund holds 1,000 USD. ``isolated``: A
    deposits 1,100 and holds the long isolated on its 100 of margin."""
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
    a = ex.open_account(1_100 if isolated else 100)
    if isolated:
        ex.set_margin_mode(a, "ABC", "isolated")
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


def test_dydx_fillable_price_past_an_isolated_bankruptcy_is_the_funds_not_the_wallets():
    """The same liquidation of A's long held isolated, with 1,000 USD more in its wallet: the
    fund pays the same $15 and the wallet keeps its 1,000 (an isolated position's margin is the
    most its owner can lose; before session 19 the wallet paid the $15 and the fund nothing)."""
    ex, a, buyer = _abc_exchange(fillable=True, isolated=True)
    money = ex.total_money()
    ex.set_index("ABC", "0.801")
    ex.settle()
    assert ex.position(buyer, "ABC").qty == 500
    assert ex.position(a, "ABC").lots == 0 and ex.equity(a) == 1_000
    assert ex.insurance_fund_balance("ABC") == Decimal("985")
    assert ex.total_money() == money


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


# --- OKX ------------------------------------------------------------------------------------------
def _okx_15000_swaps(step_to: str):
    """15,000 swaps (0.01 BTC each) long at 10,000 with 60,000 USD, the mark at 9,700, a bid for
    13,000 at 9,690: OKX's tiers count swaps (tier 1 up to 2,000, tier 2 up to 12,000, tier 3
    beyond, at 2%); the caps here are those counts' value at the 9,700 mark."""
    from engine import Exchange
    btc = Instrument("BTC", Decimal("0.1"), Decimal("0.01"), _brackets(
        [(2_000 * 97, 1.0, 100), (12_000 * 97, 1.5, 66), (1_000_000_000, 2.0, 50)]),
        maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = Exchange([btc], insurance_fund=1_000_000, mark_method="index")
    ex.set_rules(tier_step_down=True, tier_step_to=step_to)
    ex.set_index("BTC", 10_000)
    ex.place(ex.open_account(10_000_000), "BTC", "sell", 150, 10_000, leverage=50)
    a = ex.open_account(60_000)
    ex.place(a, "BTC", "buy", 150, None, leverage=50)
    ex.settle()
    ex.place(ex.open_account(10_000_000), "BTC", "buy", 130, 9_690, leverage=50)
    ex.set_index("BTC", 9_700)
    events = ex.settle()
    return ex, a, events


@pytest.mark.parametrize("step_to, steps", [("lowest", [13_000]), ("next", [3_000, 10_000])])
def test_okx_partial_liquidation_brings_a_tier_3_position_to_tier_1(step_to, steps):
    """OKX, "V. Forced Partial or Full Liquidation" (help centre,
    https://supdljgzdhc.okx.com/hc/en-us/articles/360020411711): "For position at Tier 3 or above
    (Number of Swaps>=12,001, e.g. 15,000), Forced Partial Liquidation occurs when the Margin Ratio
    is lower than the required Maintenance Margin Ratio (2%). The relevant position will be
    liquidated until it is at Tier 1 ... Number of Swaps to be closed = Number of Swaps held – max
    Number of Swaps acceptable for Tier 1 = 15,000-2,000=13,000 swaps." With ``tier_step_to =
    "lowest"`` the step-down closes those 13,000 in one order and the 2,000 left are safe (equity
    13,700 against 1,940); Binance's and Bybit's step to the next tier closes 3,000, finds the
    12,000 left still short of tier 2's maintenance (14,700 against 16,490) and closes 10,000 more.
    OKX's current rule book is not this older one: its preset has no step-down."""
    ex, a, events = _okx_15000_swaps(step_to)
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == steps
    assert ex.position(a, "BTC").lots == 2_000
    assert ex.equity(a) == Decimal("13700") and ex.position(a, "BTC").maintenance == 1_940


def test_okx_adl_after_a_30_pct_fall_of_its_fund_at_the_current_mark():
    """OKX, "What is the meaning and purpose of the early liquidation mechanism?" (help centre,
    https://www.okx.com/help/what-is-the-mechanism-for-the-strong-level-in-advance-what-is-the-use):
    "a rapid drop is defined as a straight-line decrease of 30% from the peak value of the risk
    reserve"; then "OKX will no longer place liquidation orders on the market ... Instead, it will
    directly match liquidated positions with high-priority counterparty accounts in the ADL
    ranking at the current Mark Price". OKX's rule book (``adl_drawdown_pct = 30``, ``adl_price =
    "mark"``): the fund (500 USD) takes A over and shows 160 lost at 88,400 — 32% down, past the
    trigger — so B, liquidated at 88,300, goes to ADL at that mark (not at its bankruptcy price of
    88,000), against the short."""
    from engine import Exchange
    from engine.events import InsuranceTakeover

    from .conftest import fee_free
    okx = VENUES["okx"]
    ex = Exchange([fee_free("BTC")], insurance_fund=500, mark_method="index",
                  adl_drawdown_ppm=round(okx["adl_drawdown_pct"] * 10_000))
    ex.set_rules(adl_price=okx["adl_price"])
    ex.set_index("BTC", 100_000)
    short = ex.open_account(100_000)
    ex.place(short, "BTC", "sell", 0.2, 100_000, leverage=20)
    a, b = ex.open_account(1_000), ex.open_account(1_200)
    ex.place(a, "BTC", "buy", 0.1, None, leverage=20)  # bankrupt at 90,000
    ex.place(b, "BTC", "buy", 0.1, None, leverage=20)  # bankrupt at 88,000
    ex.settle()
    money = ex.total_money()
    ex.set_index("BTC", 88_400)
    assert [e.account for e in ex.settle() if isinstance(e, InsuranceTakeover)] == [a]
    fund = ex.fund_account("BTC")
    assert ex.funds.equity(fund) == 340 * MONEY_PER_USD and ex.funds.in_drawdown(fund)
    ex.set_index("BTC", 88_300)
    events = ex.settle()
    assert not [e for e in events if isinstance(e, InsuranceTakeover)]
    assert [(e.account, e.counterparty, e.qty, e.price) for e in events
            if isinstance(e, AdlFill)] == [(b, short, 100, 883_000)]
    assert ex.total_money() == money


def test_hyperliquid_margin_tiers_and_deduction():
    """Hyperliquid, "Margin tiers" (hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers):
    BTC "0-150M" at 40x and above it 20x; "maintenance_margin_rate(tier n) = (Initial Margin Rate
    at Maximum leverage at tier n) / 2" ("at 20x max leverage, maintenance_margin_rate = 2.5%");
    "deduction(n) = deduction(n-1) + notional_position_lower_bound(n) * (mmr(n) - mmr(n-1))":
    150,000,000 × (2.5% − 1.25%) = 1,875,000 USDC. A $200M position: 5,000,000 − 1,875,000."""
    btc = Instrument.preset("BTC").with_tiers("hyperliquid", "BTC", 122_000)
    first, second = btc.brackets
    assert (first.mmr_ppm, first.max_leverage, second.mmr_ppm, second.max_leverage) == \
        (12_500, 40, 25_000, 20)
    assert _usd(second.maintenance_amount) == 1_875_000
    assert _usd(btc.maintenance_margin(200_000_000 * MONEY_PER_USD)) == 3_125_000
    assert _usd(btc.maintenance_margin(100_000_000 * MONEY_PER_USD)) == 1_250_000
    eth = Instrument.preset("ETH").with_tiers("hyperliquid", "ETH", 4_350)
    assert [b.max_leverage for b in eth.brackets] == [25, 15]


def test_bitmex_tiers_in_usd_at_the_level_price():
    """BitMEX's XBTUSD steps (above) on the linear BTC contract of a level whose BTC starts at
    122,000: 180 XBT of position ($21.96M) keeps 0.50% (0.90 XBT: $109,800), 230 XBT ($28.06M)
    is one step up, 1.00% and at most 66x."""
    btc = Instrument.preset("BTC").with_tiers("bitmex", "BTC", 122_000)
    small, big = 180 * 122_000 * MONEY_PER_USD, 230 * 122_000 * MONEY_PER_USD
    assert _usd(btc.maintenance_margin(small)) == Decimal("109800")
    assert (btc.bracket(big).mmr_ppm, btc.bracket(big).max_leverage) == (10_000, 66)
    assert Instrument.preset("ETH").with_tiers("bitmex", "ETH", 4_350) == Instrument.preset("ETH")


def test_a_hyperliquid_run_caps_the_crowds_leverage_at_its_tiers():
    """venue = hyperliquid gives the crash Hyperliquid's tiers: no crowd position above 40x in
    BTC, 25x in ETH, 10x in DOGE and ALT, and the player's 15x DOGE short is held at 10x."""
    run = CrashRun(load_level(LEVEL, ["exchange.venue=hyperliquid", "crowd.accounts=400"]), seed=1)
    ex = run.sim.exchange
    n = ex.acc.n
    for s, cap in enumerate((40, 25, 10, 10)):
        assert ex.instruments[s].max_leverage == cap
        held = ex.acc.qty[s, :n] != 0
        assert int(ex.acc.leverage[s, :n][held].max()) <= cap
    assert ex.position(run.player, "DOGE").leverage == 10


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


HYPERLIQUID_RETURNED = [  # coin, tick, lot, lots, entry ticks, max leverage, collateral, side, liq
    ("SOL", "0.01", "0.01", 33, 14_583, 20, "24.045107", 1, 74.83696193),
    ("ETH", "0.1", "0.0001", 199, 24_595, 50, "24.454895", 1, 1243.0411908),
    ("BTC", "0.1", "0.00001", 69, 685_950, 50, "23.64871", -1, 101849.99354283),
    ("DOGE", "0.00001", "1", 437, 11_586, 20, "25.29769", 1, 0.05945697)]


@pytest.mark.parametrize("case", HYPERLIQUID_RETURNED, ids=[c[0] for c in HYPERLIQUID_RETURNED])
def test_hyperliquid_isolated_liquidation_prices_its_api_returned(case):
    """Hyperliquid, "Liquidations" (hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations):
    ``liq_price = price - side * margin_available / position_size / (1 - l * side)``, ``l = 1 /
    MAINTENANCE_LEVERAGE``, the maintenance margin "half of the initial margin at max leverage"
    (SOL and DOGE 20× then: 2.5%; BTC and ETH 50×: 1%), taken at the liquidation price — the
    engine's ``mark`` basis, Hyperliquid's rule book. The liquidation prices are the venue's own,
    as its API returned them for four isolated 2× positions recorded in freqtrade's tests
    (freqtrade/freqtrade ``tests/exchange/test_hyperliquid.py`` @3b1fb5af: SOL long 0.33 at
    145.83 with 24.045107 USDC → 74.83696193; ETH long 0.0199 at 2,459.5 → 1,243.0411908; BTC
    short 0.00069 at 68,595 → 101,849.99354283; DOGE long 437 at 0.11586 → 0.05945697).
    Hyperliquid shows prices to five significant figures; the engine agrees to 1e-7 (the API
    solved from the price of the moment, the engine from the entry)."""
    coin, tick, lot, lots, entry, max_lev, collateral, side, returned = case
    inst = Instrument(coin, Decimal(tick), Decimal(lot),
                      _brackets([(1_000_000_000, 100 / (2 * max_lev), max_lev)]))
    assert VENUES["hyperliquid"].get("maintenance_basis", "mark") == "mark"
    qty = side * lots
    ticks = liquidation_price(inst, qty, qty * entry * inst.unit_per_tick_lot,
                              round(Decimal(collateral) * MONEY_PER_USD))
    assert ticks is not None
    price = ticks * float(tick)
    assert price == pytest.approx(returned, rel=1e-7)
    assert f"{price:.5g}" == f"{returned:.5g}"


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


def test_drift_socializes_a_100_usdc_loss_over_7_long_and_4_short():
    """Drift's unit-test numbers (module docstring): a short of 0.3 BTC with 3,000 USD goes
    bankrupt at 110,000; at 110,500 the fund (50 USD) takes it over with a 150 loss at mark, 100
    beyond its budget. Nobody is closed: the long 0.7 pays 100 × 7/11 = 63.64 and the short 0.4
    pays 36.36 (to the unit: 63.636364 and 36.363636, the remainder's one unit to the first
    account), the fund's cash becomes 150, money is conserved."""
    from engine.events import AdlFill, LossSocialized

    from .conftest import FixtureExchange, fee_free
    ex = FixtureExchange([fee_free("BTC")], insurance_fund=50, mark_method="index")
    ex.set_rules(tier3="socialize")
    ex.set_index("BTC", 100_000)
    long_, short, bankrupt = (ex.open_account(100_000), ex.open_account(100_000),
                              ex.open_account(3_000))
    ex.place(short, "BTC", "sell", 0.4, 100_000, leverage=20)
    ex.place(bankrupt, "BTC", "sell", 0.3, 100_000, leverage=20)
    ex.place(long_, "BTC", "buy", 0.7, None, leverage=20)
    ex.settle()
    money = ex.total_money()
    ex.set_index("BTC", 110_500)
    events = ex.settle()
    assert not [e for e in events if isinstance(e, AdlFill)]
    assert [(e.amount, e.lots, e.accounts) for e in events if isinstance(e, LossSocialized)] \
        == [(100 * MONEY_PER_USD, 1_100, 2)]
    assert ex.position(long_, "BTC").qty == Decimal("0.7")
    assert ex.position(short, "BTC").qty == Decimal("-0.4")
    # long: 100,000 + 0.7 × 10,500 − 63.636364; short: 100,000 − 0.4 × 10,500 − 36.363636
    assert ex.equity(long_) == Decimal("107286.363636")
    assert ex.equity(short) == Decimal("95763.636364")
    assert round(Decimal(100) * 7 / 11, 2) == Decimal("63.64") and \
        round(Decimal(100) * 4 / 11, 2) == Decimal("36.36")
    assert ex.insurance_fund_balance("BTC") == Decimal("150") and ex.equity(bankrupt) == 0
    assert ex.total_money() == money


def test_drift_socializes_2m_over_100k_sol_long_and_100k_short():
    """Drift, "Liquidation and bankruptcy" (drift-labs/drift-protocol-v2-docs,
    ``content/protocol/risk-and-safety/liquidation-and-bankruptcy.mdx``): "Take a market carrying
    100,000 SOL long against 100,000 SOL short, with a $2,000,000 residual surviving the
    waterfall. Total open base is 200,000, so the bump is $10 per SOL: a desk holding 20,000 SOL
    pays $200,000 either way, and a trader holding 10 SOL pays $100." The engine's tier 3 for
    Drift (``waterfall._socialize``) on those positions: the desk, long or short, pays 200,000,
    the trader 100, the fund gets the 2,000,000, and nobody is closed."""
    from engine import Exchange
    from engine.exchange import waterfall
    sol = Instrument("SOL", Decimal("0.01"), Decimal("1"), _brackets([(10**9, 2.5, 20)]),
                     maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = Exchange([sol], insurance_fund=0, mark_method="index")
    ex.set_rules(tier3=VENUES["drift"]["tier3"])
    ex.set_index("SOL", 200)
    desk_long, trader, other, desk_short, rest = (ex.open_account(50_000_000) for _ in range(5))
    ex.seed_positions(0, np.array([desk_long, trader, other, desk_short, rest]),
                      np.array([20_000, 10, 79_990, -20_000, -80_000]), np.full(5, 20_000))
    ex.settle()
    money = ex.total_money()
    before = {a: ex.equity(a) for a in (desk_long, trader, desk_short)}
    waterfall._socialize(ex, ex.fund_account("SOL"), 0, 2_000_000 * MONEY_PER_USD)
    paid = {a: before[a] - ex.equity(a) for a in before}
    assert paid == {desk_long: 200_000, trader: 100, desk_short: 200_000}
    assert ex.insurance_fund_balance("SOL") == 2_000_000
    assert ex.position(desk_long, "SOL").lots == 20_000 and ex.total_money() == money


def test_a_drift_run_socializes_and_deleverages_nobody():
    """venue = drift on the crash: no ADL fill, a socialized loss, money conserved to the unit."""
    run = CrashRun(load_level(LEVEL, ["exchange.venue=drift", "crowd.accounts=400",
                                      "clock.step_seconds=5"]), seed=2)
    assert run.sim.exchange.rules.socialize
    run.run(until="05:20")
    summary = run.summary()
    assert summary["adl"]["count"] == 0 and summary["adl"]["socialized_usd"] > 0
    assert summary["conservation_error"] == 0


def test_the_venues_workshop_level_offers_every_venue():
    from engine.level import with_overrides
    level = load_level(LEVEL.with_name("venues.toml"))
    variants = {v["name"]: v["set"] for v in level.data["variants"]}
    assert variants.pop("as-is") == [] and sorted(variants) == sorted(VENUES)
    for name, sets in variants.items():
        assert sets == [f"exchange.venue={name}"]
        data = with_overrides(level, sets).data["exchange"]
        assert {k: data[k] for k in VENUES[name]} == VENUES[name]


# --- inverse (coin-margined) contracts ----------------------------------------------------------
def _half_up(usd: float) -> Decimal:
    """A long's price as Bybit shows it: up to its BTCUSD tick of 0.5."""
    return (Decimal(repr(usd)) * 2).to_integral_value(rounding="ROUND_CEILING") / 2


def test_bybit_inverse_50x_long_of_its_adl_article():
    """Bybit, "What is Auto-Deleveraging (ADL)?" (help centre,
    https://help.bybit.com/hc/en-us/articles/900000031623): "A trader buys 5,000 BTCUSD contracts
    at 7,890.08 USD on 50x leverage, and the liquidation price is 7,773.50 USD", "Bankruptcy Price
    = Entry Price*Leverage/(Leverage+1) = (7,890.08 x 50) / (50+1) = 7,735.372549 USD ≈ 7,735.50
    USD". Its inverse isolated liquidation price ("How to calculate Liquidation Price (Inverse
    Contract)", help.bybit.com/hc/en-us/articles/360039261334) takes the maintenance margin, 0.5%
    in the first risk limit, on the entry value: Entry × Lev / (Lev + 1 − MMR × Lev) = 7,773.4778,
    shown 7,773.50 (a long's prices go up to the 0.5 tick). The contract here has a 0.01 tick so
    that the example's average entry is a price one can trade at. The engine liquidates where the
    rule says: at 7,773.5 the position stands, at 7,773.4 it is gone.

    Not reproduced: the same article's cross example (balance 0.5 BTC, 10,000 contracts at 8,000:
    bankruptcy 5,718.57, liquidation 5,739.50) charges the taker fee to close at the bankruptcy
    price inside both prices; the engine has no fee-to-close in its margin."""
    btc = InverseContract("BTC", Decimal(1), Decimal("0.01"), ((150, 0.5, 100), (300, 1.0, 50)),
                          maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = CoinExchange("BTC", [btc], insurance_fund=100, mark_method="index")
    ex.set_rules(**{"maintenance_basis": VENUES["bybit"]["maintenance_basis"]})
    ex.set_index("BTC", "7890.08")
    ex.place(ex.open_account(100), "BTC", "sell", 5_000, "7890.08")
    a = ex.open_account("0.02")
    ex.set_margin_mode(a, "BTC", "isolated")
    ex.place(a, "BTC", "buy", 5_000, None, leverage=50)
    ex.settle()
    view = ex.position(a, "BTC")
    assert view.isolated_margin == Decimal("0.0126741427")  # 5,000 / 7,890.08 / 50
    assert _half_up(view.liq_price) == Decimal("7773.50")
    assert round(view.liq_price, 2) == 7_773.48
    core = ex.core.position(a, "BTC")
    exact_bankruptcy = ex.exact_usd(0, float(core.bankruptcy_price))
    assert round(exact_bankruptcy, 2) == 7_735.37  # 7,735.372549
    assert _half_up(exact_bankruptcy) == Decimal("7735.50")
    ex.set_index("BTC", "7773.5")
    ex.settle()
    assert ex.position(a, "BTC").lots == 5_000
    ex.set_index("BTC", "7773.4")
    ex.settle()
    assert ex.position(a, "BTC").lots == 0
    assert ex.total_money() == ex.net_deposits


BITMEX_XBTUSD = ((200, 0.5, 100), (350, 1.0, 66), (500, 1.5, 50), (650, 2.0, 40))
"""BitMEX's XBTUSD risk-limit steps, "Risk Limits Examples" (https://www.bitmex.com/app/
riskLimitsExamples): below 200 XBT maintenance 0.50% and initial 1.00%, then +0.50% both per
step (< 350 XBT: 1.00% / 1.50%; < 500: 1.50% / 2.00%; < 650: 2.00% / 2.50%); the maximum
leverage is 1 / initial margin, rounded down."""


def test_bitmex_xbtusd_risk_limit_steps_in_xbt():
    """BitMEX, "Risk Limits Examples": "A trader has a XBTUSD position worth 180 XBT. The current
    maintenance margin requirement is 0.50% (0.90 XBT), and current initial margin requirement for
    new orders is 1.00%. The trader wishes to place a new order of 50 XBT ... increase his position
    to 230 XBT ... 1 step above the Base Risk Limit of 200 XBT. The trader thus increases their
    maintenance and initial margin to the next step (<350XBT) to 1.00% and 1.50%". A step is
    the whole position's rate (no maintenance amount: ``stepped``), on the entry value
    (``maintenance_basis = "entry"``, BitMEX's rule book). At 10,000 USD, 1,800,000 one-dollar
    contracts are worth 180 XBT."""
    xbt = InverseContract("XBTUSD", Decimal(1), Decimal("0.5"), BITMEX_XBTUSD, stepped=True,
                          maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = CoinExchange("XBT", [xbt], insurance_fund=1_000, mark_method="index")
    ex.set_rules(maintenance_basis=VENUES["bitmex"]["maintenance_basis"])
    ex.set_index("XBTUSD", 10_000)
    maker = ex.open_account(10_000)
    ex.place(maker, "XBTUSD", "sell", 3_000_000, 10_000, leverage=1)
    a = ex.open_account(100)
    ex.place(a, "XBTUSD", "buy", 1_800_000, None, leverage=100)
    ex.settle()
    assert ex.position(a, "XBTUSD").notional == 180
    assert ex.position(a, "XBTUSD").maintenance == Decimal("0.90")
    with pytest.raises(LeverageError, match="allowed 1× to 66×"):
        ex.place(a, "XBTUSD", "buy", 500_000, None)  # to 230 XBT at 100×: refused
    ex.place(a, "XBTUSD", "buy", 500_000, None, leverage=66)
    ex.settle()
    assert ex.position(a, "XBTUSD").notional == 230
    assert ex.position(a, "XBTUSD").maintenance == Decimal("2.30")  # 1.00% of 230 XBT


BINANCE_BTCUSD = ((10, 0.4, 125), (20, 0.5, 100), (30, 1.0, 50), (50, 2.5, 20), (100, 5.0, 10),
                  (200, 10.0, 5), (400, 12.5, 4))
"""Binance COIN-M BTCUSD brackets in BTC: the caps and leverages of "Leverage and Margin in
Coin-Margined Futures Contracts" (binance.com/en/support/faq/be2c7d9d95b04a7e8044ed02dd7dfe5c:
125× to 10 BTC, 100× to 20, 50× to 30, 20× to 50, 10× to 100, 5× to 200, 4× to 400) with
maintenance rates of half the initial rate; the liquidation article's own figures (below) pin
them: level 1 at 0.4%, a level-5 amount of 1.81 BTC, 12.5% for 300 BTC."""


def test_binance_coin_m_maintenance_in_btc():
    """Binance, "How to Calculate Liquidation Price of COIN-M Futures Contracts" (2021-02-05,
    binance.com/en/support/faq/ceccfcfb4e3a45e3b48b0b1bb1a8ae46): "you have 100 BTCUSD Perpetual
    contracts, and the latest Mark Price is 25,000 USDT. The position's notional value is ...
    100 * 100 / 25,000 = 0.4 BTC, which is in margin level 1 ... Maintenance Margin = 100 * 100 /
    25,000 * 0.4% - 0 = 0.0016 BTC"; "the BTCUSD Maintenance Amount on Level 5 = 50 BTC * (5%
    -2.5%) + 0.56 BTC = 1.81 BTC"; "if the position of BTCUSD contract is 300 BTC, then the
    maintenance margin rate would be 12.5%", the maintenance amount "11.81 BTC" (the article's
    2021 text; today's gives 11.605 for a table revised since). A BTCUSD contract is 100 USD."""
    btc = InverseContract("BTC", Decimal(100), Decimal("0.1"), BINANCE_BTCUSD,
                          maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    assert [Decimal(b.maintenance_amount) / COIN_UNITS for b in btc.instrument().brackets] == \
        [0, Decimal("0.01"), Decimal("0.11"), Decimal("0.56"), Decimal("1.81"), Decimal("6.81"),
         Decimal("11.81")]
    bracket = btc.instrument().bracket(300 * COIN_UNITS)
    assert (bracket.mmr_ppm, Decimal(bracket.maintenance_amount) / COIN_UNITS) == \
        (125_000, Decimal("11.81"))
    ex = CoinExchange("BTC", [btc], insurance_fund=10, mark_method="index")
    ex.set_index("BTC", 25_000)
    ex.place(ex.open_account(10), "BTC", "sell", 100, 25_000)
    a = ex.open_account(1)
    ex.place(a, "BTC", "buy", 100, None)
    ex.settle()
    view = ex.position(a, "BTC")
    assert (view.notional, view.maintenance) == (Decimal("0.4"), Decimal("0.0016"))


def test_bitmex_adl_example_on_xbtusd_deleverages_and_lights_its_queue():
    """BitMEX's ADL example (above) played on an inverse XBTUSD exchange with BitMEX's rule book
    (``adl_policy = "bitmex"``, lights by contracts), its quantities in thousands of contracts:
    six longs entered at 600 whose effective leverage at the mark of 650 is their ranking (so the
    queue is 2, 5, 4, 1, 6, 3; at 645, before the liquidation, as at 650); a short of 20,000
    whose margin is gone at 650 is liquidated at 650.5 into an empty book and an empty fund. ADL closes account 2's 10,000 and 10,000 of account 5's 20,000
    at 650, and the lights shown before are BitMEX's percentiles: 2 → 20% (five lights), 5 → 40%,
    4 → 60%, 1 and 6 → 80%, 3 → 100% (one light)."""
    xbt = InverseContract("XBTUSD", Decimal(1), Decimal("0.5"), BITMEX_XBTUSD, stepped=True,
                          maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)
    ex = CoinExchange("XBT", [xbt], insurance_fund=0, mark_method="index",
                      adl_policy=VENUES["bitmex"]["adl_policy"])
    ex.set_rules(adl_lights=VENUES["bitmex"]["adl_lights"],
                 maintenance_basis=VENUES["bitmex"]["maintenance_basis"])
    ex.set_index("XBTUSD", 600)
    maker = ex.open_account(1_000)
    longs = {}
    for name, contracts, rank in zip(ACCOUNTS.tolist(), (CONTRACTS * 1_000).tolist(),
                                     RANKING.tolist(), strict=True):
        # equity at 650 = notional / rank: deposit = that − the profit from 600 to 650
        value = Decimal(contracts) / 650
        profit = contracts * (Decimal(1) / 600 - Decimal(1) / 650)
        longs[name] = ex.open_account((value / Decimal(rank) - profit).quantize(Decimal("1e-8")))
        ex.place(maker, "XBTUSD", "sell", contracts, 600, leverage=1)
        ex.place(longs[name], "XBTUSD", "buy", contracts, None, leverage=100)
    # 2.5641026: 20,000 × (1/600 − 1/650) = 2.56410256… rounded up, so that the bankruptcy
    # price is 650 and not a hair under it (the entry's r-tick is 599.99999988)
    short = ex.open_account("2.5641026")
    ex.place(maker, "XBTUSD", "buy", 20_000, 600, leverage=1)
    ex.place(short, "XBTUSD", "sell", 20_000, None, leverage=100)
    ex.set_index("XBTUSD", 645)  # the short still stands (liquidation price 646.50)
    ex.settle()
    lights = {name: ex.position(a, "XBTUSD").adl_light for name, a in longs.items()}
    assert {name: 20 * (6 - light) for name, light in lights.items()} == \
        {2: 20, 5: 40, 4: 60, 1: 80, 6: 80, 3: 100}
    ex.set_index("XBTUSD", "650.5")  # past its bankruptcy: the empty fund cannot take the loss
    fills = [e for e in ex.settle() if isinstance(e, AdlFill)]
    by_id = {a: name for name, a in longs.items()}
    assert [(by_id[f.counterparty], f.qty, f.side) for f in fills] == [(2, 10_000, 1),
                                                                       (5, 10_000, 1)]
    assert {f.price * Decimal("0.5") for f in fills} == {650}
    assert ex.position(longs[5], "XBTUSD").lots == 10_000
    assert ex.total_money() == ex.net_deposits
