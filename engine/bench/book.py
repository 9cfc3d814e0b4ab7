"""Order-book benchmark: ``OrderBook`` against the plain ``SortedDict`` design on one seeded stream.

``python -m engine.bench.book [n_ops] [seed]`` prints the figures. ``SortedDictBook`` is written
for clarity, not speed: it is also the reference model of the differential tests. Wall-clock time
is read here only, never in the simulation.
"""

from __future__ import annotations

import gc
import sys
import time
from collections import deque
from collections.abc import Iterable

import numpy as np

from ..book import BUY, SELL, Fill, OrderBook, Tif
from ..errors import InvalidInput, OrderRejected, UnknownOrder

MID = 1_220_000
"""Reference mid price in ticks (BTC at 0.1 USD per tick) when a side of the stream is empty."""

SUBMIT, CANCEL = 0, 1
"""Op kinds of a stream row ``(kind, oid, owner, side, price, qty, tif)``; a cancel uses ``oid``."""

Op = tuple[int, int, int, int, int | None, int, Tif]


# --- the reference book ---------------------------------------------------------------------
class _Order:
    __slots__ = ("oid", "owner", "side", "price", "qty", "seq")

    def __init__(self, oid: int, owner: int, side: int, price: int, qty: int, seq: int):
        self.oid, self.owner, self.side, self.price, self.qty, self.seq = (
            oid, owner, side, price, qty, seq)


class SortedDictBook:
    """The common design: ``SortedDict`` price -> ``deque`` of orders, ``deque.remove`` on cancel.

    Same public methods and semantics as ``engine.book.OrderBook``.
    """

    def __init__(self) -> None:
        from sortedcontainers import SortedDict  # a dev dependency: ``engine`` imports without it

        self._bids = SortedDict()  # price -> deque of _Order; best bid is the last key
        self._asks = SortedDict()  # best ask is the first key
        self._orders: dict[int, _Order] = {}
        self._seq = 0  # arrival counter: orders_of sorts by it
        self.last_trade_price: int | None = None
        self.stp_cancelled: list[int] = []

    # --- commands ---
    def submit(self, oid: int, owner: int, side: int, price: int | None, qty: int,
               tif: Tif) -> list[Fill]:
        if oid in self._orders:
            raise InvalidInput(f"order {oid} is already resting")
        if qty <= 0:
            raise InvalidInput(f"order {oid}: qty must be > 0 lots, got {qty}")
        if price is None and tif != Tif.IOC:
            raise InvalidInput(f"order {oid}: a market order (price None) must be IOC")
        if tif == Tif.POST_ONLY:
            opposite_best = self.best_ask() if side == BUY else self.best_bid()
            if opposite_best is not None and self._reaches(side, price, opposite_best):
                raise OrderRejected(f"post-only order {oid} at {price} would cross {opposite_best}")
        if tif == Tif.FOK and self._available(owner, side, price) < qty:
            return []
        fills, left = self._match(owner, side, price, qty)
        if left and tif in (Tif.GTC, Tif.POST_ONLY):
            assert price is not None  # a market order is IOC: it never rests
            self._rest(_Order(oid, owner, side, price, left, self._seq))
            self._seq += 1
        return fills

    def cancel(self, oid: int) -> int:
        order = self._orders.get(oid)
        if order is None:
            return 0
        self._remove(order)
        return order.qty

    def amend(self, oid: int, price: int, qty: int) -> list[Fill]:
        order = self._orders.get(oid)
        if order is None:
            raise UnknownOrder(f"order {oid} is not resting")
        if qty <= 0:
            raise InvalidInput(f"amend of order {oid}: qty must be > 0 lots, got {qty}")
        if price == order.price and qty <= order.qty:
            order.qty = qty
            return []
        self._remove(order)
        return self.submit(oid, order.owner, order.side, price, qty, Tif.GTC)

    # --- queries ---
    def order(self, oid: int) -> tuple[int, int, int, int] | None:
        o = self._orders.get(oid)
        return None if o is None else (o.owner, o.side, o.price, o.qty)

    def orders_of(self, owner: int) -> list[int]:
        mine = [o for o in self._orders.values() if o.owner == owner]
        return [o.oid for o in sorted(mine, key=lambda o: o.seq)]

    def best_bid(self) -> int | None:
        return self._bids.keys()[-1] if self._bids else None

    def best_ask(self) -> int | None:
        return self._asks.keys()[0] if self._asks else None

    def levels(self, side: int, n: int | None = None) -> list[tuple[int, int]]:
        rows = [(price, sum(o.qty for o in queue)) for price, queue in self._side_best_first(side)]
        return rows if n is None else rows[:n]

    def notional_within(self, lo: int, hi: int) -> int:
        return sum(price * sum(o.qty for o in book[price])
                   for book in (self._bids, self._asks) for price in book.irange(lo, hi))

    def volume_until(self, side: int, limit: int | None) -> int:
        return sum(qty for price, qty in self.levels(side)
                   if limit is None or self._reaches(-side, limit, price))

    def resting(self) -> list[tuple[int, int, int, int, int]]:
        return [(o.oid, o.owner, o.side, o.price, o.qty)
                for side in (BUY, SELL) for _, queue in self._side_best_first(side) for o in queue]

    @classmethod
    def from_resting(cls, rows: Iterable[tuple[int, int, int, int, int]],
                     last_trade_price: int | None = None) -> SortedDictBook:
        book = cls()
        for oid, owner, side, price, qty in rows:
            book.submit(oid, owner, side, price, qty, Tif.GTC)
        book.last_trade_price = last_trade_price
        return book

    def __len__(self) -> int:
        return len(self._orders)

    # --- internals ---
    def _side(self, side: int):
        return self._bids if side == BUY else self._asks

    def _side_best_first(self, side: int):
        book = self._side(side)
        prices = reversed(book.keys()) if side == BUY else book.keys()
        return [(price, book[price]) for price in prices]

    @staticmethod
    def _reaches(side: int, limit: int | None, price: int) -> bool:
        """Whether an order on ``side`` limited at ``limit`` can trade with a maker at ``price``."""
        if limit is None:
            return True
        return price <= limit if side == BUY else price >= limit

    def _available(self, owner: int, side: int, limit: int | None) -> int:
        return sum(o.qty for price, queue in self._side_best_first(-side)
                   if self._reaches(side, limit, price) for o in queue if o.owner != owner)

    def _match(self, owner: int, side: int, limit: int | None, qty: int) -> tuple[list[Fill], int]:
        book = self._side(-side)
        fills: list[Fill] = []
        while qty and book:
            price = book.keys()[0] if side == BUY else book.keys()[-1]
            if not self._reaches(side, limit, price):
                break
            maker = book[price][0]
            if maker.owner == owner:  # self-trade prevention
                self._remove(maker)
                self.stp_cancelled.append(maker.oid)
                continue
            traded = min(qty, maker.qty)
            fills.append((maker.oid, maker.owner, price, traded))
            self.last_trade_price = price
            maker.qty -= traded
            qty -= traded
            if maker.qty == 0:
                self._remove(maker)
        return fills, qty

    def _rest(self, order: _Order) -> None:
        book = self._side(order.side)
        if order.price not in book:
            book[order.price] = deque()
        book[order.price].append(order)
        self._orders[order.oid] = order

    def _remove(self, order: _Order) -> None:
        book = self._side(order.side)
        queue = book[order.price]
        queue.remove(order)
        if not queue:
            del book[order.price]
        del self._orders[order.oid]


