"""Issue 11, engine part: one test per reproducer, asserting the fixed behaviour.

* I1 — an isolated position flipped at a loss bigger than its margin must not take a fund below
  its floor (nor leave negative isolated margin on an open position).
* I2 — ADL at a bankrupt position's price must not leave its counterparty under water.
* I3 — a trader left with a negative wallet and nothing open is covered or reported as bad debt;
  opening checks count the loss against the mark; price bands refuse absurd limits.
* E1–E5 — every error is typed (a ``CrashfloorError``) and leaves ``checksum()`` unchanged.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from engine import CrashfloorError, Instrument, InsufficientMargin, OrderRejected
from engine.events import AdlFill

from . import invariants
from .conftest import FixtureExchange as Exchange  # a test may name its accounts on it

POLICIES = ["article", "bitmex", "binance", "hyperliquid", "dydx", "drift"]


def attempt(ex, call):
    """Run ``call``; a typed refusal is allowed but must leave the state unchanged. Returns the
    call's result, or the error."""
    before = ex.checksum()
    try:
        return call()
    except CrashfloorError as exc:
        assert ex.checksum() == before, f"{type(exc).__name__} changed the state: {exc}"
        return exc


def refused(ex, call, *errors):
    """``call`` must raise one of ``errors`` (default: any CrashfloorError) and change nothing."""
    errors = errors or (CrashfloorError,)
    before, money = ex.checksum(), ex.total_money()
    with pytest.raises(errors) as info:
        call()
    assert isinstance(info.value, CrashfloorError), f"untyped {type(info.value).__name__}"
    assert ex.checksum() == before, f"{type(info.value).__name__} changed the state"
    assert ex.total_money() == money
    return info.value


# --- I1 ------------------------------------------------------------------------------------------
def test_i1_isolated_flip_at_a_loss_keeps_the_fund_at_its_floor():
    """The issue's exact reproducer: the isolated ETH long of account x is flipped short at a loss
    bigger than its margin. Before the fix the flip left negative isolated margin, the bankruptcy
    price became one tick, ADL closed w's long at $0.01 and the fund went from 0 to −$2.51."""
    ex = Exchange([Instrument.preset("ETH")], insurance_fund=0, mark_method="index")
    ex.set_index("ETH", 4000)
    mm, x, w = (ex.open_account(d) for d in (1_000_000, 5_000, 1_000_000))
    ex.set_margin_mode(x, "ETH", "isolated")
    steps = [lambda: ex.place(mm, "ETH", "sell", 1.4, 4050, leverage=20),
             lambda: ex.place(x, "ETH", "buy", 1.4, None, leverage=20),
             lambda: ex.place(x, "ETH", "sell", 1.5, 3580, leverage=20),
             lambda: ex.place(w, "ETH", "buy", 1.5, None, leverage=20)]
    for step in steps:  # a fixed engine may refuse a step (typed, unchanged); none may break
        attempt(ex, step)
        invariants.isolated_margin_nonnegative(ex)
        invariants.money_conserved(ex)
    events = ex.settle()
    for f in ex.funds.ids:
        assert ex.acc.w[f] >= ex.funds.floor, \
            f"fund at {ex.acc.w[f] / 1e6:+.2f} USD, below its floor {ex.funds.floor / 1e6} USD"
    invariants.isolated_margin_nonnegative(ex)
    assert ex.total_money() == ex.net_deposits
    # no winner is closed at a price no market could mean (one tick)
    assert not [e for e in events if isinstance(e, AdlFill) and e.price <= 1], events
    invariants.check_after_settle(ex, events)


