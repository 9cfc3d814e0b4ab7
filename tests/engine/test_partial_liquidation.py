"""Partial liquidation in slices (``exchange.partial_slice_pct``; ``engine/exchange/partial.py``),
Hyperliquid's rule from its documentation ("Liquidations", hyperliquid.gitbook.io): a position
over 100k USDC notional below maintenance is liquidated 20% at a time by market orders, 30 s
apart; below two thirds of maintenance it goes to the backstop whole. Hand-computed.

BTC (fee-free preset): tick 0.1, lot 0.001. A long of 2 BTC at 100,000 with 10,000 USD is worth
200,000 USD: maintenance 0.5% − 50 USD (the second bracket), so at price p it holds
``10,000 + 2 (p − 100,000)`` against ``0.01 p − 50``: under water below 95,452.26.
"""

from decimal import Decimal

from engine.events import InsuranceTakeover, LiquidationFill, LiquidationStarted

SLICES = dict(partial_slice_pct=20, partial_min_usd=100_000, partial_cooldown_seconds=30,
              backstop_pct=66.6667)


def _setup(ex, deposit=10_000, qty=2, isolated=False):
    ex.set_rules(**SLICES)
    ex.set_index("BTC", 100_000)
    seller = ex.open_account(1_000_000)
    ex.place(seller, "BTC", "sell", qty, 100_000, leverage=20)
    a = ex.open_account(deposit)
    if isolated:
        ex.set_margin_mode(a, "BTC", "isolated")
    ex.place(a, "BTC", "buy", qty, None, leverage=20)
    ex.settle()
    bidder = ex.open_account(1_000_000)
    ex.place(bidder, "BTC", "buy", 1, 95_300, leverage=20)
    return a


def test_a_large_pool_sells_a_fifth_then_waits_then_goes_whole_below_the_backstop(make_exchange):
    ex = make_exchange()
    a = _setup(ex)
    money = ex.total_money()
    # 95,400: equity 800 < maintenance 904, but above two thirds of it (602.67): one slice.
    # 20% of 2 BTC = 0.4 BTC into the 95,300 bid (bankruptcy 95,000); realized −1,880
    ex.set_index("BTC", 95_400)
    events = ex.settle()
    started = [e for e in events if isinstance(e, LiquidationStarted)]
    assert [(e.qty, e.bankruptcy_price) for e in started] == [(400, 950_000)]
    assert [(e.qty, e.price) for e in events if isinstance(e, LiquidationFill)] == [(400, 953_000)]
    assert ex.position(a, "BTC").qty == Decimal("1.600")
    assert ex.account(a).wallet == Decimal("8120")  # kept: the trader is still trading
    assert ex.total_money() == money
    # 10 s later at 95,300: under water again (600 < 712.4), above the backstop: it waits
    ex.t += 10
    ex.set_index("BTC", 95_300)
    assert not [e for e in ex.settle() if isinstance(e, LiquidationStarted)]
    assert ex.position(a, "BTC").qty == Decimal("1.600")
    # 30 s after the first slice: the next one, 20% of 1.6 = 0.32 BTC at 95,300
    ex.t += 20
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [320]
    assert ex.position(a, "BTC").qty == Decimal("1.280")
    assert ex.account(a).wallet == Decimal("6616")
    assert ex.total_money() == money
    # 94,950: equity 152 is below two thirds of 557.68: the whole waterfall — the rest of the
    # bid (0.28 BTC) above bankruptcy, the remaining 1 BTC to the fund
    ex.set_index("BTC", 94_950)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [1_280]
    assert [e.qty for e in events if isinstance(e, InsuranceTakeover)] == [1_000]
    assert ex.position(a, "BTC").lots == 0
    assert ex.total_money() == money


