"""``OrderBook`` against ``SortedDictBook`` (the plain reference design), op by op.

Random sequences of submits (every tif, market orders, reused oids), cancels of live and dead
oids and amends go through both books; after every op the fills, errors, resting orders, levels,
best prices, self-trade cancels and aggregates must be identical, and the book valid.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bench.book import CANCEL, SUBMIT, SortedDictBook, make_stream, run_book_bench
from engine.book import BUY, SELL, OrderBook, Tif

pytest.importorskip("sortedcontainers")

OWNERS = range(4)


class EagerSweepBook(OrderBook):
    """Sweeps dead records on the second cancel in excess, so that sweeps happen in short runs."""

    _SWEEP_SLACK = 1

near = st.integers(95, 105)  # crowded around the touch: crossing, queues, partial fills
far = st.sampled_from([1, 60, 610_000, 1_220_000, 2_440_000])  # sparse levels far apart
prices = st.one_of(near, near, near, far)
reuse = st.integers(0, 12)  # 1-3: submit with a recent oid again (maybe resting: refused)
submits = st.tuples(
    st.just("submit"),
    st.sampled_from(OWNERS),
    st.sampled_from([BUY, SELL]),
    prices,
    st.integers(1, 30),
    st.sampled_from([Tif.GTC, Tif.GTC, Tif.GTC, Tif.IOC, Tif.FOK, Tif.POST_ONLY]),
    reuse,
)
markets = st.tuples(
    st.just("submit"),
    st.sampled_from(OWNERS),
    st.sampled_from([BUY, SELL]),
    st.none(),
    st.integers(1, 60),
    st.sampled_from([Tif.IOC] * 5 + [Tif.GTC, Tif.FOK]),  # only IOC is allowed
    reuse,
)
target = st.integers(0, 1_000)  # even: a resting order; odd: any oid issued so far
cancels = st.tuples(st.just("cancel"), target)
amends = st.tuples(st.just("amend"), target, st.one_of(st.none(), prices), st.integers(0, 30))
# one_of() would treat repeated branches as one: weight the kinds by hand (75/5/10/10 %)
operation = st.integers(0, 19).flatmap(
    lambda k: submits if k < 15 else markets if k < 16 else cancels if k < 18 else amends)
operations = st.lists(operation, min_size=20, max_size=120)  # shorter lists rarely cross


def apply(book, op, oid: int):
    """Run one op; its result, or the error type and message (both books must agree on both)."""
    try:
        if op[0] == "submit":
            _, owner, side, price, qty, tif, _ = op
            return book.submit(oid, owner, side, price, qty, tif)
        if op[0] == "cancel":
            return book.cancel(oid)
        _, _, price, qty = op
        if price is None:  # an amend at the same price (reduces in place when qty is lower)
            price = book.order(oid)[2] if book.order(oid) else 100
        return book.amend(oid, price, qty)
    except (ValueError, LookupError) as error:
        return type(error).__name__


def assert_same_state(book: OrderBook, ref: SortedDictBook) -> None:
    assert book.resting() == ref.resting()
    for side in (BUY, SELL):
        assert book.levels(side) == ref.levels(side)
        assert book.levels(side, 2) == ref.levels(side, 2)
        for limit in (None, 1, 99, 100, 101, 610_000, 1_220_000):
            assert book.volume_until(side, limit) == ref.volume_until(side, limit)
    assert (book.best_bid(), book.best_ask()) == (ref.best_bid(), ref.best_ask())
    assert book.stp_cancelled == ref.stp_cancelled
    assert book.last_trade_price == ref.last_trade_price
    assert len(book) == len(ref)
    for lo, hi in ((0, 10**7), (98, 102), (100, 100), (600_000, 1_300_000)):
        assert book.notional_within(lo, hi) == ref.notional_within(lo, hi)
    for owner in OWNERS:
        assert book.orders_of(owner) == ref.orders_of(owner)


def assert_valid(book: OrderBook) -> None:
    bids, asks = book.levels(BUY), book.levels(SELL)
    assert all(qty > 0 for _, qty in bids + asks)
    assert [p for p, _ in bids] == sorted({p for p, _ in bids}, reverse=True)
    assert [p for p, _ in asks] == sorted({p for p, _ in asks})
    if bids and asks:
        assert bids[0][0] < asks[0][0], "crossed at rest"
    rows = book.resting()
    assert sum(row[4] for row in rows) == sum(q for _, q in bids) + sum(q for _, q in asks)
    for oid, owner, side, price, qty in rows:
        assert book.order(oid) == (owner, side, price, qty)


def pick_oid(op, issued: list[int], book: OrderBook) -> int:
    if op[0] == "submit":
        if 1 <= op[-1] <= 3 and issued:
            return issued[-min(op[-1], len(issued))]
        issued.append(len(issued) + 1000)
        return issued[-1]
    live = [row[0] for row in book.resting()]
    if op[1] % 2 == 0 and live:
        return live[op[1] // 2 % len(live)]
    return issued[op[1] // 2 % len(issued)] if issued else 999


@settings(max_examples=200, deadline=None)
@given(operations)
def test_random_operations_match_the_reference_book(ops):
    book, ref = EagerSweepBook(), SortedDictBook()
    issued: list[int] = []
    for op in ops:
        oid = pick_oid(op, issued, book)
        result = apply(book, op, oid)
        assert result == apply(ref, op, oid), f"after {op} on oid {oid}"
        assert_same_state(book, ref)
        assert_valid(book)
        book.stp_cancelled.clear()
        ref.stp_cancelled.clear()
    rebuilt = OrderBook.from_resting(book.resting(), book.last_trade_price)
    assert rebuilt.resting() == book.resting()
    assert rebuilt.submit(1, 9, BUY, None, 50, Tif.IOC) == book.submit(1, 9, BUY, None, 50, Tif.IOC)


def test_a_seeded_benchmark_stream_gives_identical_fills_op_by_op():
    stream = make_stream(20_000, seed=3)
    assert stream == make_stream(20_000, seed=3)  # replayable
    book, ref = OrderBook(), SortedDictBook()
    for kind, oid, owner, side, price, qty, tif in stream:
        if kind == SUBMIT:
            assert book.submit(oid, owner, side, price, qty, tif) == ref.submit(
                oid, owner, side, price, qty, tif)
        else:
            assert book.cancel(oid) == ref.cancel(oid) > 0  # cancels target live orders
    assert book.resting() == ref.resting()
    assert book.stp_cancelled == ref.stp_cancelled
    assert len(book.stp_cancelled) > 0
    kinds = {(row[0], row[4] is None, row[6]) for row in stream}
    limits = {(SUBMIT, False, tif) for tif in Tif}
    assert kinds == limits | {(SUBMIT, True, Tif.IOC), (CANCEL, False, Tif.GTC)}


def test_run_book_bench_reports_identical_results():
    result = run_book_bench(n_ops=20_000, seed=11)
    assert result["identical"] is True
    assert result["ops"] == 20_000
    assert result["fills"] > 1_000 and result["filled_lots"] > result["fills"]
    assert result["book_ops_per_s"] > 0 and result["sorteddict_ops_per_s"] > 0


ladders = st.lists(st.tuples(st.sampled_from([BUY, SELL]), st.integers(1, 30), prices),
                   min_size=0, max_size=20)


@settings(max_examples=200, deadline=None)
@given(operations, st.lists(ladders, min_size=1, max_size=4), st.sampled_from(OWNERS))
def test_bulk_post_and_cancel_are_the_single_ops_in_turn(ops, rounds, owner):
    """``post_many`` is ``submit(POST_ONLY)`` per quote, a crossing quote skipped without taking
    an id, and ``cancel_many`` is ``cancel`` per id (the market makers' re-quote, engine/agents):
    the same records, levels and best prices, on an eagerly swept book too."""
    bulk, single = EagerSweepBook(), EagerSweepBook()
    issued: list[int] = []
    for op in ops:
        oid = pick_oid(op, issued, bulk)
        assert apply(bulk, op, oid) == apply(single, op, oid)
    oid = 10**6
    posted: list[int] = []
    for quotes in rounds:
        assert bulk.cancel_many(posted + [5, 10**9]) == [single.cancel(o) for o in
                                                          posted + [5, 10**9]]
        rested = bulk.post_many(owner, quotes, oid)
        mine = []
        for side, qty, price in quotes:
            try:
                single.submit(oid + len(mine), owner, side, price, qty, Tif.POST_ONLY)
            except ValueError:  # OrderRejected: it would cross
                continue
            mine.append(oid + len(mine))
        assert [oid + k for k in range(len(rested))] == mine
        assert all(0 <= i < len(quotes) for i in rested)
        posted, oid = mine, oid + len(mine)
        assert bulk.resting() == single.resting()
        for side in (BUY, SELL):
            assert bulk.levels(side) == single.levels(side)
        assert (bulk.best_bid(), bulk.best_ask()) == (single.best_bid(), single.best_ask())
        assert_valid(bulk)