# --- I2 ------------------------------------------------------------------------------------------
def _deep_bankrupt_long(policy, victim_keeps_position):
    """BTC at 70,000 after a gap from 100,000. L: an isolated 50× long of 1 BTC from 100,000 on
    $2,000 of margin (equity −$28,000: bankrupt at 98,000). S: a short opened near the mark
    (70,100), in profit at the mark, on a thin wallet: the only short, so ADL must take it. With
    ``victim_keeps_position`` S is short 2 BTC (M long the other one), so ADL leaves it open."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index",
                  adl_policy=policy)
    ex.set_index("BTC", 100_000)
    L, S, M = ex.open_account(2_000), ex.open_account(1_500), ex.open_account(100_000)
    for a in (L, S):
        ex.set_leverage(a, "BTC", 50)
    ex.set_index("BTC", 70_000)
    ex.settle()
    s_lots = -2_000 if victim_keeps_position else -1_000
    accounts, lots = [L, S], [1_000, s_lots]
    if victim_keeps_position:
        accounts.append(M)
        lots.append(1_000)
    ex.seed_positions(0, np.array(accounts), np.array(lots),
                      np.array([1_000_000] + [701_000] * (len(accounts) - 1)),
                      np.array([2_000_000_000] + [0] * (len(accounts) - 1)))
    assert ex.total_money() == ex.net_deposits
    assert ex.equity_units(L) < -20_000 * 10**6  # deeply bankrupt
    assert ex.equity_units(S) > 0 and ex.pools.upnl(0, S) > 0  # the short is in profit at the mark
    return ex, L, S, M


@pytest.mark.parametrize("victim_keeps_position", [False, True], ids=["victim-flat", "victim-open"])
@pytest.mark.parametrize("policy", POLICIES)
def test_i2_adl_never_leaves_its_counterparty_under_water(policy, victim_keeps_position):
    ex, L, S, M = _deep_bankrupt_long(policy, victim_keeps_position)
    events = ex.settle()
    victims = sorted({e.counterparty for e in events if isinstance(e, AdlFill)})
    for a in victims:
        if ex.acc.is_fund[a]:
            continue
        eq = ex.equity_units(a)
        assert eq >= 0, f"ADL victim {a} left at {eq / 1e6:+,.2f} USD (victims {victims})"
        cross = [s for s in range(len(ex.symbols)) if ex.acc.q[s, a] and not ex.acc.isov[s, a]]
        if cross:
            pool = ex.acc.w[a] + sum(ex.pools.upnl(s, a) for s in cross)
            assert pool >= 0, \
                f"ADL victim {a}'s cross pool at {pool / 1e6:+,.2f} USD, positions open"
    assert ex.equity_units(S) >= 0, f"the short S ends at {ex.equity_units(S) / 1e6:+,.2f} USD"
    assert ex.total_money() == ex.net_deposits
    invariants.funds_above_floor(ex)
    invariants.check_after_settle(ex, events)


def _btc_eth_with_a_50_usd_eth_fund():
    """BTC at 100,000 and ETH at 4,000 (no fees); the BTC fund holds 1M USD, the ETH fund 50."""
    from .conftest import fee_free
    ex = Exchange([fee_free("BTC"), fee_free("ETH")], insurance_fund={"BTC": 1_000_000, "ETH": 50},
                  mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.set_index("ETH", 4_000)
    ex.settle()
    return ex


def test_i2_adl_against_a_fund_keeps_its_cash_at_the_floor():
    """Found by the fuzz (drift, seed 103): ADL takes from a fund what its *equity* can carry, but
    the fund's cash pays the realized loss while the gain that covers it stays unrealized on the
    rest of its position, so the cash goes below the floor. Here: the ETH fund (50 USD) takes over
    L's 1 ETH long at 3,790; S (short 0.3 ETH from 4,000 and 1 BTC from 100,000) goes bankrupt on a
    BTC jump, its ETH short's bankruptcy price is 3,049, and the fund is its only counterparty."""
    ex = _btc_eth_with_a_50_usd_eth_fund()
    mm, L, S = ex.open_account(10_000_000), ex.open_account(210), ex.open_account(6_000)
    ex.place(mm, "BTC", "buy", 1, 100_000)
    ex.place(S, "BTC", "sell", 1, None)
    ex.place(S, "ETH", "sell", 0.3, 4_000)
    ex.place(mm, "ETH", "sell", 0.7, 4_000)
    ex.place(L, "ETH", "buy", 1, None)
    ex.set_index("ETH", 3_800)
    invariants.check_after_settle(ex, ex.settle())
    f = ex.fund_account("ETH")
    assert ex.acc.q[1, f] > 0, "the ETH fund should have taken L's long over"
    ex.set_index("BTC", 130_000)
    events = ex.settle()
    assert ex.acc.w[f] >= ex.funds.floor, \
        f"ETH fund cash {ex.acc.w[f] / 1e6:+,.6f} USD below its floor " \
        f"(position {ex.acc.q[1, f]} lots)"
    invariants.check_after_settle(ex, events)