def test_an_isolated_slice_leaves_the_margin_in_the_position(make_exchange):
    """The same first slice of an isolated position (2 BTC at 20×: 10,000 USD of isolated margin,
    the wallet empty): the realized −1,880 leaves 8,120 of margin, and all of it stays with the
    1.6 BTC still open (equity 8,120 − 1.6 × 4,600 = 760). Booked as a trader's own reduction,
    a fifth of it (1,624) would go to the wallet and leave the rest bankrupt (review of session
    17's step-down: engine/exchange/partial.py, ``keep_in_pool``)."""
    ex = make_exchange()
    a = _setup(ex, isolated=True)
    assert ex.position(a, "BTC").isolated_margin == Decimal("10000")
    money = ex.total_money()
    ex.set_index("BTC", 95_400)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [400]
    position = ex.position(a, "BTC")
    assert position.qty == Decimal("1.600") and position.isolated_margin == Decimal("8120")
    assert ex.account(a).wallet == 0 and ex.equity(a) == Decimal("760")
    assert ex.total_money() == money


def test_a_pool_under_the_minimum_is_liquidated_whole(make_exchange):
    """0.5 BTC (50,000 USD, maintenance 0.4%) with 5,000 USD: at 90,300 its equity 150 is under
    its maintenance 180.6 but above two thirds of it (120.4) — a slice, were it not under 100,000
    USD of notional: the whole position goes at once."""
    ex = make_exchange()
    a = _setup(ex, deposit=5_000, qty=0.5)
    ex.set_index("BTC", 90_300)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [500]
    assert ex.position(a, "BTC").lots == 0


def test_without_slices_the_same_pool_is_liquidated_whole(make_exchange):
    ex = make_exchange()
    a = _setup(ex)
    ex.set_rules(partial_slice_pct=0)
    ex.set_index("BTC", 95_400)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [2_000]
    assert ex.position(a, "BTC").lots == 0


def _seven_btc(ex, bid_qty, isolated=False):
    """A long of 7 BTC at 100,000 (700,000 USD: the third bracket, 0.65% − 950) with 50,000 USD
    (isolated: 35,000 of initial margin at 20×, the other 15,000 added to it); a bid of
    ``bid_qty`` at 93,250."""
    ex.set_rules(tier_step_down=True)
    ex.set_index("BTC", 100_000)
    seller = ex.open_account(10_000_000)
    ex.place(seller, "BTC", "sell", 7, 100_000, leverage=20)
    a = ex.open_account(50_000)
    if isolated:
        ex.set_margin_mode(a, "BTC", "isolated")
    ex.place(a, "BTC", "buy", 7, None, leverage=20)
    ex.settle()
    if isolated:
        ex.add_margin(a, "BTC", 15_000)
    bidder = ex.open_account(10_000_000)
    ex.place(bidder, "BTC", "buy", bid_qty, 93_250, leverage=20)
    return a


def test_a_risk_tier_step_down_sells_what_sits_above_the_next_bracket(make_exchange):
    """Bybit's step-down (tier_step_down): at 93,300 the pool holds 3,100 against 3,295.15; its
    653,100 USD sit 53,100 above the second bracket's 600,000 cap: a fill-or-kill of
    ⌈53,100 / 93.3⌉ = 570 lots (0.57 BTC) into the 93,250 bid, realizing −3,847.50; the rest
    (6.43 BTC, 599,919 USD: maintenance 2,949.60) holds 3,071.50 and is safe."""
    ex = make_exchange()
    a = _seven_btc(ex, bid_qty=1)
    money = ex.total_money()
    ex.set_index("BTC", 93_300)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [570]
    assert ex.position(a, "BTC").qty == Decimal("6.430")
    assert ex.account(a).wallet == Decimal("46152.5")
    assert ex.equity(a) == Decimal("3071.5") and ex.position(a, "BTC").maintenance == \
        Decimal("2949.595")
    assert ex.total_money() == money


