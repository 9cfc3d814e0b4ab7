"""Every public call validates: a typed error naming the value and what is allowed, and the state
(checksum) unchanged."""

import math
from decimal import Decimal

import numpy as np
import pytest

from engine import (CrashfloorError, InsufficientMargin, InvalidInput, LeverageError, OffGridError,
                    OrderRejected, ReduceOnlyError, UnknownAccount, UnknownOrder, UnknownSymbol)
from engine.errors import MarginModeError


@pytest.fixture
def ex(make_exchange):
    ex = make_exchange(symbols=("BTC", "DOGE"))
    ex.set_index("BTC", 100_000)
    ex.set_index("DOGE", 0.25)
    ex.a = ex.open_account(1_000)
    ex.b = ex.open_account(1_000_000)
    ex.resting = ex.place(ex.b, "BTC", "sell", 1, 100_100)
    ex.settle()
    return ex


CASES = [
    ("unknown symbol", lambda ex: ex.place(ex.a, "XRP", "buy", 1, 1), UnknownSymbol, "'XRP'"),
    ("unknown account", lambda ex: ex.place(999, "BTC", "buy", 0.001, 100_000), UnknownAccount,
     "999"),
    ("fund is no account", lambda ex: ex.place(0, "BTC", "buy", 0.001, 100_000), UnknownAccount,
     "0"),
    ("unknown order", lambda ex: ex.cancel(12345), UnknownOrder, "12345"),
    ("bad side", lambda ex: ex.place(ex.a, "BTC", "up", 0.001, 100_000), InvalidInput, "'up'"),
    ("bad tif", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif="day"), InvalidInput,
     "'day'"),
    ("off-grid price", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000.05), OffGridError,
     "100000.05"),
    ("off-grid qty", lambda ex: ex.place(ex.a, "BTC", "buy", 0.0005, 100_000), OffGridError,
     "0.0005"),
    ("zero qty", lambda ex: ex.place(ex.a, "BTC", "buy", 0, 100_000), InvalidInput, "0"),
    ("negative price", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, -5), InvalidInput, "-5"),
    ("NaN qty", lambda ex: ex.place(ex.a, "BTC", "buy", math.nan, 100_000), InvalidInput, "nan"),
    ("infinite price", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, math.inf), InvalidInput,
     "inf"),
    ("string junk", lambda ex: ex.place(ex.a, "BTC", "buy", "lots", 100_000), InvalidInput,
     "'lots'"),
    ("leverage above bracket", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000,
                                                   leverage=150), LeverageError, "150"),
    ("insufficient margin", lambda ex: ex.place(ex.a, "BTC", "buy", 1, 100_000, leverage=20),
     InsufficientMargin, "5,000.00 USD"),
    ("reduce-only without position", lambda ex: ex.place(ex.a, "BTC", "sell", 0.001, 100_000,
                                                         reduce_only=True), ReduceOnlyError,
     "0 lots"),
    ("post-only crossing", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_100,
                                               tif="post_only"), OrderRejected, "1001000"),
    ("withdraw too much", lambda ex: ex.withdraw(ex.a, 5_000), InsufficientMargin, "5,000"),
    ("negative deposit", lambda ex: ex.deposit(ex.a, -1), InvalidInput, "-1"),
    ("bad margin mode", lambda ex: ex.set_margin_mode(ex.a, "BTC", "portfolio"), InvalidInput,
     "'portfolio'"),
    ("mode switch with orders", lambda ex: ex.set_margin_mode(ex.b, "BTC", "isolated"),
     MarginModeError, "open"),
    ("add margin without isolated position", lambda ex: ex.add_margin(ex.a, "BTC", 10),
     MarginModeError, "isolated"),
    ("amend unknown", lambda ex: ex.amend(999, 100_000), UnknownOrder, "999"),
    ("amend off-grid", lambda ex: ex.amend(ex.resting, 100_000.01), OffGridError, "100000.01"),
    ("index off-grid", lambda ex: ex.set_index("DOGE", 0.250001), OffGridError, "0.250001"),
    ("leverage not int", lambda ex: ex.set_leverage(ex.a, "BTC", 2.5), LeverageError, "2.5"),
    ("market fok", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, None, tif="fok"), InvalidInput,
     "fok"),
]


