"""Every public call validates: a typed error naming the value and what is allowed, and the state
(checksum) unchanged."""

import math

import pytest

from engine import (InsufficientMargin, InvalidInput, LeverageError, OffGridError, OrderRejected,
                    ReduceOnlyError, UnknownAccount, UnknownOrder, UnknownSymbol)
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
