"""Stop and take-profit orders (engine/exchange/triggers.py), by hand.

BTC (fee-free preset): tick 0.1 USD, lot 0.001 BTC. The fixture's mark is the index, so a test
moves the price with ``set_index``. A long of 0.1 BTC at 100,000 with 1,000 USD of margin is
liquidated below 90,361.45 (tests/engine/test_waterfall.py works the numbers).
"""

from decimal import Decimal

import pytest

from engine.commands import CancelOrder, CommandAccepted, PlaceTrigger, apply
from engine.errors import InvalidInput, ReduceOnlyError, UnknownOrder
from engine.events import LiquidationStarted, OrderTriggered, Trade

from .test_waterfall import open_long


def _triggered(events):
    return [e for e in events if isinstance(e, OrderTriggered)]


def test_a_sell_stop_fires_at_its_trigger_and_closes_at_market(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    bidder = ex.open_account(100_000)
    ex.place(bidder, "BTC", "buy", 0.1, 94_000)
    stop = ex.place_trigger(a, "BTC", "sell", "stop", 95_000, 0.1, reduce_only=True)
    money = ex.total_money()
    ex.set_index("BTC", 95_100)
    assert _triggered(ex.settle()) == [] and ex.position(a, "BTC").lots == 100
    ex.set_index("BTC", 95_000)                      # reached: at or below the trigger
    events = ex.settle()
    (fired,) = _triggered(events)
    assert (fired.oid, fired.account, fired.kind, fired.trigger, fired.price, fired.error) == \
        (stop, a, "stop", 950_000, 950_000, "")
    fills = [(e.taker, e.maker, e.qty, e.price) for e in events if isinstance(e, Trade)]
    assert fills == [(a, bidder, 100, 940_000)]      # a market order: the best bid there is
    assert ex.position(a, "BTC").lots == 0 and stop not in ex.triggers.pending
    assert ex.equity(a) == Decimal("4400")           # 5,000 − 0.1 × (100,000 − 94,000)
    assert ex.total_money() == money


def test_a_take_profit_fires_on_the_way_up(make_exchange):
    ex = make_exchange()
    a, (short,) = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    seller = ex.open_account(100_000)
    ex.place(seller, "BTC", "sell", 0.1, 105_500)
    tp = ex.place_trigger(a, "BTC", "sell", "take_profit", 105_000, 0.1, reduce_only=True)
    ex.set_index("BTC", 104_900)
    assert _triggered(ex.settle()) == []
    # the take-profit sells into no bid: the market IOC finds nothing and the rest is gone
    buyer = ex.open_account(100_000)
    ex.place(buyer, "BTC", "buy", 0.1, 105_200)
    ex.set_index("BTC", 105_300)
    (fired,) = _triggered(ex.settle())
    assert fired.oid == tp and fired.new_oid is not None and fired.error == ""
    assert ex.position(a, "BTC").lots == 0


def test_a_stop_limit_becomes_a_resting_limit(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    ex.place_trigger(a, "BTC", "sell", "stop", 96_000, 0.1, price=95_500, reduce_only=True)
    ex.set_index("BTC", 95_900)
    (fired,) = _triggered(ex.settle())
    order = ex.order(fired.new_oid)
    assert order is not None and order.price == Decimal("95500") and order.qty == Decimal("0.1")


def test_the_stop_closes_the_long_before_its_liquidation_would(make_exchange):
    """Checked before the waterfall: the stop at 91,000 and the liquidation at 90,361 are both
    passed by a fall to 90,000; the stop goes first, so there is no liquidation."""
    ex = make_exchange()
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    bidder = ex.open_account(100_000)
    ex.place(bidder, "BTC", "buy", 0.1, 90_500)
    ex.place_trigger(a, "BTC", "sell", "stop", 91_000, 0.1, reduce_only=True)
    ex.set_index("BTC", 90_000)
    events = ex.settle()
    assert len(_triggered(events)) == 1
    assert not [e for e in events if isinstance(e, LiquidationStarted)]
    assert ex.position(a, "BTC").lots == 0 and ex.equity(a) == Decimal("50")


def test_a_reduce_only_stop_whose_position_is_gone_says_why(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    ex.place_trigger(a, "BTC", "sell", "stop", 95_000, 0.1, reduce_only=True)
    bidder = ex.open_account(100_000)
    ex.place(bidder, "BTC", "buy", 0.1, 99_000)
    ex.close_position(a, "BTC")                      # closed by hand before the stop fires
    ex.settle()
    ex.set_index("BTC", 94_000)
    (fired,) = _triggered(ex.settle())
    assert fired.new_oid is None and "reduce-only" in fired.error


def test_a_stop_on_the_wrong_side_of_the_price_is_refused(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    with pytest.raises(InvalidInput, match="would fire at once: its trigger must be below"):
        ex.place_trigger(a, "BTC", "sell", "stop", 101_000, 0.1)
    with pytest.raises(InvalidInput, match="would fire at once: its trigger must be above"):
        ex.place_trigger(a, "BTC", "sell", "take_profit", 99_000, 0.1)
    with pytest.raises(InvalidInput, match="stop, take_profit"):
        ex.place_trigger(a, "BTC", "sell", "trailing", 95_000, 0.1)
    flat = ex.open_account(1_000)
    with pytest.raises(ReduceOnlyError, match="no BTC position"):
        ex.place_trigger(flat, "BTC", "sell", "stop", 95_000, 0.1, reduce_only=True)


def test_cancel_cancel_all_and_liquidation_remove_triggers(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 1_000, 0.1, [(100_000, 0.1)])
    one = ex.place_trigger(a, "BTC", "sell", "stop", 85_000, 0.1, reduce_only=True)
    assert ex.cancel(one) == Decimal("0.1")
    with pytest.raises(UnknownOrder):
        ex.cancel(one)
    ex.place_trigger(a, "BTC", "sell", "take_profit", 120_000, 0.1)
    assert ex.cancel_all(a) == 1 and not ex.triggers.pending
    ex.place_trigger(a, "BTC", "sell", "stop", 85_000, 0.1, reduce_only=True)
    ex.set_index("BTC", 90_300)                      # liquidated above its stop: it goes too
    events = ex.settle()
    assert [e.account for e in events if isinstance(e, LiquidationStarted)] == [a]
    assert not ex.triggers.pending


def test_the_last_price_can_be_the_trigger(make_exchange):
    ex = make_exchange()
    ex.set_rules(stop_trigger="last")
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    ex.place_trigger(a, "BTC", "sell", "stop", 95_000, 0.1, reduce_only=True)
    ex.set_index("BTC", 94_000)                      # the mark falls; no trade has: no fire
    assert _triggered(ex.settle()) == []
    b, c = ex.open_account(100_000), ex.open_account(100_000)
    ex.place(b, "BTC", "buy", 0.01, 94_900)
    ex.place(c, "BTC", "sell", 0.01, None)           # a trade at 94,900
    ex.place(b, "BTC", "buy", 0.1, 94_000)
    (fired,) = _triggered(ex.settle())
    assert fired.price == 949_000 and ex.position(a, "BTC").lots == 0
    with pytest.raises(InvalidInput, match="stop_trigger"):
        ex.set_rules(stop_trigger="index")


def test_the_command_and_its_cancel(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    done = apply(ex, PlaceTrigger(a, "BTC", "sell", "stop", "95000", qty="0.1", reduce_only=True))
    assert isinstance(done, CommandAccepted) and done.oid in ex.triggers.pending
    other = ex.open_account(1_000)
    assert type(apply(ex, CancelOrder(other, done.oid))).__name__ == "CommandRejected"
    assert isinstance(apply(ex, CancelOrder(a, done.oid)), CommandAccepted)
    assert not ex.triggers.pending


def test_checksum_covers_pending_triggers_only_while_there_are_some(make_exchange):
    ex = make_exchange()
    a, _ = open_long(ex, 5_000, 0.1, [(100_000, 0.1)])
    before = ex.checksum()
    oid = ex.place_trigger(a, "BTC", "sell", "stop", 95_000, 0.1)
    held = ex.checksum()
    ex.cancel(oid)
    assert held != before
    # the next order id moved on: the state is not the same as before the trigger
    assert ex.checksum() != held