def test_i2_a_fund_left_holding_a_bankrupt_remainder_is_not_adld_below_its_floor():
    """Found by the fuzz (binance, seed 203): the ETH fund (50 USD) holds L's 1 ETH long from 3,790
    and the ETH gap to 3,000 makes it bankrupt (its bankruptcy price 3,740). Its only counterparty,
    T (short 1 ETH from 3,800, long 1 BTC on a cross wallet the BTC fall drained), can carry 0.675
    ETH at 3,740; the fund keeps 0.325 ETH it cannot pay for. T, now at maintenance, is liquidated
    and its ETH short ADL'd against that remainder at ~3,000 — far below the fund's bankruptcy
    price, and nothing limits it because the price is not worse than the mark: the fund's cash goes
    to −240 USD."""
    ex = _btc_eth_with_a_50_usd_eth_fund()
    mm, L, T = ex.open_account(10_000_000), ex.open_account(210), ex.open_account(5_200)
    ex.place(mm, "ETH", "sell", 1, 4_000)
    ex.place(L, "ETH", "buy", 1, None)
    ex.set_index("ETH", 3_800)
    invariants.check_after_settle(ex, ex.settle())
    f = ex.fund_account("ETH")
    assert ex.acc.q[1, f] == 1_000, "the ETH fund should have taken L's long over"
    ex.place(mm, "ETH", "buy", 1, 3_800)
    ex.place(T, "ETH", "sell", 1, None)
    ex.place(mm, "BTC", "sell", 1, 100_000)
    ex.place(T, "BTC", "buy", 1, None)
    ex.set_index("ETH", 3_000)
    ex.set_index("BTC", 94_500)
    events = ex.settle()
    assert ex.acc.w[f] >= ex.funds.floor, \
        f"ETH fund cash {ex.acc.w[f] / 1e6:+,.6f} USD below its floor " \
        f"(position {ex.acc.q[1, f]} lots)"
    invariants.check_after_settle(ex, events)


