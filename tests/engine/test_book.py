"""The order book, read like a book: whole levels and whole fills, with real numbers."""

from __future__ import annotations

import pytest

from engine.book import BUY, SELL, OrderBook, Tif
from engine.errors import InvalidInput, OrderRejected

GTC, IOC, FOK, POST_ONLY = Tif.GTC, Tif.IOC, Tif.FOK, Tif.POST_ONLY
ALICE, BOB, CAROL = 1, 2, 3


def book_of(*orders: tuple[int, int, int, int, int]) -> OrderBook:
    """A book with GTC orders ``(oid, owner, side, price, qty)`` submitted in this order."""
    book = OrderBook()
    for oid, owner, side, price, qty in orders:
        assert book.submit(oid, owner, side, price, qty, GTC) == []
    return book


def two_sided() -> OrderBook:
    """Bids 99×10 (oid 1, Alice), 98×20 (2, Bob); asks 101×10 (3, Alice), 101×5 (4, Bob),
    102×20 (5, Carol)."""
    return book_of((1, ALICE, BUY, 99, 10), (2, BOB, BUY, 98, 20), (3, ALICE, SELL, 101, 10),
                   (4, BOB, SELL, 101, 5), (5, CAROL, SELL, 102, 20))


# --- matching ---------------------------------------------------------------------------------
def test_a_resting_book_shows_its_levels_best_first():
    book = two_sided()
    assert book.levels(BUY) == [(99, 10), (98, 20)]
    assert book.levels(SELL) == [(101, 15), (102, 20)]
    assert (book.best_bid(), book.best_ask()) == (99, 101)
    assert len(book) == 5
    assert book.last_trade_price is None


def test_price_time_priority_oldest_first_within_a_price():
    book = two_sided()
    fills = book.submit(10, CAROL, BUY, 101, 12, GTC)
    assert fills == [(3, ALICE, 101, 10), (4, BOB, 101, 2)]
    assert book.levels(SELL) == [(101, 3), (102, 20)]
    assert book.order(4) == (BOB, SELL, 101, 3)
    assert book.order(3) is None
    assert book.order(10) is None  # fully filled: nothing rests
    assert book.last_trade_price == 101


def test_a_partially_filled_maker_keeps_its_place_at_the_front():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 101, 10))
    assert book.submit(10, CAROL, BUY, 101, 4, IOC) == [(1, ALICE, 101, 4)]
    assert book.submit(11, CAROL, BUY, 101, 8, IOC) == [(1, ALICE, 101, 6), (2, BOB, 101, 2)]
    assert book.resting() == [(2, BOB, SELL, 101, 8)]


def test_a_sweep_fills_each_level_at_the_makers_price_and_rests_the_rest_at_the_limit():
    book = two_sided()
    fills = book.submit(10, CAROL, BUY, 102, 50, GTC)
    # Carol's own ask at 102 is cancelled by self-trade prevention, not traded
    assert fills == [(3, ALICE, 101, 10), (4, BOB, 101, 5)]
    assert book.stp_cancelled == [5]
    assert book.levels(SELL) == []
    assert book.levels(BUY) == [(102, 35), (99, 10), (98, 20)]
    assert book.order(10) == (CAROL, BUY, 102, 35)


def test_a_sell_sweeps_bids_down_to_its_limit():
    book = two_sided()
    fills = book.submit(10, CAROL, SELL, 98, 25, GTC)
    assert fills == [(1, ALICE, 99, 10), (2, BOB, 98, 15)]
    assert book.levels(BUY) == [(98, 5)]
    assert book.best_ask() == 101  # nothing left to rest: the order filled in full
    assert book.last_trade_price == 98


def test_a_limit_stops_the_sweep_and_the_remainder_rests_uncrossed():
    book = two_sided()
    fills = book.submit(10, CAROL, BUY, 101, 40, GTC)
    assert fills == [(3, ALICE, 101, 10), (4, BOB, 101, 5)]
    assert book.levels(BUY) == [(101, 25), (99, 10), (98, 20)]
    assert book.levels(SELL) == [(102, 20)]
    assert book.best_bid() < book.best_ask()