@pytest.mark.parametrize("name,call,error,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_typed_error_and_changes_nothing(ex, name, call, error, needle):
    before = ex.checksum()
    money = ex.total_money()
    with pytest.raises(error) as info:
        call(ex)
    assert needle in str(info.value)
    assert ex.checksum() == before
    assert ex.total_money() == money


def test_error_hierarchy():
    assert issubclass(OffGridError, ValueError) and issubclass(InsufficientMargin, ValueError)
    assert issubclass(UnknownOrder, LookupError) and issubclass(UnknownSymbol, LookupError)


def test_cancelling_twice_changes_nothing(ex):
    ex.cancel(ex.resting)
    before = ex.checksum()
    with pytest.raises(UnknownOrder):
        ex.cancel(ex.resting)
    assert ex.checksum() == before


# --- hostile single calls (issue 11, E1–E5) ------------------------------------------------------
# Every public call with values of the wrong type, non-finite, or near the int64 edge: a typed
# error (a CrashfloorError; bad values also ValueError, unknown ids also LookupError), state
# unchanged. MUST lists calls that have to be refused; MAY lists calls the engine may accept or
# refuse, but never with an untyped error or a changed state on refusal.
BIG = [2**63, 2**63 - 1, 2**64, 10**30]

MUST = [
    ("place side=[]", lambda ex: ex.place(ex.a, "BTC", [], 0.001, 100_000)),
    ("place side={}", lambda ex: ex.place(ex.a, "BTC", {}, 0.001, 100_000)),
    ("place side=None", lambda ex: ex.place(ex.a, "BTC", None, 0.001, 100_000)),
    ("place side=1.5", lambda ex: ex.place(ex.a, "BTC", 1.5, 0.001, 100_000)),
    ("place tif={}", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif={})),
    ("place tif=[]", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif=[])),
    ("place tif=None", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, tif=None)),
    ("place qty=[]", lambda ex: ex.place(ex.a, "BTC", "buy", [], 100_000)),
    ("place qty=None", lambda ex: ex.place(ex.a, "BTC", "buy", None, 100_000)),
    ("place qty=True", lambda ex: ex.place(ex.a, "BTC", "buy", True, 100_000)),
    ("place qty=Decimal(NaN)", lambda ex: ex.place(ex.a, "BTC", "buy", Decimal("NaN"), 100_000)),
    ("place qty=Decimal(sNaN)", lambda ex: ex.place(ex.a, "BTC", "buy", Decimal("sNaN"), 100_000)),
    ("place qty='1e400'", lambda ex: ex.place(ex.a, "BTC", "buy", "1e400", 100_000)),
    ("place price={}", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, {})),
    ("place price=-inf", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, -math.inf)),
    ("place price=1e-300", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 1e-300)),
    *[(f"place qty={b}", lambda ex, b=b: ex.place(ex.a, "BTC", "buy", b, 100_000)) for b in BIG],
    *[(f"place market qty={b}", lambda ex, b=b: ex.place(ex.b, "BTC", "sell", b)) for b in BIG],
    *[(f"place price={b}", lambda ex, b=b: ex.place(ex.b, "BTC", "sell", 0.001, b)) for b in BIG],
    ("place price=1e15", lambda ex: ex.place(ex.b, "BTC", "sell", 0.01, 1e15)),
    ("place leverage=[]", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, leverage=[])),
    ("place leverage='20'", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000,
                                                leverage="20")),
    ("place leverage=2.5", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, leverage=2.5)),
    ("place leverage=0", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000, leverage=0)),
    ("place leverage=True", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000,
                                                leverage=True)),
    ("place leverage=2**63", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 100_000,
                                                 leverage=2**63)),
    ("place account=-1", lambda ex: ex.place(-1, "BTC", "buy", 0.001, 100_000)),
    ("place account=True", lambda ex: ex.place(True, "BTC", "buy", 0.001, 100_000)),
    ("place account=2**70", lambda ex: ex.place(2**70, "BTC", "buy", 0.001, 100_000)),
    ("place account='1'", lambda ex: ex.place("1", "BTC", "buy", 0.001, 100_000)),
    ("place account=None", lambda ex: ex.place(None, "BTC", "buy", 0.001, 100_000)),
    ("place account=np.int64(999)", lambda ex: ex.place(np.int64(999), "BTC", "buy", 0.001,
                                                        100_000)),
    ("place symbol=None", lambda ex: ex.place(ex.a, None, "buy", 0.001, 100_000)),
    ("place symbol=[]", lambda ex: ex.place(ex.a, [], "buy", 0.001, 100_000)),
    ("place symbol='btc'", lambda ex: ex.place(ex.a, "btc", "buy", 0.001, 100_000)),
    ("place symbol=b'BTC'", lambda ex: ex.place(ex.a, b"BTC", "buy", 0.001, 100_000)),
    ("deposit 1e13", lambda ex: ex.deposit(ex.a, 1e13)),
    ("deposit 10**13", lambda ex: ex.deposit(ex.a, 10**13)),
    ("deposit MAX_USD+1", lambda ex: ex.deposit(ex.a, 10**12 + 1)),
    *[(f"deposit {b}", lambda ex, b=b: ex.deposit(ex.a, b)) for b in BIG],
    ("deposit nan", lambda ex: ex.deposit(ex.a, math.nan)),
    ("deposit None", lambda ex: ex.deposit(ex.a, None)),
    ("deposit []", lambda ex: ex.deposit(ex.a, [])),
    ("deposit off-grid", lambda ex: ex.deposit(ex.a, Decimal("1e-7"))),
    ("deposit to a fund", lambda ex: ex.deposit(0, 1)),
    ("open_account 1e13", lambda ex: ex.open_account(1e13)),
    ("open_account nan", lambda ex: ex.open_account(math.nan)),
    ("open_account leverage=0", lambda ex: ex.open_account(1, leverage=0)),
    ("open_account leverage=126", lambda ex: ex.open_account(1, leverage=126)),
    ("open_account leverage=2.0", lambda ex: ex.open_account(1, leverage=2.0)),
    ("withdraw 1e13", lambda ex: ex.withdraw(ex.a, 1e13)),
    ("withdraw nan", lambda ex: ex.withdraw(ex.a, math.nan)),
    ("withdraw None", lambda ex: ex.withdraw(ex.a, None)),
    ("withdraw 2**63", lambda ex: ex.withdraw(ex.a, 2**63)),
    ("set_leverage None", lambda ex: ex.set_leverage(ex.a, "BTC", None)),
    ("set_leverage '20'", lambda ex: ex.set_leverage(ex.a, "BTC", "20")),
    ("set_leverage 2**63", lambda ex: ex.set_leverage(ex.a, "BTC", 2**63)),
    ("set_leverage -5", lambda ex: ex.set_leverage(ex.a, "BTC", -5)),
    ("set_margin_mode None", lambda ex: ex.set_margin_mode(ex.a, "BTC", None)),
    ("set_margin_mode []", lambda ex: ex.set_margin_mode(ex.a, "BTC", [])),
    ("set_margin_mode ISOLATED", lambda ex: ex.set_margin_mode(ex.a, "BTC", "ISOLATED")),
    ("add_margin nan", lambda ex: ex.add_margin(ex.a, "BTC", math.nan)),
    ("remove_margin 1e13", lambda ex: ex.remove_margin(ex.a, "BTC", 1e13)),
    ("set_index 1e20", lambda ex: ex.set_index("BTC", 1e20)),
    *[(f"set_index {b}", lambda ex, b=b: ex.set_index("BTC", b)) for b in BIG],
    ("set_index 0", lambda ex: ex.set_index("BTC", 0)),
    ("set_index -1", lambda ex: ex.set_index("BTC", -1)),
    ("set_index nan", lambda ex: ex.set_index("BTC", math.nan)),
    ("set_index None", lambda ex: ex.set_index("BTC", None)),
    ("set_index 'x'", lambda ex: ex.set_index("BTC", "x")),
    ("set_index symbol=None", lambda ex: ex.set_index(None, 1)),
    ("cancel None", lambda ex: ex.cancel(None)),
    ("cancel '1'", lambda ex: ex.cancel("1")),
    ("cancel 2**70", lambda ex: ex.cancel(2**70)),
    ("cancel 1.0", lambda ex: ex.cancel(float(ex.resting))),
    ("cancel []", lambda ex: ex.cancel([])),
    ("amend price=2**63", lambda ex: ex.amend(ex.resting, price=2**63)),
    ("amend qty=2**63", lambda ex: ex.amend(ex.resting, qty=2**63)),
    ("amend price=nan", lambda ex: ex.amend(ex.resting, price=math.nan)),
    ("amend qty=0", lambda ex: ex.amend(ex.resting, qty=0)),
    ("amend price=[]", lambda ex: ex.amend(ex.resting, price=[])),
    ("amend oid=[]", lambda ex: ex.amend([], price=100_000)),
    ("cancel_all symbol=5", lambda ex: ex.cancel_all(ex.b, symbol=5)),
    ("cancel_all account=999", lambda ex: ex.cancel_all(999)),
    ("cancel_all account=None", lambda ex: ex.cancel_all(None)),
    ("close_position fraction=0", lambda ex: ex.close_position(ex.a, "BTC", 0)),
    ("close_position fraction=2", lambda ex: ex.close_position(ex.a, "BTC", 2)),
    ("close_position fraction=nan", lambda ex: ex.close_position(ex.a, "BTC", math.nan)),
    ("close_position fraction='half'", lambda ex: ex.close_position(ex.a, "BTC", "half")),
    ("close_position without position", lambda ex: ex.close_position(ex.a, "DOGE")),
    ("set_rules breaker=-1", lambda ex: ex.set_rules(adl_breaker_usd_per_min=-1)),
    ("set_rules breaker=1e13", lambda ex: ex.set_rules(adl_breaker_usd_per_min=1e13)),
    ("set_rules drop=nan", lambda ex: ex.set_rules(halt_drop_pct=math.nan)),
    ("set_rules drop='5'", lambda ex: ex.set_rules(halt_drop_pct="5")),
    ("set_rules drop=None", lambda ex: ex.set_rules(halt_drop_pct=None)),
    ("set_rules drop=100", lambda ex: ex.set_rules(halt_drop_pct=100)),
    ("set_rules window=0", lambda ex: ex.set_rules(halt_window_minutes=0)),
    ("set_rules window=1.5", lambda ex: ex.set_rules(halt_window_minutes=1.5)),
    ("set_rules minutes=True", lambda ex: ex.set_rules(halt_minutes=True)),
    ("resize_fund -1", lambda ex: ex.resize_fund("BTC", -1)),
    ("resize_fund unknown", lambda ex: ex.resize_fund("nope", 1)),
    ("resize_fund 1e13", lambda ex: ex.resize_fund("BTC", 1e13)),
    ("resize_fund nan", lambda ex: ex.resize_fund("BTC", math.nan)),
    ("resize_fund None", lambda ex: ex.resize_fund(None, 1)),
    ("l2 n=nan", lambda ex: ex.l2("BTC", n=math.nan)),
    ("l2 n=None", lambda ex: ex.l2("BTC", n=None)),
    ("l2 n='3'", lambda ex: ex.l2("BTC", n="3")),
    ("l2 n=2.5", lambda ex: ex.l2("BTC", n=2.5)),
    ("l2 symbol=None", lambda ex: ex.l2(None)),
    ("depth_usd pct=None", lambda ex: ex.depth_usd("BTC", pct=None)),
    ("depth_usd pct=nan", lambda ex: ex.depth_usd("BTC", pct=math.nan)),
    ("depth_usd pct=inf", lambda ex: ex.depth_usd("BTC", pct=math.inf)),
    ("depth_usd pct='1'", lambda ex: ex.depth_usd("BTC", pct="1")),
    ("position account=None", lambda ex: ex.position(None, "BTC")),
    ("position symbol=[]", lambda ex: ex.position(ex.a, [])),
    ("account 999", lambda ex: ex.account(999)),
    ("equity None", lambda ex: ex.equity(None)),
    ("open_orders []", lambda ex: ex.open_orders([])),
    ("mark_price None", lambda ex: ex.mark_price(None)),
    ("index_price []", lambda ex: ex.index_price([])),
    ("insurance_fund_balance None", lambda ex: ex.insurance_fund_balance(None)),
    ("instrument {}", lambda ex: ex.instrument({})),
]