# --- I3 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fund", [0, 1_000_000])
def test_i3_a_close_past_the_margin_is_covered_or_reported_as_bad_debt(fund):
    """A's 50× cross long of 1 BTC from 100,000 is healthy at 98,500 (equity ~$550); the only bid
    is at 97,000, and A closes into it before the next settle: −$3,000 on a $2,100 deposit leaves
    A flat with about −$950 in its wallet. After the settle either the fund made A whole or the
    deficit is reported: ``bad_debt_units()`` = Σ negative wallets with nothing cross open + any
    fund's shortfall below its floor."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=fund, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    A, mm, B = ex.open_account(2_100), ex.open_account(1_000_000), ex.open_account(1_000_000)
    ex.place(mm, "BTC", "sell", 1, 100_000)
    ex.place(A, "BTC", "buy", 1, None, leverage=50)
    ex.set_index("BTC", 98_500)
    ex.settle()
    assert ex.acc.q[0, A] == 1_000, "A should still be open at 98,500"
    ex.place(B, "BTC", "buy", 1, 97_000)
    attempt(ex, lambda: ex.close_position(A, "BTC"))
    invariants.money_conserved(ex)
    events = ex.settle()
    assert hasattr(ex, "bad_debt_units"), "Exchange.bad_debt_units() does not exist"
    wallet = int(ex.acc.w[A])
    reported = ex.bad_debt_units()
    expected = sum(invariants.unreported_deficits(ex).values()) + invariants.fund_shortfall(ex)
    assert wallet >= 0 or reported >= -wallet, \
        f"A ends at {wallet / 1e6:+,.2f} USD, bad debt reported {reported / 1e6:,.2f} USD"
    assert reported == expected, f"bad_debt_units() {reported} != {expected} ({events})"
    invariants.check_after_settle(ex, events)
    if fund:  # a fund of $1M can carry a deficit of ~$950: nothing should be left owed
        assert wallet >= 0 and reported == 0


@pytest.mark.parametrize("ask_rests", [True, False], ids=["into-an-ask", "resting-bid"])
def test_opening_check_counts_the_loss_against_the_mark(ask_rests):
    """A buy 72% above the mark at 50× has its initial margin at its own price, but buying there
    loses 42% of the notional at once: refused (margin counting the open loss, or a price band)."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, a = ex.open_account(1_000_000), ex.open_account(500)
    if ask_rests:
        ex.place(mm, "BTC", "sell", 0.1, 172_000)
    refused(ex, lambda: ex.place(a, "BTC", "buy", 0.1, 172_000, leverage=50),
            InsufficientMargin, OrderRejected)
    invariants.check_always(ex)


def _long_position():
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, a = ex.open_account(1_000_000), ex.open_account(1_000)
    ex.place(mm, "BTC", "sell", 0.01, 100_000)
    ex.place(a, "BTC", "buy", 0.01, None, leverage=20)
    assert ex.acc.q[0, a] == 10
    return ex, mm, a


def test_a_sell_at_1e15_is_refused_without_reserving_order_margin():
    """A closing sell at 1e15 USD used to rest and reserve $500 billion of order margin."""
    ex, _, a = _long_position()
    om = int(ex.acc.om[a])
    refused(ex, lambda: ex.place(a, "BTC", "sell", 0.01, 1e15))
    assert int(ex.acc.om[a]) == om
    invariants.check_always(ex)


@pytest.mark.parametrize("price", [500_000, 50_000_000, 10**11])
def test_a_closing_order_at_an_absurd_price_reserves_no_order_margin(price):
    """A sell that only closes a long, at a price far above the mark: refused, or resting without
    reserving margin (it cannot open anything)."""
    ex, _, a = _long_position()
    om = int(ex.acc.om[a])
    out = attempt(ex, lambda: ex.place(a, "BTC", "sell", 0.01, price))
    if not isinstance(out, CrashfloorError):
        assert int(ex.acc.om[a]) == om, \
            f"a closing sell at {price:,} reserved {(int(ex.acc.om[a]) - om) / 1e6:,.2f} USD"
    invariants.check_always(ex)


def test_a_buy_72pct_above_the_mark_with_money_for_its_open_loss():
    """With money for the open loss the margin check may pass; the band (wide on purpose) may
    refuse it or not. Either way a refusal changes nothing, and an accepted order leaves the
    account with its margin available and every invariant whole."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, a = ex.open_account(1_000_000), ex.open_account(1_000_000)
    ex.place(mm, "BTC", "sell", 0.1, 172_000)
    out = attempt(ex, lambda: ex.place(a, "BTC", "buy", 0.1, 172_000, leverage=50))
    if not isinstance(out, CrashfloorError):
        assert ex.available_units(a) >= 0
    events = ex.settle()
    invariants.check_after_settle(ex, events)


# --- E3 / E4 -------------------------------------------------------------------------------------
@pytest.fixture
def book_ex():
    """mm quotes 1 BTC each side of 100,000; a is long 0.1 BTC and rests a closing sell and a
    reduce-only sell above the book."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    ex.mm = ex.open_account(1_000_000)
    ex.a = ex.open_account(10_000)
    ex.place(ex.mm, "BTC", "sell", 0.1, 100_000)
    ex.place(ex.a, "BTC", "buy", 0.1, None)
    ex.orders = {"opening": ex.place(ex.mm, "BTC", "sell", 1, 100_100),
                 "bid": ex.place(ex.mm, "BTC", "buy", 1, 99_900),
                 "closing": ex.place(ex.a, "BTC", "sell", 0.05, 101_000),
                 "reduce-only": ex.place(ex.a, "BTC", "sell", 0.05, 101_000, reduce_only=True)}
    return ex