def test_ioc_drops_the_remainder():
    book = two_sided()
    assert book.submit(10, CAROL, BUY, 101, 40, IOC) == [(3, ALICE, 101, 10), (4, BOB, 101, 5)]
    assert book.order(10) is None
    assert book.levels(BUY) == [(99, 10), (98, 20)]
    assert book.levels(SELL) == [(102, 20)]
    assert book.submit(11, CAROL, BUY, 100, 5, IOC) == []  # does not cross: nothing happens
    assert len(book) == 3


def test_market_order_takes_whatever_price_and_never_rests():
    book = two_sided()
    fills = book.submit(10, CAROL, SELL, None, 100, IOC)
    assert fills == [(1, ALICE, 99, 10), (2, BOB, 98, 20)]
    assert book.levels(BUY) == []
    assert book.best_bid() is None
    assert book.order(10) is None
    assert book.submit(11, CAROL, SELL, None, 5, IOC) == []  # empty side: nothing to take


@pytest.mark.parametrize("tif", [GTC, FOK, POST_ONLY])
def test_a_market_order_must_be_ioc(tif):
    book = two_sided()
    with pytest.raises(InvalidInput, match=r"order 10: a market order \(price None\) must be IOC"):
        book.submit(10, CAROL, BUY, None, 5, tif)
    assert book.levels(SELL) == [(101, 15), (102, 20)]


def test_fok_that_cannot_fill_in_full_changes_nothing():
    book = two_sided()
    before = book.resting()
    assert book.submit(10, CAROL, BUY, 101, 16, FOK) == []  # only 15 at or below 101
    assert book.resting() == before
    assert book.last_trade_price is None
    assert book.submit(11, CAROL, BUY, 102, 15, FOK) == [(3, ALICE, 101, 10), (4, BOB, 101, 5)]
    assert book.levels(SELL) == [(102, 20)]
    assert book.order(11) is None


def test_fok_counts_only_other_owners_orders():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 102, 10))
    assert book.submit(10, ALICE, BUY, 102, 11, FOK) == []  # Bob's 10 is all Alice can trade
    assert book.stp_cancelled == []
    assert book.levels(SELL) == [(101, 10), (102, 10)]
    assert book.submit(11, ALICE, BUY, 102, 10, FOK) == [(2, BOB, 102, 10)]
    assert book.stp_cancelled == [1]  # it then matches like an IOC: her own ask is cancelled
    assert book.levels(SELL) == []


def test_post_only_that_would_cross_is_rejected_and_changes_nothing():
    book = two_sided()
    before = book.resting()
    with pytest.raises(OrderRejected, match=r"post-only order 10 \(buy 5 at 101\) would cross "
                                            r"the best ask 101"):
        book.submit(10, CAROL, BUY, 101, 5, POST_ONLY)
    with pytest.raises(OrderRejected, match=r"order 11 \(sell 5 at 90\).*best bid 99"):
        book.submit(11, CAROL, SELL, 90, 5, POST_ONLY)
    assert book.resting() == before
    assert book.stp_cancelled == []


def test_post_only_crossing_only_its_own_order_is_still_rejected():
    book = book_of((1, ALICE, SELL, 101, 10))
    with pytest.raises(OrderRejected):
        book.submit(10, ALICE, BUY, 101, 5, POST_ONLY)
    assert book.levels(SELL) == [(101, 10)]


def test_post_only_at_the_inside_of_the_spread():
    book = two_sided()
    assert book.submit(10, CAROL, BUY, 100, 5, POST_ONLY) == []
    assert book.levels(BUY) == [(100, 5), (99, 10), (98, 20)]
    with pytest.raises(OrderRejected, match="best bid 100"):
        book.submit(11, CAROL, SELL, 100, 5, POST_ONLY)
    assert book.levels(SELL) == [(101, 15), (102, 20)]