# --- the stream -----------------------------------------------------------------------------
def make_stream(n_ops: int, seed: int) -> list[Op]:
    """A seeded stream of ``n_ops`` rows ``(kind, oid, owner, side, price, qty, tif)``.

    ~70% limit adds 1–200 ticks from the touch on their own side (geometric, dense near the
    top; an add one tick inside a one-tick spread is marketable), ~20% cancels of live orders,
    ~10% takers (market, IOC, FOK or marketable GTC) of 1–1000 lots capped at half the opposite
    side. 50 owners, so self-trade prevention happens. The stream is generated by running it
    through an ``OrderBook``, so every cancel targets an order live at that point.
    """
    rng = np.random.default_rng(seed)
    kind_u, tif_u, pick_u = (rng.random(n_ops).tolist() for _ in range(3))
    sides = np.where(rng.integers(0, 2, n_ops) == 0, BUY, SELL).tolist()
    owners = rng.integers(0, 50, n_ops).tolist()
    distances = np.minimum(rng.geometric(0.08, n_ops), 200).tolist()
    add_qty = rng.integers(1, 101, n_ops).tolist()
    take_qty = rng.integers(1, 1001, n_ops).tolist()

    book = OrderBook()
    live: list[int] = []  # resting oids, for picking cancel targets
    where: dict[int, int] = {}  # oid -> index in live

    def forget(oid: int) -> None:
        i = where.pop(oid, None)
        if i is not None:
            last = live.pop()
            if last != oid:
                live[i] = last
                where[last] = i

    stream: list[Op] = []
    for i in range(n_ops):
        side, owner, u = sides[i], owners[i], kind_u[i]
        if 0.70 <= u < 0.90 and live:
            oid = live[int(pick_u[i] * len(live))]
            book.cancel(oid)
            forget(oid)
            stream.append((CANCEL, oid, 0, 0, 0, 0, Tif.GTC))
            continue
        opposite_volume = book.volume_until(-side, None) if u >= 0.90 else 0
        if opposite_volume >= 2:
            row = _taker(i, side, owner, min(take_qty[i], opposite_volume // 2), distances[i],
                         tif_u[i], book)
        else:
            row = _maker(i, side, owner, add_qty[i], distances[i], tif_u[i], book)
        stream.append(row)
        for maker_oid, _, _, _ in book.submit(*row[1:]):
            if book.order(maker_oid) is None:
                forget(maker_oid)
        for oid in book.stp_cancelled:
            forget(oid)
        book.stp_cancelled.clear()
        if book.order(i) is not None:
            where[i] = len(live)
            live.append(i)
    return stream


def _maker(oid: int, side: int, owner: int, qty: int, distance: int, u: float,
           book: OrderBook) -> Op:
    """A limit add ``distance - 2`` ticks behind the touch of its own side (-1: one inside)."""
    touch = book.best_bid() if side == BUY else book.best_ask()
    if touch is None:
        opposite = book.best_ask() if side == BUY else book.best_bid()
        touch = (opposite if opposite is not None else MID) - side
    price = touch - side * (distance - 2)
    opposite = book.best_ask() if side == BUY else book.best_bid()
    crosses = opposite is not None and (price - opposite) * side >= 0
    tif = Tif.POST_ONLY if u < 0.05 and not crosses else Tif.GTC
    return (SUBMIT, oid, owner, side, price, qty, tif)


def _taker(oid: int, side: int, owner: int, qty: int, distance: int, u: float,
           book: OrderBook) -> Op:
    """A market (50%), IOC (30%), FOK (10%) or GTC (10%) order priced through the opposite best."""
    if u < 0.5:
        return (SUBMIT, oid, owner, side, None, qty, Tif.IOC)
    best = book.best_ask() if side == BUY else book.best_bid()
    assert best is not None  # a taker is drawn only against a non-empty opposite side
    tif = Tif.IOC if u < 0.8 else Tif.FOK if u < 0.9 else Tif.GTC
    return (SUBMIT, oid, owner, side, best + side * distance, qty, tif)


# --- the run --------------------------------------------------------------------------------
def replay(book, stream: list[Op]) -> tuple[int, int]:
    """Apply ``stream`` to ``book``; return (number of fills, lots filled)."""
    submit, cancel = book.submit, book.cancel
    n_fills = filled = 0
    for kind, oid, owner, side, price, qty, tif in stream:
        if kind == SUBMIT:
            fills = submit(oid, owner, side, price, qty, tif)
            if fills:
                n_fills += len(fills)
                for fill in fills:
                    filled += fill[3]
        else:
            cancel(oid)
    return n_fills, filled


def _timed(book, stream: list[Op]) -> tuple[float, tuple[int, int]]:
    """Seconds to replay, with the collector frozen and off (the same for every book)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        start = time.perf_counter()
        counts = replay(book, stream)
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
        gc.unfreeze()
    return seconds, counts


def run_book_bench(n_ops: int = 1_000_000, seed: int = 7) -> dict:
    """Replay one seeded stream through ``OrderBook`` and ``SortedDictBook``; ops/s and checks."""
    stream = make_stream(n_ops, seed)
    book = OrderBook()
    seconds, (n_fills, filled) = _timed(book, stream)
    result = {"ops": n_ops, "book_ops_per_s": n_ops / seconds, "sorteddict_ops_per_s": None,
              "ratio": None, "fills": n_fills, "filled_lots": filled, "identical": None}
    try:
        reference = SortedDictBook()
    except ImportError:
        return result
    ref_seconds, ref_counts = _timed(reference, stream)
    result["sorteddict_ops_per_s"] = n_ops / ref_seconds
    result["ratio"] = ref_seconds / seconds
    result["identical"] = (
        ref_counts == (n_fills, filled)
        and (reference.best_bid(), reference.best_ask()) == (book.best_bid(), book.best_ask())
        and reference.stp_cancelled == book.stp_cancelled
        and reference.resting() == book.resting())
    return result


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def main(argv: list[str]) -> None:
    """``python -m engine.bench.book [n_ops] [seed]``: run the benchmark and print its figures."""
    n_ops = int(argv[0]) if argv else 1_000_000
    seed = int(argv[1]) if len(argv) > 1 else 7
    for name, value in run_book_bench(n_ops, seed).items():
        print(f"{name:>22}: {_shown(value)}")


if __name__ == "__main__":
    main(sys.argv[1:])