@pytest.mark.parametrize("kind", ["opening", "bid", "closing", "reduce-only"])
@pytest.mark.parametrize("kw", [{"price": 2**63}, {"price": 2**63 - 1}, {"price": 10**15},
                                {"qty": 2**63}, {"qty": 10**15}, {"price": 2**63, "qty": 2**63},
                                {"price": 1e300}],
                         ids=["price-2^63", "price-2^63-1", "price-1e15", "qty-2^63", "qty-1e15",
                              "both-2^63", "price-1e300"])
def test_e3_amend_to_an_absurd_value_is_typed_and_changes_nothing(book_ex, kw, kind):
    """``amend(oid, price=2**63)`` used to change the book and then raise (or, for a reduce-only
    order, rest at 2⁶³ ticks and overflow in a later fill)."""
    ex = book_ex
    refused(ex, lambda: ex.amend(ex.orders[kind], **kw))
    invariants.check_always(ex)
    ex.settle()  # and nothing is left to overflow later
    invariants.check_always(ex)


@pytest.mark.parametrize("price", [2**62, 2**63, 10**15])
def test_e3_no_order_rests_where_a_fill_would_overflow(book_ex, price):
    ex = book_ex
    out = attempt(ex, lambda: ex.place(ex.a, "BTC", "sell", 0.001, price))
    assert isinstance(out, CrashfloorError), f"a sell at {price} rests (order {out})"
    invariants.check_always(ex)