# --- self-trade prevention ------------------------------------------------------------------
def test_self_trade_prevention_cancels_the_resting_order_and_matching_continues():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 101, 10), (3, ALICE, SELL, 101, 10),
                   (4, CAROL, SELL, 102, 10))
    fills = book.submit(10, ALICE, BUY, 102, 15, GTC)
    assert fills == [(2, BOB, 101, 10), (4, CAROL, 102, 5)]
    assert book.stp_cancelled == [1, 3]
    assert book.levels(SELL) == [(102, 5)]
    assert book.order(1) is None and book.order(3) is None
    assert book.orders_of(ALICE) == []
    book.stp_cancelled.clear()  # the caller reads and clears
    assert book.cancel(1) == 0


def test_self_trade_prevention_only_touches_orders_the_taker_reaches():
    book = book_of((1, BOB, SELL, 101, 10), (2, ALICE, SELL, 105, 10))
    assert book.submit(10, ALICE, BUY, 101, 10, IOC) == [(1, BOB, 101, 10)]
    assert book.stp_cancelled == []
    assert book.levels(SELL) == [(105, 10)]


def test_a_gtc_crossing_only_its_own_orders_cancels_them_and_rests():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 103, 10))
    assert book.submit(10, ALICE, BUY, 102, 7, GTC) == []
    assert book.stp_cancelled == [1]
    assert book.levels(BUY) == [(102, 7)]
    assert book.levels(SELL) == [(103, 10)]


# --- cancel and amend ----------------------------------------------------------------------
def test_cancel_returns_the_lots_removed_and_twice_is_a_no_op():
    book = two_sided()
    assert book.cancel(3) == 10
    assert book.levels(SELL) == [(101, 5), (102, 20)]
    assert book.cancel(3) == 0
    assert book.cancel(999) == 0
    assert book.levels(SELL) == [(101, 5), (102, 20)]
    assert len(book) == 4


def test_cancelling_the_last_order_of_a_level_removes_the_level():
    book = two_sided()
    assert book.cancel(1) == 10
    assert book.levels(BUY) == [(98, 20)]
    assert book.best_bid() == 98
    assert book.cancel(2) == 20
    assert book.levels(BUY) == [] and book.best_bid() is None


def test_cancel_of_a_partly_filled_order_returns_what_remained():
    book = two_sided()
    book.submit(10, CAROL, BUY, 101, 4, IOC)
    assert book.cancel(3) == 6


def test_a_cancelled_order_is_skipped_by_matching():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 101, 10), (3, ALICE, SELL, 101, 10))
    book.cancel(2)
    assert book.submit(10, CAROL, BUY, 101, 15, IOC) == [(1, ALICE, 101, 10), (3, ALICE, 101, 5)]


def test_amend_down_at_the_same_price_keeps_the_queue_position():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 101, 10))
    assert book.amend(1, 101, 4) == []
    assert book.levels(SELL) == [(101, 14)]
    assert book.submit(10, CAROL, BUY, 101, 5, IOC) == [(1, ALICE, 101, 4), (2, BOB, 101, 1)]


def test_amend_up_loses_priority():
    book = book_of((1, ALICE, SELL, 101, 10), (2, BOB, SELL, 101, 10))
    assert book.amend(1, 101, 12) == []
    assert book.levels(SELL) == [(101, 22)]
    assert [row[0] for row in book.resting()] == [2, 1]
    assert book.submit(10, CAROL, BUY, 101, 11, IOC) == [(2, BOB, 101, 10), (1, ALICE, 101, 1)]


def test_amend_to_a_new_price_moves_the_order_to_the_back_of_that_level():
    book = two_sided()
    assert book.amend(2, 99, 20) == []
    assert book.levels(BUY) == [(99, 30)]
    assert [row[0] for row in book.resting() if row[2] == BUY] == [1, 2]


def test_amend_through_the_book_fills_against_others_and_cancels_its_own():
    book = two_sided()
    assert book.amend(1, 102, 30) == [(4, BOB, 101, 5), (5, CAROL, 102, 20)]
    assert book.stp_cancelled == [3]
    assert book.order(1) == (ALICE, BUY, 102, 5)
    assert book.levels(BUY) == [(102, 5), (98, 20)]
    assert book.levels(SELL) == []


def test_amend_of_an_order_that_is_not_resting_raises_lookup_error():
    book = two_sided()
    book.cancel(1)
    with pytest.raises(LookupError, match="order 1 is not resting"):
        book.amend(1, 99, 5)
    with pytest.raises(ValueError, match="qty must be > 0"):
        book.amend(2, 98, 0)
    assert book.levels(BUY) == [(98, 20)]


