"""The liquidation waterfall, one tier at a time, with hand-computed numbers.

BTC (fee-free preset): tick 0.1 USD, lot 0.001 BTC, so one tick·lot is 100 money units (1e-4 USD).
A long of 0.1 BTC at 100,000 with 1,000 USD of margin goes bankrupt at exactly 90,000:
    equity(p) = 1,000 + 0.1 × (p − 100,000) = 0  ⇔  p = 90,000.
Its maintenance margin at 0.4% is 0.0004 × p, so it is liquidated below
    1,000 + 0.1 (p − 100,000) = 0.0004 p  ⇔  p = 9,000 / 0.0996 = 90,361.45…
"""

from decimal import Decimal

import pytest

from engine.errors import InvalidInput
from engine.events import (AdlFill, InsuranceTakeover, LiquidationFill, LiquidationStarted,
                           WrittenOff)

from .conftest import usd


def open_long(ex, deposit, qty, counterparties):
    """A long of ``qty`` BTC at 100,000 against resting sells from ``counterparties``
    [(deposit, qty)]; returns (long account, [short accounts])."""
    ex.set_index("BTC", 100_000)
    shorts = []
    for dep, q in counterparties:
        s = ex.open_account(dep)
        ex.place(s, "BTC", "sell", q, 100_000, leverage=20)
        shorts.append(s)
    a = ex.open_account(deposit)
    ex.place(a, "BTC", "buy", qty, None, leverage=20)
    ex.settle()
    return a, shorts