def _a_long_a_tenth_btc():
    """(exchange, b, a): a is long 0.1 BTC at 100,000 (20x); b has 1M USD to bid with."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, b, a = (ex.open_account(d) for d in (1_000_000, 1_000_000, 10_000))
    ex.place(mm, "BTC", "sell", 0.1, 100_000)
    ex.place(a, "BTC", "buy", 0.1, None, leverage=20)
    return ex, b, a


@pytest.mark.parametrize("bid_qty", [0.1, 0.05, 0.2], ids=["fills", "partly", "bigger-bid"])
def test_e4_amending_a_reduce_only_order_so_that_it_fills(bid_qty):
    """A's reduce-only sell rests above the bid; amended down through the bid it fills (all, or in
    part). It used to raise TypeError in ``_trim_reduce_only`` and leave the order in ``_orders``
    but in no book."""
    ex, b, a = _a_long_a_tenth_btc()
    ro = ex.place(a, "BTC", "sell", 0.1, 101_000, reduce_only=True)
    ex.place(b, "BTC", "buy", bid_qty, 99_900)
    attempt(ex, lambda: ex.amend(ro, price=99_900))
    invariants.check_always(ex)
    filled = min(100, round(bid_qty * 1000))
    if ex.acc.q[0, a] != 100:  # the amend went through
        assert ex.acc.q[0, a] == 100 - filled
        if ex.acc.q[0, a] == 0:
            assert ex.order(ro) is None
    events = ex.settle()
    invariants.check_after_settle(ex, events)


def test_e4_amending_a_reduce_only_order_up_and_through_the_book():
    ex, b, a = _a_long_a_tenth_btc()
    r1 = ex.place(a, "BTC", "sell", 0.05, 101_000, reduce_only=True)
    r2 = ex.place(a, "BTC", "sell", 0.05, 102_000, reduce_only=True)
    ex.place(b, "BTC", "buy", 0.3, 99_900)
    for oid, kw in ((r2, {"qty": 0.1}), (r2, {"price": 99_900}),
                    (r1, {"price": 99_900, "qty": 0.1}), (r1, {"price": 99_900})):
        attempt(ex, lambda: ex.amend(oid, **kw))
        invariants.check_always(ex)
    events = ex.settle()
    invariants.check_after_settle(ex, events)


# --- E1 / E2 / E5 --------------------------------------------------------------------------------
@pytest.fixture
def ex2():
    ex = Exchange([Instrument.preset("BTC"), Instrument.preset("ETH")], insurance_fund=1_000,
                  mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.set_index("ETH", 4_000)
    ex.settle()
    ex.mm = ex.open_account(1_000_000)
    ex.a = ex.open_account(10_000)
    ex.place(ex.mm, "BTC", "sell", 1, 100_100)
    ex.place(ex.mm, "BTC", "buy", 1, 99_900)
    ex.place(ex.a, "BTC", "buy", 0.01, None)
    ex.settle()
    return ex


UNTYPED = [
    ("place side=[]", lambda ex: ex.place(ex.a, "BTC", [], 0.001, 100_000)),
    ("place side={}", lambda ex: ex.place(ex.a, "BTC", {}, 0.001, 100_000)),
    ("place tif={}", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif={})),
    ("place tif=[]", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif=[])),
    ("deposit 1e13", lambda ex: ex.deposit(ex.a, 1e13)),
    ("deposit 10**13", lambda ex: ex.deposit(ex.a, 10**13)),
    ("open_account 1e13", lambda ex: ex.open_account(1e13)),
    ("set_index 1e20", lambda ex: ex.set_index("BTC", 1e20)),
    ("set_index 2**63", lambda ex: ex.set_index("BTC", 2**63)),
    ("l2 n=nan", lambda ex: ex.l2("BTC", n=float("nan"))),
    ("l2 n=None", lambda ex: ex.l2("BTC", n=None)),
    ("depth_usd pct=None", lambda ex: ex.depth_usd("BTC", pct=None)),
    ("depth_usd pct=nan", lambda ex: ex.depth_usd("BTC", pct=math.nan)),
    ("depth_usd pct='1'", lambda ex: ex.depth_usd("BTC", pct="1")),
]


@pytest.mark.parametrize("name,call", UNTYPED, ids=[c[0] for c in UNTYPED])
def test_e1_e2_e5_hostile_values_give_typed_errors(ex2, name, call):
    err = refused(ex2, lambda: call(ex2))
    assert isinstance(err, ValueError), \
        f"{type(err).__name__} is an input error: it should subclass ValueError"
    ex2.settle()  # nothing was accepted that overflows later
    invariants.check_always(ex2)


def test_e5_index_at_the_largest_price_settles_without_overflow(ex2):
    """Positions open, the index jumps to the largest price the exchange accepts (or is refused):
    settle values everything without an untyped error, and money stays conserved."""
    from engine import units
    cap = getattr(units, "MAX_PRICE_TICKS", 10**12)
    for ticks in (cap, cap // 10, 1):
        out = attempt(ex2, lambda: ex2.set_index("BTC", Decimal(ticks) * Decimal("0.1")))
        if isinstance(out, CrashfloorError):
            continue
        events = ex2.settle()
        invariants.check_after_settle(ex2, events)


# --- amounts near the int64 edge -----------------------------------------------------------------
@pytest.mark.parametrize("how", ["open_account", "deposit"])
def test_many_balances_at_max_usd_keep_money_conserved(how):
    """Each balance is capped at MAX_USD (1e18 money units), but twelve of them sum past int64:
    either the exchange refuses the one that would (typed, unchanged) or its money still adds up
    (``total_money()`` used to wrap around to −6.4e18)."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    ids = [ex.open_account(0) for _ in range(12)] if how == "deposit" else []
    for k in range(12):
        call = (lambda: ex.open_account(10**12)) if how == "open_account" \
            else (lambda: ex.deposit(ids[k], 10**12))
        out = attempt(ex, call)
        if isinstance(out, CrashfloorError):
            break
        assert ex.total_money() == ex.net_deposits, \
            f"after {k + 1} balances of MAX_USD: total_money {ex.total_money()} " \
            f"!= {ex.net_deposits}"
    a, b = (ids or list(range(len(ex.funds.ids), ex.acc.n)))[:2]
    attempt(ex, lambda: ex.place(a, "BTC", "sell", 1, 100_000))
    attempt(ex, lambda: ex.place(b, "BTC", "buy", 1, None))
    events = ex.settle()
    invariants.check_after_settle(ex, events)