# --- identity and validation ------------------------------------------------------------------
def test_submitting_an_oid_that_is_resting_raises_and_changes_nothing():
    book = two_sided()
    with pytest.raises(ValueError, match="order 1 is already resting"):
        book.submit(1, BOB, SELL, 90, 5, GTC)
    assert book.levels(BUY) == [(99, 10), (98, 20)]
    book.submit(10, BOB, SELL, 99, 10, GTC)  # fills order 1 in full
    assert book.submit(1, BOB, BUY, 97, 5, GTC) == []  # a filled oid may be used again
    assert book.order(1) == (BOB, BUY, 97, 5)


def test_zero_qty_is_refused():
    with pytest.raises(ValueError, match="qty must be > 0 lots, got 0"):
        OrderBook().submit(1, ALICE, BUY, 100, 0, GTC)


def test_order_and_orders_of_oldest_first():
    book = two_sided()
    book.submit(10, ALICE, SELL, 105, 3, GTC)
    assert book.order(10) == (ALICE, SELL, 105, 3)
    assert book.orders_of(ALICE) == [1, 3, 10]
    book.amend(1, 99, 20)  # loses priority: now the newest
    assert book.orders_of(ALICE) == [3, 10, 1]
    book.amend(3, 101, 1)  # keeps priority
    assert book.orders_of(ALICE) == [3, 10, 1]
    assert book.orders_of(42) == []


# --- aggregates -------------------------------------------------------------------------------
def test_levels_with_n():
    book = two_sided()
    assert book.levels(BUY, 1) == [(99, 10)]
    assert book.levels(SELL, 5) == [(101, 15), (102, 20)]
    assert book.levels(SELL, 0) == []


def test_notional_within_sums_both_sides_inclusive():
    book = two_sided()
    assert book.notional_within(99, 101) == 99 * 10 + 101 * 15
    assert book.notional_within(0, 10**9) == 99 * 10 + 98 * 20 + 101 * 15 + 102 * 20
    assert book.notional_within(100, 100) == 0


def test_volume_until_is_what_a_taker_could_reach():
    book = two_sided()
    assert book.volume_until(SELL, 101) == 15  # a buyer limited at 101
    assert book.volume_until(SELL, 100) == 0
    assert book.volume_until(SELL, None) == 35
    assert book.volume_until(BUY, 99) == 10  # a seller limited at 99
    assert book.volume_until(BUY, 1) == 30
    assert book.volume_until(BUY, None) == 30


def test_aggregates_follow_fills_cancels_and_amends():
    book = two_sided()
    book.submit(10, CAROL, BUY, 101, 12, IOC)
    book.cancel(2)
    book.amend(1, 99, 4)
    assert book.levels(BUY) == [(99, 4)]
    assert book.levels(SELL) == [(101, 3), (102, 20)]
    assert book.volume_until(SELL, 102) == 23
    assert book.notional_within(99, 102) == 99 * 4 + 101 * 3 + 102 * 20


# --- sparse, crashed books ---------------------------------------------------------------------
def test_prices_far_apart_in_a_crash():
    book = book_of((1, ALICE, BUY, 610_000, 5), (2, BOB, BUY, 1_219_990, 3),
                   (3, CAROL, SELL, 1_220_010, 4), (4, CAROL, SELL, 2_440_000, 1))
    assert book.submit(10, ALICE, SELL, None, 8, IOC) == [(2, BOB, 1_219_990, 3)]
    assert book.stp_cancelled == [1]  # Alice's own bid at 610,000 was next
    assert book.best_bid() is None
    book.submit(11, BOB, BUY, 610_000, 7, GTC)
    assert book.levels(BUY) == [(610_000, 7)]
    assert (book.best_bid(), book.best_ask()) == (610_000, 1_220_010)
    assert book.submit(12, ALICE, BUY, None, 10, IOC) == [(3, CAROL, 1_220_010, 4),
                                                          (4, CAROL, 2_440_000, 1)]
    assert book.best_ask() is None
    assert book.last_trade_price == 2_440_000


