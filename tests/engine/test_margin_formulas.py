"""Bankruptcy and liquidation prices by hand: longs and shorts, cross and isolated.

ETH fee-free preset: tick 0.01 USD, lot 0.001 ETH, one tick·lot = 10 money units. The first
bracket (≤ 50,000 USD notional) has MMR 0.5% and no maintenance amount.
"""

from decimal import Decimal

import pytest

from engine.margin import bankruptcy_price, liquidation_price, share_equity

from .conftest import usd


def trade(ex, maker_side, qty, price, taker_deposit, leverage=10, isolated=False):
    """A taker position of ``qty`` ETH at ``price`` against a rich maker."""
    ex.set_index("ETH", price)
    maker = ex.open_account(1_000_000)
    ex.place(maker, "ETH", maker_side, qty, price)
    a = ex.open_account(taker_deposit)
    if isolated:
        ex.set_margin_mode(a, "ETH", "isolated")
    ex.place(a, "ETH", "buy" if maker_side == "sell" else "sell", qty, None, leverage=leverage)
    ex.settle()
    return a


def test_short_cross(make_exchange):
    # short 2 ETH at 4,000 (8,000 USD) with 1,000 USD: equity(p) = 1,000 − 2 (p − 4,000)
    # bankrupt at p = 4,500; MM = 0.005 × 2p, so liquidation where 1,000 − 2p + 8,000 = 0.01 p
    # ⇔ p = 9,000 / 2.01 = 4,477.61…
    ex = make_exchange(symbols=("ETH",))
    a = trade(ex, "buy", 2, 4_000, 1_000)
    p = ex.position(a, "ETH")
    assert p.lots == -2_000
    assert p.bankruptcy_price == Decimal("4500.00")
    assert p.liq_price == pytest.approx(9_000 / 2.01)


def test_long_isolated_ignores_the_wallet(make_exchange):
    # long 2 ETH at 4,000, isolated at 10×: margin 800 USD moves out of a 5,000 USD wallet.
    # equity(p) = 800 + 2 (p − 4,000): bankrupt at 3,600; liquidation where
    # 800 + 2p − 8,000 = 0.01 p ⇔ p = 7,200 / 1.99 = 3,618.09…
    ex = make_exchange(symbols=("ETH",))
    a = trade(ex, "sell", 2, 4_000, 5_000, leverage=10, isolated=True)
    p = ex.position(a, "ETH")
    assert p.margin_mode == "isolated" and p.isolated_margin == Decimal("800")
    assert p.bankruptcy_price == Decimal("3600.00")
    assert p.liq_price == pytest.approx(7_200 / 1.99)


def test_short_isolated(make_exchange):
    # short 2 ETH at 4,000, isolated at 8×: margin 1,000: bankrupt at 4,500, liquidation at
    # 1,000 − 2p + 8,000 = 0.01 p ⇔ p = 4,477.61…, whatever the wallet holds
    ex = make_exchange(symbols=("ETH",))
    a = trade(ex, "buy", 2, 4_000, 50_000, leverage=8, isolated=True)
    p = ex.position(a, "ETH")
    assert p.isolated_margin == Decimal("1000")
    assert p.bankruptcy_price == Decimal("4500.00")
    assert p.liq_price == pytest.approx(9_000 / 2.01)


def test_an_isolated_reduction_frees_only_the_closed_lots_share(make_exchange):
    """A losing isolated short of 2 ETH at 4,000 (8×: 1,000 of margin) buys back 1.8 ETH at
    4,450: the 1.8 ETH lose 810 and carry 900 of the margin, so 90 goes to the wallet and the
    0.2 ETH left keep their 100 (equity 100 − 90 = 10 over a maintenance of 4.45: safe). Nothing
    is liquidated and the trader is no richer: 49,000 + 90 + 100 − 90 = 49,100, as before the
    trade. (Charging the 810 to the whole margin and then releasing nine tenths of the 190 left
    paid 171 to the wallet and left the 0.2 ETH at −71, for the fund to take over: review of
    session 18.)"""
    from engine.events import InsuranceTakeover, LiquidationStarted
    ex = make_exchange(symbols=("ETH",))
    a = trade(ex, "buy", 2, 4_000, 50_000, leverage=8, isolated=True)
    ex.set_index("ETH", 4_450)
    assert not [e for e in ex.settle() if isinstance(e, LiquidationStarted)]
    assert ex.equity(a) == Decimal("49100")
    ex.place(ex.open_account(1_000_000), "ETH", "sell", 1.8, 4_450)
    ex.place(a, "ETH", "buy", 1.8, None)
    p = ex.position(a, "ETH")
    assert p.lots == -200 and p.isolated_margin == Decimal("100")
    assert ex.account(a).wallet == Decimal("49090") and ex.equity(a) == Decimal("49100")
    fund = ex.insurance_fund_balance("ETH")
    events = ex.settle()
    assert not [e for e in events if isinstance(e, (LiquidationStarted, InsuranceTakeover))]
    assert ex.insurance_fund_balance("ETH") == fund