def test_an_index_jump_that_would_overflow_a_valuation_is_refused():
    """Found by the stateful test: a DOGE short of 614,896 lots and the index set to the 1e12-tick
    cap valued it past int64 sums, and the margin scan and a full valuation disagreed. A price
    that more than doubles at once is checked against the largest open position."""
    from engine.errors import InvalidInput
    from engine.units import MAX_PRICE_TICKS
    ex = Exchange([Instrument.preset("DOGE")], insurance_fund=0, mark_method="index")
    ex.set_index("DOGE", 0.25)
    ex.settle()
    mm, a = ex.open_account(10_000_000), ex.open_account(1_000_000)
    ex.place(mm, "DOGE", "buy", 614_896, 0.25)
    ex.place(a, "DOGE", "sell", 614_896, None, leverage=10)
    before = ex.checksum()
    with pytest.raises(InvalidInput, match="would value a position"):
        ex.set_index_ticks(0, MAX_PRICE_TICKS)
    assert ex.checksum() == before
    ex.set_index("DOGE", 0.5)  # a doubling is a price, not an overflow
    invariants.check_after_settle(ex, ex.settle())


def test_a_ladder_with_a_quote_of_no_lots_is_refused_whole(make_exchange):
    """The makers' bulk paths refuse bad input before changing anything: a ladder with a quote of
    no lots (even one that would cross and be skipped), and a bulk cancel naming another
    symbol's order; a repeated id is cancelled once."""
    from engine.book import BUY, SELL
    from engine.errors import InvalidInput
    ex = make_exchange(("BTC", "ETH"))
    ex.set_index("BTC", 100_000)
    ex.set_index("ETH", 4_000)
    a = ex.open_account(1_000_000)
    mark = ex.marks.mark[0]
    before = (ex.ledger.next_oid, ex.books[0].order_ids(), int(ex.acc.om[a]))
    with pytest.raises(InvalidInput, match="lots > 0"):
        ex.place_ladder(a, 0, [(BUY, 5, mark - 100), (SELL, 0, mark - 20)])
    assert (ex.ledger.next_oid, ex.books[0].order_ids(), int(ex.acc.om[a])) == before
    ids = ex.place_ladder(a, 0, [(BUY, 5, mark - 100), (SELL, 5, mark + 100)])
    eth = ex.place_ladder(a, 1, [(BUY, 5, ex.marks.mark[1] - 10)])
    with pytest.raises(InvalidInput, match="not in BTC"):
        ex.ledger.cancel_many(0, ids + eth, "requote")
    assert ex.books[0].order_ids() == ids and set(ids + eth) <= set(ex.ledger.orders)
    ex.ledger.cancel_many(0, [ids[0], ids[0], ids[1]], "requote")
    assert ex.books[0].order_ids() == [] and ex.ledger.orders.keys() == set(eth)
    assert ex.acc.om[a] == ex.ledger.orders[eth[0]].margin