def test_liquidation_price_and_bankruptcy_price_by_hand(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    p = ex.position(a, "BTC")
    assert p.bankruptcy_price == Decimal("90000.0")
    assert p.liq_price == pytest.approx(9_000 / 0.0996)
    assert p.maintenance == Decimal("40")           # 0.4% of 10,000
    ex.set_index("BTC", 90_400)                     # above 90,361.45: safe
    assert not [e for e in ex.settle() if isinstance(e, LiquidationStarted)]
    assert ex.position(a, "BTC").lots == 100


def test_tier1_book_fill_better_than_bankruptcy_pays_surplus_to_fund(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    maker = ex.open_account(100_000)
    ex.place(maker, "BTC", "buy", 0.1, 95_000)
    money = ex.total_money()
    ex.set_index("BTC", 90_300)  # equity 30 < MM 36.12; bankruptcy 90,300 − 30/0.1 = 90,000
    events = ex.settle()
    started = [e for e in events if isinstance(e, LiquidationStarted)]
    assert [(e.account, e.bankruptcy_price, e.equity) for e in started] == [(a, 900_000, usd(30))]
    fills = [e for e in events if isinstance(e, LiquidationFill)]
    assert [(e.qty, e.price) for e in fills] == [(100, 950_000)]
    # realized −500 leaves 500 in the pool: all of it is surplus above bankruptcy → fund
    assert ex.position(a, "BTC").lots == 0
    assert ex.equity(a) == 0
    assert ex.insurance_fund_balance("BTC") == Decimal("1000500")
    assert ex.position(maker, "BTC").lots == 100
    assert ex.total_money() == money


def test_tier2_fund_takes_over_at_bankruptcy_and_pays_bad_debt(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    money = ex.total_money()
    ex.set_index("BTC", 89_000)  # equity −100: bankrupt; the book is empty
    events = ex.settle()
    takeover = [e for e in events if isinstance(e, InsuranceTakeover)]
    assert [(e.account, e.qty, e.price, e.loss_to_mark) for e in takeover] == \
        [(a, 100, 900_000, usd(100))]
    fund = ex.fund_account("BTC")
    assert ex.acc.q[0, fund] == 100
    assert ex.equity(a) == 0 and ex.position(a, "BTC").lots == 0
    assert ex.insurance_fund_balance("BTC") == Decimal("1000000")  # cash; the loss is unrealized
    # next step the fund works the position out into a bid at 88,900: realized −110 USD
    buyer = ex.open_account(100_000)
    ex.place(buyer, "BTC", "buy", 0.1, 88_900)
    ex.settle()
    assert ex.acc.q[0, fund] == 0
    assert ex.insurance_fund_balance("BTC") == Decimal("999890")
    assert ex.total_money() == money + usd(100_000)


def test_tier3_adl_closes_top_ranked_first_at_bankruptcy_price(make_exchange):
    ex = make_exchange(fund=50)
    # L: long 0.2 at 100,000 with 2,000 margin (bankrupt at 90,000); shorts: S1 rich, S2 lean.
    a, (s1, s2) = open_long(ex, 2_000, 0.2, [(100_000, 0.1), (2_000, 0.1)])
    money = ex.total_money()
    ex.set_index("BTC", 89_000)   # L equity −200; fund (50) cannot carry a 200 loss to mark
    events = ex.settle()
    adl = [e for e in events if isinstance(e, AdlFill)]
    # article score = uPnL / equity: S2 1,100 / 3,100 = 0.3548 ranks above S1 1,100 / 101,100
    assert [(e.counterparty, e.rank, e.qty, e.price) for e in adl] == \
        [(s2, 0, 100, 900_000), (s1, 1, 100, 900_000)]
    assert adl[0].score == pytest.approx(1_100 / 3_100)
    assert adl[1].score == pytest.approx(1_100 / 101_100)
    # each short realizes (100,000 − 90,000) × 0.1 = 1,000, not the 1,100 the mark showed
    assert ex.equity(s2) == Decimal("3000") and ex.equity(s1) == Decimal("101000")
    assert ex.equity(a) == 0
    assert ex.insurance_fund_balance("BTC") == Decimal("50")
    assert ex.total_money() == money


def test_adl_at_the_mark_leaves_the_gap_to_the_fund_then_bad_debt(make_exchange):
    """OKX's and Hyperliquid's rule (adl_price = "mark"): the same crash as above, ADL at
    89,000: each short realizes the 1,100 the mark showed; the long's pool ends 200 below zero,
    the fund pays the 50 it has and 150 stays as bad debt."""
    ex = make_exchange(fund=50)
    ex.set_rules(adl_price="mark")
    a, (s1, s2) = open_long(ex, 2_000, 0.2, [(100_000, 0.1), (2_000, 0.1)])
    money = ex.total_money()
    ex.set_index("BTC", 89_000)
    adl = [e for e in ex.settle() if isinstance(e, AdlFill)]
    assert [(e.counterparty, e.qty, e.price) for e in adl] == [(s2, 100, 890_000),
                                                               (s1, 100, 890_000)]
    assert ex.equity(s2) == Decimal("3100") and ex.equity(s1) == Decimal("101100")
    assert ex.insurance_fund_balance("BTC") == Decimal("0")
    assert ex.bad_debt_units() == usd(150)
    assert ex.total_money() == money


def test_adl_partial_close_of_the_first_in_line(make_exchange):
    ex = make_exchange(fund=0)
    a, (s1, s2) = open_long(ex, 1_000, 0.1, [(2_000, 0.3), (100_000, 0.1)])
    # L only holds 0.1 of it: the rest of s1's 0.3 sits with a solvent long
    whale = ex.open_account(1_000_000)
    ex.place(whale, "BTC", "buy", 0.3, None)
    ex.set_index("BTC", 89_000)
    adl = [e for e in ex.settle() if isinstance(e, AdlFill)]
    assert [(e.counterparty, e.qty) for e in adl] == [(s1, 100)]
    assert ex.position(s1, "BTC").lots == -200


def _isolated_long(ex) -> int:
    """An account long 0.1 BTC at 100,000, isolated at 10×: 1,000 of margin moves out of its
    10,000 wallet."""
    ex.set_index("BTC", 100_000)
    ex.place(ex.open_account(100_000), "BTC", "sell", 0.1, 100_000, leverage=10)
    a = ex.open_account(10_000)
    ex.set_margin_mode(a, "BTC", "isolated")
    ex.place(a, "BTC", "buy", 0.1, None, leverage=10)
    return a


def test_isolated_liquidation_leaves_the_cross_wallet_alone(make_exchange):
    ex = make_exchange(symbols=("BTC", "ETH"))
    ex.set_index("ETH", 4_000)
    a = _isolated_long(ex)
    assert ex.acc.w[a] == usd(9_000) and ex.acc.im[0, a] == usd(1_000)
    money = ex.total_money()
    ex.set_index("BTC", 89_000)  # the isolated pool is bankrupt (−100); the wallet holds 9,000
    events = ex.settle()
    assert [e.isolated for e in events if isinstance(e, LiquidationStarted)] == [True]
    assert ex.acc.w[a] == usd(9_000)           # untouched: the fund took the bad debt
    assert ex.position(a, "BTC").lots == 0
    assert ex.total_money() == money


@pytest.mark.parametrize("funds, paid, written_off", [
    # BTC's fund cannot take it over; both pay the gap (money units, 1e-6 USD)
    ({"BTC": 50, "ETH": 1_000}, (4_761_905, 95_238_095), 0),
    ({"BTC": 50, "ETH": 0}, (50_000_000, 0), 50),  # they can pay only 50: the exchange writes off 50
])
def test_isolated_pool_closed_past_bankruptcy_leaves_the_cross_wallet_alone(make_exchange, funds,
                                                                            paid, written_off):
    """The same bankrupt isolated pool (−100 at 89,000) under OKX's and Hyperliquid's rule, ADL at
    the mark: the counterparty is closed at 89,000, not at the 90,000 bankruptcy price, so the
    pool's loss runs 100 past its margin. An isolated position's margin is the most its owner can
    lose (Binance: "the maximum loss is limited to the position margin", Bybit: "isolated
    margin ... the maximum loss is the initial margin"), so the gap is not the cross wallet's
    (it was, before session 19: 9,000 → 8,900): the fund pays it as far as it can, and what it
    cannot the exchange writes off as bad debt (``Funds.cover_isolated``). The funds pay in
    proportion to what each can spare: 100,000,000 units × 50 ÷ 1,050 = 4,761,904 and × 1,000 ÷
    1,050 = 95,238,095 rounded down, the unit left over from the first."""
    ex = make_exchange(symbols=("BTC", "ETH"), fund=funds)
    ex.set_index("ETH", 4_000)
    ex.set_rules(adl_price="mark")
    a = _isolated_long(ex)
    ex.settle()
    money = ex.total_money()
    ex.set_index("BTC", 89_000)
    events = ex.settle()
    assert ex.position(a, "BTC").lots == 0 and ex.total_money() == money
    assert ex.acc.w[a] == usd(9_000)
    assert [ex.acc.w[f] for f in ex.funds.ids] == [usd(funds["BTC"]) - paid[0],
                                                   usd(funds["ETH"]) - paid[1]]
    assert ex.funds.written_off == usd(written_off) == ex.bad_debt_units()
    assert [(e.account, e.amount, e.covered) for e in events if isinstance(e, WrittenOff)] == \
        ([(a, usd(written_off), sum(paid))] if written_off else [])


@pytest.mark.parametrize("rules, policy, margin_l, stress_ppm, written_off", [
    ({}, "article", 1_000, 0, 1_400),                  # the queue cannot carry S: the last resort
    ({"adl_price": "mark"}, "article", 1_000, 0, 1_400),   # OKX and Hyperliquid: at the mark
    ({}, "drift", 1_000, 0, 1_400),                    # the vectorized pro-rata walk
    ({}, "article", 2_250, 500_000, 150),              # L not yet bankrupt: at 88,750, unchecked
])
def test_an_isolated_counterparty_past_its_bankruptcy_keeps_its_cross_wallet(
        make_exchange, rules, policy, margin_l, stress_ppm, written_off):
    """ADL closes an isolated counterparty that is itself past bankruptcy (review, session 19).
    At 89,000: L is long 0.2 BTC from 100,000 (isolated, ``margin_l``), S short 0.2 from 80,000
    on 1,600 of isolated margin, 1,800 down: 200 past it. Closed at the mark, or at L's
    bankruptcy price of 88,750 when L still has 50 (better than the mark for S, so nothing caps
    it: 1,750 down, 150 past), S's loss runs past its margin. Neither cross wallet pays: with an
    empty fund the exchange writes off L's 1,200 and S's 200 (1,400), or S's 150. Before the fix
    S's wallet paid its part (−200, −150)."""
    import numpy as np
    ex = make_exchange(fund=0, adl_policy=policy, takeover_stress_ppm=stress_ppm)
    if rules:
        ex.set_rules(**rules)
    ex.set_index("BTC", 89_000)
    L, S = ex.open_account(10_000), ex.open_account(10_000)
    ex.seed_positions(0, np.array([L, S]), np.array([200, -200]), np.array([1_000_000, 800_000]),
                      isolated_margin=np.array([usd(margin_l), usd(1_600)]))
    money = ex.total_money()
    wallets = [ex.acc.w[L], ex.acc.w[S]]
    events = ex.settle()
    assert [(e.counterparty, e.qty) for e in events if isinstance(e, AdlFill)] == [(S, 200)]
    assert ex.position(L, "BTC").lots == ex.position(S, "BTC").lots == 0
    assert [ex.acc.w[L], ex.acc.w[S]] == wallets
    assert ex.funds.written_off == usd(written_off) == ex.bad_debt_units()
    assert ex.total_money() == money


def test_cross_liquidation_leaves_isolated_positions_alone(make_exchange):
    ex = make_exchange(symbols=("BTC", "ETH"))
    ex.set_index("BTC", 100_000)
    ex.set_index("ETH", 4_000)
    a = ex.open_account(2_000)
    ex.set_margin_mode(a, "ETH", "isolated")
    s = ex.open_account(1_000_000)
    ex.place(s, "ETH", "sell", 1, 4_000)
    ex.place(a, "ETH", "buy", 1, None, leverage=10)        # isolated: 400 of margin
    ex.place(s, "BTC", "sell", 0.1, 100_000)
    ex.place(a, "BTC", "buy", 0.1, None, leverage=20)      # cross: wallet 1,600 backs it
    money = ex.total_money()
    ex.set_index("BTC", 85_000)  # cross equity 1,600 − 1,500 = 100 < MM 34
    ex.set_index("BTC", 84_000)  # 1,600 − 1,600 = 0 < MM: liquidated
    events = ex.settle()
    assert [(e.symbol, e.isolated) for e in events if isinstance(e, LiquidationStarted)] == \
        [("BTC", False)]
    assert ex.position(a, "ETH").lots == 1000 and ex.acc.im[1, a] == usd(400)
    assert ex.position(a, "BTC").lots == 0
    assert ex.total_money() == money


@pytest.mark.parametrize("fund, stress_ppm, taken", [
    (1_000, 0, True),               # at the mark the fund is in profit: it takes it
    (1_776, 200_000, True),         # 20% further down it would lose exactly its 1,776
    (Decimal("1775.999999"), 200_000, False),  # one unit short of that: ADL instead
])
def test_takeover_stress_sends_what_the_fund_cannot_carry_to_adl(make_exchange, fund,
                                                                   stress_ppm, taken):
    """``takeover_stress_ppm``: the fund takes a position over only if it could still carry its
    loss after a further move of that much against it. The long (bankrupt at 90,000) is
    liquidated at mark 90,300 into an empty book: taken over at 90,000 it would lose
    0.1 × (90,000 − 0.8 × 90,300) = 1,776 USD at the stressed mark 72,240."""
    ex = make_exchange(fund=fund, takeover_stress_ppm=stress_ppm)
    a, (short,) = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    money = ex.total_money()
    ex.set_index("BTC", 90_300)
    events = ex.settle()
    takeovers = [(e.account, e.qty, e.price) for e in events if isinstance(e, InsuranceTakeover)]
    adl = [(e.account, e.counterparty, e.qty, e.price) for e in events if isinstance(e, AdlFill)]
    if taken:
        assert takeovers == [(a, 100, 900_000)] and adl == []
    else:
        assert takeovers == [] and adl == [(a, short, 100, 900_000)]
        assert ex.position(short, "BTC").lots == 0
    assert ex.position(a, "BTC").lots == 0
    assert ex.total_money() == money


def test_takeover_stress_is_checked(make_exchange):
    with pytest.raises(InvalidInput, match="takeover_stress_ppm"):
        make_exchange(takeover_stress_ppm=1_000_000)


@pytest.mark.parametrize("drawdown_ppm, second_to_fund", [(0, True), (100_000, False)])
def test_a_fund_past_its_drawdown_trigger_sends_liquidations_to_adl(make_exchange, drawdown_ppm,
                                                                     second_to_fund):
    """Bybit's ADL trigger (``adl_drawdown_ppm``): while a fund's equity is that far below its
    high, the liquidations it would take over go to ADL instead. A (bankrupt at 90,000) is taken
    over at 88,500: the fund's 1,000 USD show a 150 USD loss, 15% down. B (bankrupt at 88,000) is
    liquidated at 88,300: with a 10% trigger it goes to ADL, without one to the fund.
    Bybit: https://www.bybit.com/en/help-center/article/Insurance-Fund and its Dec 2025 notice
    ("a single trading pair's 8-hour drawdown exceeds the set threshold" triggers ADL)."""
    ex = make_exchange(fund=1_000, adl_drawdown_ppm=drawdown_ppm)
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    s2 = ex.open_account(100_000)
    ex.place(s2, "BTC", "sell", 0.1, 100_000, leverage=20)
    b = ex.open_account(1_200)
    ex.place(b, "BTC", "buy", 0.1, None, leverage=20)
    ex.settle()
    money = ex.total_money()
    ex.set_index("BTC", 88_500)
    first = ex.settle()
    assert [e.account for e in first if isinstance(e, InsuranceTakeover)] == [a]
    fund = ex.fund_account("BTC")
    assert ex.funds.equity(fund) == usd(850)
    assert ex.funds.in_drawdown(fund) is (drawdown_ppm > 0)
    ex.set_index("BTC", 88_300)
    second = ex.settle()
    takeovers = [e.account for e in second if isinstance(e, InsuranceTakeover)]
    adl = [(e.account, e.qty, e.price) for e in second if isinstance(e, AdlFill)]
    if second_to_fund:
        assert takeovers == [b] and adl == []
    else:
        assert takeovers == [] and adl == [(b, 100, 880_000)]
    assert ex.position(b, "BTC").lots == 0
    assert ex.total_money() == money