def test_an_isolated_fill_past_the_closed_lots_share_is_paid_by_the_rest(make_exchange):
    """The ADL path (``Accounts.apply_fill``, and ``exchange/prorata.py`` for many at once): an
    isolated short of 2 ETH at 4,000 (1,000 of margin) has 0.28 ETH closed at 4,600, above the
    mark (an ADL at a liquidated long's bankruptcy price). Those lots lose 168 and carry 140 of
    the margin, so the wallet gets nothing and the 1.72 ETH left pay the other 28: their margin
    is 860 − 28 = 832. (Charging the 168 to the whole margin and releasing 14% of the 832 left
    paid 116.48 to the wallet and left 715.52.) The vectorized booking gives the same split."""
    import numpy as np

    from engine.exchange.prorata import _counterparty_pools
    ex = make_exchange(symbols=("ETH",))
    a = trade(ex, "buy", 2, 4_000, 50_000, leverage=8, isolated=True)
    b = trade(ex, "buy", 2, 4_000, 50_000, leverage=8, isolated=True)
    unit = ex.units[0]
    wallet = int(ex.acc.w[a])
    realized = ex.acc.apply_fill(a, 0, 280, 460_000, unit, 0)  # buys back 0.28 ETH at 4,600
    assert realized == -168_000_000
    assert ex.acc.im[0, a] == 832_000_000 and ex.acc.w[a] == wallet
    c = np.array([b], dtype=np.int64)
    old_q = ex.acc.qty[0, c].copy()
    ex.acc.qty[0, c] = old_q + 280
    _counterparty_pools(ex.acc, 0, c, old_q, old_q + 280, np.array([realized], dtype=np.int64))
    assert ex.acc.im[0, b] == 832_000_000 and ex.acc.w[b] == wallet


def test_bankruptcy_rounding_favours_the_trader():
    # long 3 lots, 100 units per tick·lot: a share of 1,001 units is 3.34 ticks → the long's
    # bankruptcy rounds up (mark − 3), the short's down (mark + 3)
    assert bankruptcy_price(1_000, 1_001, 3, 100) == 997
    assert bankruptcy_price(1_000, 1_001, -3, 100) == 1_003
    # a negative share (the pool is already under water) puts bankruptcy beyond the mark
    assert bankruptcy_price(1_000, -600, 3, 100) == 1_002
    assert bankruptcy_price(1_000, -600, -3, 100) == 998


def test_cross_equity_is_shared_by_maintenance_margin():
    assert share_equity(1_000, [30, 10]) == [750, 250]
    assert share_equity(1_001, [1, 1, 1]) == [335, 333, 333]   # remainder to the first
    assert share_equity(-90, [2, 1]) == [-60, -30]
    assert share_equity(10, [0, 0]) == [5, 5]


def test_liquidation_price_uses_the_bracket_of_the_price_it_finds():
    from engine.instruments import Instrument
    eth = Instrument.preset("ETH")
    # long 20 ETH at 4,000 = 80,000 USD: second bracket (MMR 0.65%, amount 75 USD)
    # pool 9,000 USD: 9,000 + 20 (p − 4,000) = 0.0065 × 20 p − 75 ⇔ p = 70,925 / 19.87
    units = 20_000 * 400_000 * 10            # cost of 20,000 lots at 400,000 ticks
    ticks = liquidation_price(eth, 20_000, units, 9_000 * 1_000_000)
    assert ticks / 100 == pytest.approx(70_925 / 19.87)