MAY = [
    ("l2 n=0", lambda ex: ex.l2("BTC", n=0)),
    ("l2 n=-1", lambda ex: ex.l2("BTC", n=-1)),
    ("l2 n=2**63", lambda ex: ex.l2("BTC", n=2**63)),
    ("depth_usd pct=0", lambda ex: ex.depth_usd("BTC", pct=0)),
    ("depth_usd pct=-1", lambda ex: ex.depth_usd("BTC", pct=-1)),
    ("depth_usd pct=1000", lambda ex: ex.depth_usd("BTC", pct=1000)),
    ("order []", lambda ex: ex.order([])),
    ("order None", lambda ex: ex.order(None)),
    ("order '1'", lambda ex: ex.order("1")),
    ("place side=True", lambda ex: ex.place(ex.a, "BTC", True, 0.001, 99_000)),
    ("place reduce_only='yes'", lambda ex: ex.place(ex.a, "BTC", "buy", 0.001, 99_000,
                                                    reduce_only="yes")),
    ("place price at tick 1", lambda ex: ex.place(ex.b, "BTC", "buy", 0.001, 0.1)),
    ("place sell at 2x mark", lambda ex: ex.place(ex.b, "BTC", "sell", 0.001, 200_000)),
    ("deposit MAX_USD", lambda ex: ex.deposit(ex.a, 10**12)),
    ("open_account MAX_USD", lambda ex: ex.open_account(10**12)),
    ("close_position fraction=1e-9", lambda ex: ex.close_position(ex.a, "BTC", 1e-9)),
    ("set_index at the cap", lambda ex: ex.set_index("BTC", 10**11)),
    ("amend to the same values", lambda ex: ex.amend(ex.resting)),
    ("resize_fund to MAX_USD", lambda ex: ex.resize_fund("BTC", 10**12)),
]