def test_the_best_price_survives_cancels_far_from_the_touch():
    book = OrderBook()
    for i, price in enumerate([1_000, 500_000, 1_219_000, 2, 900_000]):
        book.submit(i, ALICE, BUY, price, 1, GTC)
    book.cancel(2)
    assert book.best_bid() == 900_000
    book.cancel(4)
    book.cancel(1)
    assert book.best_bid() == 1_000
    book.submit(9, ALICE, BUY, 500_000, 2, GTC)  # a level that existed before comes back
    assert book.levels(BUY) == [(500_000, 2), (1_000, 1), (2, 1)]


def test_a_sweep_skips_levels_cancelled_behind_the_touch():
    book = book_of((1, ALICE, SELL, 101, 5), (2, BOB, SELL, 102, 5), (3, CAROL, SELL, 103, 5))
    book.cancel(2)
    assert book.submit(10, BOB, BUY, None, 7, IOC) == [(1, ALICE, 101, 5), (3, CAROL, 103, 2)]
    assert book.best_ask() == 103
    book.cancel(3)
    assert book.best_ask() is None and book.levels(SELL) == []


def test_heavy_cancelling_keeps_the_book_right_and_small():
    book = OrderBook()
    for oid in range(5_000):
        book.submit(oid, oid % 7, SELL, 100 + oid % 3, 1, GTC)
    for oid in range(5_000):
        if oid % 10:
            assert book.cancel(oid) == 1
    assert book.levels(SELL) == [(100, 167), (101, 167), (102, 166)]
    assert len(book) == 500
    # dead records are swept, not kept forever
    assert sum(len(q) for q in book._ask_q.values()) <= 2 * len(book) + 1_100
    fills = book.submit(9_999, 99, BUY, 100, 2, IOC)
    assert fills == [(0, 0, 100, 1), (30, 2, 100, 1)]


# --- rebuild and invariants --------------------------------------------------------------------
def test_from_resting_rebuilds_the_same_book():
    book = two_sided()
    book.submit(10, CAROL, BUY, 99, 7, GTC)
    book.amend(1, 99, 12)  # behind Carol now
    rows = book.resting()
    assert rows == [(10, CAROL, BUY, 99, 7), (1, ALICE, BUY, 99, 12), (2, BOB, BUY, 98, 20),
                    (3, ALICE, SELL, 101, 10), (4, BOB, SELL, 101, 5), (5, CAROL, SELL, 102, 20)]
    copy = OrderBook.from_resting(rows, last_trade_price=100)
    assert copy.resting() == rows
    assert copy.last_trade_price == 100
    assert copy.levels(BUY) == book.levels(BUY) and copy.levels(SELL) == book.levels(SELL)
    assert copy.submit(20, BOB, SELL, 98, 25, IOC) == book.submit(20, BOB, SELL, 98, 25, IOC)
    assert copy.resting() == book.resting()


def test_from_resting_refuses_rows_that_cross():
    with pytest.raises(InvalidInput, match=r"order 2 \(sell 5 at 99\) crosses"):
        OrderBook.from_resting([(1, ALICE, BUY, 100, 5), (2, BOB, SELL, 99, 5)])


def test_the_book_is_never_crossed_at_rest_and_no_lot_is_lost():
    book = OrderBook()
    prices = [100, 103, 97, 101, 99, 102, 98, 100, 104, 96]
    submitted = traded = 0
    for oid, price in enumerate(prices * 5):
        side = BUY if oid % 3 else SELL
        qty = 1 + oid % 6
        submitted += qty
        traded += sum(fill[3] for fill in book.submit(oid, oid, side, price, qty, GTC))
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask
    resting = book.volume_until(BUY, None) + book.volume_until(SELL, None)
    assert traded > 0
    assert submitted == 171  # 8 × (1 + … + 6) + 1 + 2
    assert submitted == resting + 2 * traded  # each traded lot leaves one maker and one taker


def test_tif_members_are_documented_ints():
    assert [int(t) for t in Tif] == [0, 1, 2, 3]
    assert [t.name for t in Tif] == ["GTC", "IOC", "FOK", "POST_ONLY"]