def test_vectorized_maintenance_margin_equals_the_scalar_one():
    """mm_vector (both its int64 fast path and its overflow-safe path) = Instrument's formula."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from engine.instruments import Instrument
    from engine.margin import mm_vector

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(["BTC", "ETH", "DOGE", "ALT"]),
           st.lists(st.integers(0, 2**62), min_size=1, max_size=20),
           st.booleans())
    def check(symbol, notionals, small):
        inst = Instrument.preset(symbol)
        values = [n % 10**13 for n in notionals] if small else notionals
        got = mm_vector(inst, np.array(values, dtype=np.int64)).tolist()
        assert got == [inst.maintenance_margin(v) for v in values]
    check()


def test_apply_fill_books_what_fill_result_says():
    """``Accounts.apply_fill`` has ``fill_result``'s arithmetic inline (it runs twice a fill): for
    any position and fill — opening, adding, reducing, closing, flipping — the position, the
    cost basis and the realized PnL (into the wallet, with the fee) are fill_result's."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from engine.accounts import Accounts, fill_result

    lots = st.integers(-10**9, 10**9)

    @settings(max_examples=300, deadline=None)
    @given(lots, st.integers(-10**15, 10**15), lots.filter(bool), st.integers(1, 10**7),
           st.integers(1, 1000), st.integers(-10**6, 10**6))
    def check(q, c, dq, price, unit, fee):
        acc = Accounts(1)
        a = acc.add(1, wallet=10**12)[0]
        acc.q[0, a], acc.c[0, a] = q, (c if q else 0)
        realized = acc.apply_fill(a, 0, dq, price, unit, fee)
        new_q, new_c, expected = fill_result(q, c if q else 0, dq, price, unit)
        assert (acc.q[0, a], acc.c[0, a], realized) == (new_q, new_c, expected)
        assert acc.w[a] == 10**12 + expected - fee
    check()


@pytest.mark.parametrize("deposit, bid, wallet, margin", [
    (10_000, 89_000, 8_010, 890),
    (2_000, 85_000, 0, 500),
])
def test_an_isolated_flip_past_the_margin_opens_on_its_whole_margin(make_exchange, deposit, bid,
                                                                    wallet, margin):
    """A flip is a close and an open (review, session 19): an isolated 10× long of 0.1 BTC from
    100,000 (1,000 of margin) sells 0.2 into a bid at 89,000. The long loses 1,100, 100 past its
    margin: that shortfall is the wallet's, and the new short takes its whole initial margin,
    890, from the wallet: 9,000 − 100 − 890 = 8,010. (Before the fix the short's margin paid the
    old shortfall, 790, and the wallet kept 8,110.) A wallet that cannot pay both — 1,000 left,
    the bid at 85,000: 500 past the margin, 850 of new margin — keeps nothing and the short
    opens on the 500 left, rather than leave a deficit for the insurance fund to cover."""
    ex = make_exchange()
    ex.set_index("BTC", 100_000)
    ex.place(ex.open_account(1_000_000), "BTC", "sell", "0.1", 100_000)
    a = ex.open_account(deposit)
    ex.set_margin_mode(a, "BTC", "isolated")
    ex.place(a, "BTC", "buy", "0.1", None, leverage=10)
    ex.place(ex.open_account(1_000_000), "BTC", "buy", "0.2", bid)
    money = ex.total_money()
    ex.place(a, "BTC", "sell", "0.2", None)
    assert ex.position(a, "BTC").lots == -100
    assert ex.acc.w[a] == usd(wallet) and ex.acc.im[0, a] == usd(margin)
    assert ex.total_money() == money


def test_an_isolated_market_order_past_the_touch_opens_on_what_the_wallet_holds(make_exchange):
    """An isolated 10× market buy of 0.1 BTC on a 1,000 wallet: the order's check prices its
    margin at the touch, 100,000 (1,000), but half fills at 110,000, so the position's margin is
    1,050. The wallet pays its 1,000 and the position opens 50 short of margin (review, session
    19); before, the wallet went to −50 and the insurance fund covered that "deficit"."""
    ex = make_exchange()
    ex.set_index("BTC", 100_000)
    m = ex.open_account(1_000_000)
    ex.place(m, "BTC", "sell", "0.05", 100_000)
    ex.place(m, "BTC", "sell", "0.05", 110_000)
    a = ex.open_account(1_000)
    ex.set_margin_mode(a, "BTC", "isolated")
    money, fund = ex.total_money(), ex.acc.w[ex.fund_account("BTC")]
    ex.place(a, "BTC", "buy", "0.1", None, leverage=10)
    ex.settle()
    assert ex.position(a, "BTC").lots == 100
    assert ex.acc.w[a] == 0 and ex.acc.im[0, a] == usd(1_000)
    assert ex.acc.w[ex.fund_account("BTC")] == fund and ex.total_money() == money