@pytest.fixture
def hostile_ex(ex):
    """The bad-input exchange, with ``a`` holding a small BTC long (so closes and margin work)."""
    ex.place(ex.a, "BTC", "buy", 0.001, None)
    ex.settle()
    return ex


def _settles_cleanly(ex):
    from . import invariants
    events = ex.settle()
    invariants.check_after_settle(ex, events)


@pytest.mark.parametrize("name,call", MUST, ids=[c[0] for c in MUST])
def test_hostile_call_is_refused_typed_and_changes_nothing(hostile_ex, name, call):
    ex = hostile_ex
    before, money = ex.checksum(), ex.total_money()
    try:
        call(ex)
    except CrashfloorError as exc:
        assert isinstance(exc, (ValueError, LookupError)), type(exc).__mro__
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"untyped {type(exc).__name__}: {exc}")
    else:
        pytest.fail("accepted")
    assert ex.checksum() == before, "the refused call changed the state"
    assert ex.total_money() == money
    _settles_cleanly(ex)


@pytest.mark.parametrize("name,call", MAY, ids=[c[0] for c in MAY])
def test_edge_call_is_accepted_or_refused_typed(hostile_ex, name, call):
    ex = hostile_ex
    before = ex.checksum()
    try:
        call(ex)
    except CrashfloorError:
        assert ex.checksum() == before, "the refused call changed the state"
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"untyped {type(exc).__name__}: {exc}")
    _settles_cleanly(ex)
