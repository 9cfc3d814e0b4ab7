"""Every fill report says what happened: filled, partly filled (how much, at what average, what
is still open) or not filled. ``CommandAccepted`` carries the engine's own account of an order
(asked, filled, value, position), so nothing is guessed from missing events."""

from types import SimpleNamespace

from engine import Exchange, Instrument
from engine.commands import ClosePosition, CommandAccepted, PlaceOrder, apply
from game.story import EventLog


def _book():
    """BTC at 100,000 with 0.5 BTC offered and 0.2 BTC bid; account a has 100k USD."""
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=0, mark_method="index")
    ex.set_index("BTC", 100_000)
    ex.settle()
    mm, a = ex.open_account(10_000_000), ex.open_account(100_000)
    ex.place(mm, "BTC", "sell", 0.5, 100_000)
    ex.place(mm, "BTC", "buy", 0.2, 99_000)
    return ex, a


def _told(ex, a, cmd):
    """The notices and timeline the floor's story makes of one command."""
    outcome = apply(ex, cmd)
    log = EventLog(SimpleNamespace(exchange=ex), a, str)
    log(SimpleNamespace(clock=4 * 3600), ex.drain_events() + [outcome])
    return outcome, list(log.notices), log.timeline


def test_a_market_order_bigger_than_the_book_is_reported_partly_filled():
    ex, a = _book()
    outcome, notices, timeline = _told(ex, a, PlaceOrder(a, "BTC", "buy", 0.8))
    assert isinstance(outcome, CommandAccepted)
    assert (outcome.asked, outcome.filled, outcome.position) == (800, 500, 500)
    assert outcome.filled_value == 500 * 1_000_000  # ticks x lots: the average is 100,000
    (notice,) = notices
    assert notice.title == "Partly filled" and notice.severity == "warning"
    assert "bought 0.500 BTC of 0.800 BTC" in notice.message
    assert "0.300 BTC found no bid or offer" in notice.message
    assert timeline[-1].kind == "fill"


def test_a_close_that_the_book_cannot_take_says_what_is_still_open():
    ex, a = _book()
    apply(ex, PlaceOrder(a, "BTC", "buy", 0.5))
    ex.drain_events()
    outcome, notices, _ = _told(ex, a, ClosePosition(a, "BTC", 1))
    assert (outcome.asked, outcome.filled, outcome.position) == (500, 200, 300)
    assert notices[-1].title == "Partly filled"
    assert "sold 0.200 BTC of 0.500 BTC" in notices[-1].message
    assert notices[-1].message.endswith("0.300 BTC still open (W works the rest of the close, "
                                        "step by step)")


def test_a_full_fill_and_no_fill_are_told_apart():
    ex, a = _book()
    _, notices, _ = _told(ex, a, PlaceOrder(a, "BTC", "buy", 0.1))
    assert [n.title for n in notices] == ["Filled"]
    ex2, b = _book()
    for oid in list(ex2.ledger.orders):  # an empty book
        ex2.cancel(oid)
    _, notices, _ = _told(ex2, b, PlaceOrder(b, "BTC", "sell", 0.1))
    assert [n.title for n in notices] == ["Not filled"]