def test_an_isolated_step_down_leaves_the_margin_in_the_position(make_exchange):
    """The same step of an isolated position (35,000 USD of isolated margin at 20×, 15,000 added:
    50,000, the wallet empty) ends where the cross pool does: 46,152.50 of margin after the
    realized −3,847.50, all of it kept by the 6.43 BTC left (equity 3,071.50 against 2,949.595:
    safe), nothing to the wallet and nothing for the fund. Booked as a trader's own reduction, 570
    / 7,000 of the margin (3,758) would go to the wallet, the rest's equity below zero and the
    fund would take 6.43 BTC over at a loss (review of session 17's step-down)."""
    ex = make_exchange()
    a = _seven_btc(ex, bid_qty=1, isolated=True)
    assert ex.position(a, "BTC").isolated_margin == Decimal("50000")
    fund = ex.insurance_fund_balance("BTC")
    money = ex.total_money()
    ex.set_index("BTC", 93_300)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [570]
    assert not [e for e in events if isinstance(e, InsuranceTakeover)]
    position = ex.position(a, "BTC")
    assert position.qty == Decimal("6.430") and position.isolated_margin == Decimal("46152.5")
    assert ex.account(a).wallet == 0 and ex.equity(a) == Decimal("3071.5")
    assert position.maintenance == Decimal("2949.595")
    assert ex.insurance_fund_balance("BTC") == fund and ex.total_money() == money


def test_a_step_the_book_cannot_fill_whole_goes_through_the_waterfall(make_exchange):
    """The same, with only 0.5 BTC bid: the fill-or-kill of 0.57 cannot fill, so the whole
    position goes (0.5 into the bid, the rest to the fund)."""
    ex = make_exchange()
    a = _seven_btc(ex, bid_qty=0.5)
    ex.set_index("BTC", 93_300)
    events = ex.settle()
    assert [e.qty for e in events if isinstance(e, LiquidationStarted)] == [7_000]
    assert [e.qty for e in events if isinstance(e, InsuranceTakeover)] == [6_500]
    assert ex.position(a, "BTC").lots == 0


def test_binance_clearance_fee_goes_to_the_fund_on_a_step_down():
    """Binance's insurance clearance fee (``clearance_fee = "instrument"``, its rule book): "a
    liquidation fee will be charged on the amount liquidated only ... If the user is margin
    compliant after calculating the realized losses and liquidation fee deductions, the
    liquidation will stop" (Binance's liquidation protocol, as its copy-trading platform's
    documentation quotes it: docs.traderwagon.com/faq/futures-trading-introduction/
    liquidation-protocol). The step-down above (BTC's liquidation fee rate 0.5%, the preset's),
    its 0.57 BTC sold at 93,600: 53,352 USD, a fee of 266.76 USD from the pool to the BTC fund;
    the pool (3,071.50 + 0.57 × 350 better than at 93,250 − 266.76 = 3,004.24) is then above its
    2,949.595 maintenance and the trader keeps trading. Sold at 93,250 (the test above), the fee
    leaves the pool short of its maintenance and the whole position goes."""
    from engine import Exchange, Instrument
    from engine.level.venues import VENUES
    preset = Instrument.preset("BTC")
    btc = Instrument("BTC", preset.tick_size, preset.lot_size, preset.brackets,
                     maker_fee_ppm=0, taker_fee_ppm=0)
    assert btc.liquidation_fee_ppm == 5_000
    for bid, stays in ((93_600, True), (93_250, False)):
        ex = Exchange([btc], insurance_fund=1_000_000, mark_method="index")
        ex.set_rules(tier_step_down=True, clearance_fee=VENUES["binance"]["clearance_fee"])
        ex.set_index("BTC", 100_000)
        ex.place(ex.open_account(10_000_000), "BTC", "sell", 7, 100_000, leverage=20)
        a = ex.open_account(50_000)
        ex.place(a, "BTC", "buy", 7, None, leverage=20)
        ex.settle()
        ex.place(ex.open_account(10_000_000), "BTC", "buy", 1, bid, leverage=20)
        money = ex.total_money()
        ex.set_index("BTC", 93_300)
        ex.settle()
        assert ex.total_money() == money
        if stays:
            assert ex.position(a, "BTC").qty == Decimal("6.430")
            assert ex.equity(a) == Decimal("3004.24")
            assert ex.insurance_fund_balance("BTC") == Decimal("1000266.76")
        else:
            assert ex.position(a, "BTC").lots == 0 and ex.equity(a) == 0
