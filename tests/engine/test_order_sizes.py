"""Order sizes travel as coins typed by a person, whole lots, or a whole-dollar notional that the
engine puts on the lot grid exactly; sides travel as ``Side`` (issue 12: no size is a string
made from a float)."""

import re

import pytest

from engine import Exchange, Instrument
from engine.book import Side
from engine.commands import (AmendOrder, CommandAccepted, CommandRejected, PlaceOrder, apply,
                             from_record, to_record)
from engine.errors import InvalidInput


def _book():
    """BTC marked at 100,000 (tick 0.1, lot 0.001) with 2 BTC offered; account a has $1M."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, a = ex.open_account(10_000_000), ex.open_account(1_000_000)
    ex.place(mm, "BTC", "sell", 2, 100_000)
    return ex, a


def test_a_dollar_sized_market_order_is_sized_down_to_whole_lots_at_the_mark():
    ex, a = _book()
    # $50,050 at 100,000 is 0.5005 BTC: 500 whole lots of 0.001 (never rounded up)
    outcome = apply(ex, PlaceOrder(a, "BTC", Side.BUY, tif="ioc", usd=50_050))
    assert isinstance(outcome, CommandAccepted)
    assert (outcome.asked, outcome.filled, outcome.position) == (500, 500, 500)


def test_a_dollar_sized_limit_is_sized_at_its_own_price_and_amends_by_dollars():
    ex, a = _book()
    outcome = apply(ex, PlaceOrder(a, "BTC", "buy", price="80000", usd=40_000))
    assert outcome.asked == 500 and str(ex.order(outcome.oid).qty) == "0.500"  # $40k at 80,000
    assert isinstance(apply(ex, AmendOrder(a, outcome.oid, "50000", usd=40_000)),
                      CommandAccepted)
    assert str(ex.order(outcome.oid).qty) == "0.800"  # $40k at 50,000


def test_a_lot_sized_order_trades_exactly_that_many_lots():
    ex, a = _book()
    outcome = apply(ex, PlaceOrder(a, "BTC", Side.BUY, tif="ioc", lots=1_234))
    assert (outcome.asked, outcome.filled) == (1_234, 1_234)


@pytest.mark.parametrize("sizes, message", [
    ({"qty": "0.5", "usd": 50_000}, "exactly one of qty"),
    ({}, "got none"),
    ({"usd": 50_000.5}, "usd must be a whole number of dollars"),
    ({"usd": 10}, r"\$10 is less than one lot of BTC"),
    ({"lots": 0}, "lots must be a whole number from 1"),
    ({"lots": "7"}, "lots must be a whole number from 1"),
])
def test_a_bad_size_is_refused_naming_what_is_allowed(sizes, message):
    ex, a = _book()
    outcome = apply(ex, PlaceOrder(a, "BTC", "buy", tif="ioc", **sizes))
    assert isinstance(outcome, CommandRejected)
    assert outcome.error == "InvalidInput"
    assert re.search(message, outcome.message), outcome.message


def test_sides_are_members_and_records_keep_their_words():
    cmd = PlaceOrder(3, "BTC", "sell", "0.5", "90000")
    assert cmd.side is Side.SELL and f"{cmd.side}" == "sell"
    record = to_record(cmd)
    assert record["side"] == "sell" and "lots" not in record and "usd" not in record
    assert from_record(record) == cmd
    assert from_record(to_record(PlaceOrder(3, "BTC", Side.BUY, usd=5))).usd == 5
    assert Side.parse("long") is Side.BUY and Side.parse(-1) is Side.SELL
    with pytest.raises(InvalidInput, match="side must be 'buy' or 'sell', got 'up'"):
        Side.parse("up")
