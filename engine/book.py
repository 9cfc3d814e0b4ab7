"""The limit order book of one symbol: price-time priority, integer ticks and lots, pure Python.

Design (measured against a ``SortedDict`` book in ``engine/bench/book.py``):

- Each side keeps its levels under a *key* that sorts best-first: the price for asks, minus the
  price for bids. ``_t[key]`` is a level's total resting qty, ``_q[key]`` a ``deque`` of order
  records ``[remaining, oid, owner, side, price]`` in time priority, and a ``heapq`` of keys finds
  the best level however sparse the prices are (a crash can leave the only bid 50% below the ask).
- Cancellation is lazy: the record's remaining qty is set to 0 and the level total reduced; the
  dead record is skipped when matching reaches it. A level whose total reaches 0 is dropped at
  once, so every query sees only levels with qty > 0. Stale heap keys are dropped lazily, but never
  at the top: ``heap[0]`` is always the live best level. Dead records and stale keys are swept
  when there are more of them than live orders, so memory stays proportional to the live book.
- An incoming order with limit price ``p`` can reach every opposite level whose key is
  ``<= p * side``; its remainder rests under the key ``-p * side``. One matching loop serves both
  sides; a fill's price is ``key * side``.

Determinism: nothing observable depends on set or hash iteration order. Levels are reported in
sorted key order, orders in time priority, and ``orders_of`` in arrival order (dict insertion).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from heapq import heappop, heappush, nsmallest
from collections.abc import Iterable

from .errors import InvalidInput, OrderRejected, UnknownOrder

class Side(enum.IntEnum):
    """Which way an order trades. The value is the sign the order gives a position, so
    ``side * lots`` is the signed position change; books, order records and events hold sides as
    these plain ints (``BUY``, ``SELL``), and commands and views as members."""

    BUY = 1
    """A bid: the order buys (opens or adds to a long, reduces a short)."""
    SELL = -1
    """An ask: the order sells (opens or adds to a short, reduces a long)."""

    @property
    def word(self) -> str:
        """``"buy"`` or ``"sell"``: how commands, replays and the screen spell the side."""
        return "buy" if self > 0 else "sell"

    def __str__(self) -> str:
        return self.word

    def __format__(self, spec: str) -> str:
        return format(self.word, spec)

    @classmethod
    def parse(cls, value: object) -> Side:
        """A side from ``"buy"``/``"sell"`` (or a position's ``"long"``/``"short"``), ±1 or a
        member; ``InvalidInput`` naming what is allowed otherwise."""
        side = _SIDE_NAMES.get(value) if type(value) in (str, int, cls) else None
        if side is None:
            raise InvalidInput(f"side must be 'buy' or 'sell', got {value!r}")
        return side


_SIDE_NAMES: dict[object, Side] = {"buy": Side.BUY, "sell": Side.SELL, "long": Side.BUY,
                                   "short": Side.SELL, 1: Side.BUY, -1: Side.SELL}

BUY = int(Side.BUY)
"""Side of a bid, as books and order records hold it (``Side.BUY``'s value)."""
SELL = int(Side.SELL)
"""Side of an ask, as books and order records hold it (``Side.SELL``'s value)."""


class Tif(enum.IntEnum):
    """Time in force: what happens to the part of an order that does not fill on arrival."""

    GTC = 0
    """Good till cancelled: match what crosses, rest the remainder at the limit price."""
    IOC = 1
    """Immediate or cancel: match what crosses, drop the remainder (a market order is an IOC)."""
    FOK = 2
    """Fill or kill: fill the whole qty at once against other owners' orders, or change nothing."""
    POST_ONLY = 3
    """Rest without taking: refused with ``OrderRejected`` if the price would cross the book."""


Fill = tuple[int, int, int, int]
"""One fill, ``(maker_oid, maker_owner, price, qty)``, at the resting (maker) order's price."""

_GTC, _IOC, _FOK, _POST_ONLY = 0, 1, 2, 3  # plain ints: compared on every submit


class OrderBook:
    """Price-time priority limit order book for one symbol, with self-trade prevention.

    ``submit`` matches an incoming order against the opposite side, best price first and oldest
    first within a price, each fill at the resting order's price. A resting order of the incoming
    order's own owner is cancelled instead of traded (its oid is appended to ``stp_cancelled``).
    The book is never crossed at rest.
    """

    last_trade_price: int | None
    """Price of the last fill; ``None`` before any."""
    stp_cancelled: list[int]
    """Oids of resting orders cancelled by self-trade prevention; the caller reads and clears."""

    _SWEEP_SLACK = 1024
    """Dead records allowed beyond the number of live orders before a sweep (tests lower it)."""

    __slots__ = ("_orders", "_bid_t", "_bid_q", "_bid_heap", "_ask_t", "_ask_q", "_ask_heap",
                 "_dead", "last_trade_price", "stp_cancelled")

    def __init__(self) -> None:
        self._orders: dict[int, list[int]] = {}  # oid -> record, in arrival order
        self._bid_t: dict[int, int] = {}  # -price -> total qty
        self._bid_q: dict[int, deque[list[int]]] = {}  # -price -> records in time priority
        self._bid_heap: list[int] = []  # -price of every bid level (some stale below the top)
        self._ask_t: dict[int, int] = {}  # price -> total qty
        self._ask_q: dict[int, deque[list[int]]] = {}
        self._ask_heap: list[int] = []
        self._dead = 0  # cancels since the last sweep: bounds dead records and stale heap keys
        self.last_trade_price: int | None = None
        self.stp_cancelled: list[int] = []

    # --- commands ---------------------------------------------------------------------------
    def submit(self, oid: int, owner: int, side: int, price: int | None, qty: int,
               tif: Tif) -> list[Fill]:
        """Match a new order, rest what ``tif`` lets rest, and return the fills, oldest first.

        ``price=None`` is a market order (``tif`` must be IOC). A FOK that cannot fill from other
        owners, and a POST_ONLY that would cross (``OrderRejected``), change nothing.
        """
        # One long function on purpose: this is the per-order hot path, and a Python call costs
        # about as much as the rest of a non-crossing add.
        orders = self._orders
        if oid in orders:
            raise InvalidInput(f"order {oid} is already resting")
        if qty <= 0:
            raise InvalidInput(f"order {oid}: qty must be > 0 lots, got {qty}")
        if price is None:
            if tif != _IOC:
                raise InvalidInput(f"order {oid}: a market order (price None) must be IOC, "
                                   f"got {Tif(tif).name}")
            # it takes every level it can reach and never rests
            opposite = self._ask_heap if side == BUY else self._bid_heap
            return self._take(owner, side, math.inf, qty)[0] if opposite else []
        limit = price * side  # opposite levels with key <= limit are reachable
        opposite = self._ask_heap if side == BUY else self._bid_heap
        if opposite and opposite[0] <= limit:
            if tif == _POST_ONLY:
                raise OrderRejected(
                    f"post-only order {oid} ({_side_name(side)} {qty} at {price}) would cross the "
                    f"best {'ask' if side == BUY else 'bid'} {opposite[0] * side}")
            if tif == _FOK and not self._fillable(owner, side, limit, qty):
                return []
            fills, qty = self._take(owner, side, limit, qty)
            if not qty or tif == _IOC or tif == _FOK:
                return fills
        elif tif == _IOC or tif == _FOK:
            return []
        else:
            fills = []
        rec = [qty, oid, owner, side, price]
        orders[oid] = rec
        key = -limit
        if side == BUY:
            totals, queues, heap = self._bid_t, self._bid_q, self._bid_heap
        else:
            totals, queues, heap = self._ask_t, self._ask_q, self._ask_heap
        total = totals.get(key)
        if total is None:
            totals[key] = qty
            queues[key] = deque((rec,))
            heappush(heap, key)
        else:
            totals[key] = total + qty
            queues[key].append(rec)
        return fills

    def post_many(self, owner: int, quotes: list[tuple[int, int, int]], oid: int) -> list[int]:
        """Rest post-only orders ``(side, qty, price)`` of one owner, in turn, under consecutive
        ids from ``oid``; a quote that would cross the book as it stands then (the owner's
        earlier quotes included) is skipped and takes no id. Returns the indexes of the quotes
        that rest (the market makers' ladder: ``submit`` as POST_ONLY, one call for all). A quote
        of no lots, or an id already resting, is refused (``InvalidInput``) before any rests."""
        orders = self._orders
        for k, (_, qty, _) in enumerate(quotes):  # checked first: a refusal changes nothing
            if qty <= 0:
                raise InvalidInput(f"quote {k}: every quote needs lots > 0, got {qty}")
            if oid + k in orders:
                raise InvalidInput(f"order {oid + k} is already resting")
        bid_t, bid_q, bid_heap = self._bid_t, self._bid_q, self._bid_heap
        ask_t, ask_q, ask_heap = self._ask_t, self._ask_q, self._ask_heap
        posted = []
        for i, (side, qty, price) in enumerate(quotes):
            if side == BUY:
                if ask_heap and ask_heap[0] <= price:
                    continue
                totals, queues, heap, key = bid_t, bid_q, bid_heap, -price
            else:
                if bid_heap and -bid_heap[0] >= price:
                    continue
                totals, queues, heap, key = ask_t, ask_q, ask_heap, price
            rec = [qty, oid, owner, side, price]  # rests as in ``submit`` (inline there and here:
            orders[oid] = rec                     # a call per order would cost as much again)
            total = totals.get(key)
            if total is None:
                totals[key] = qty
                queues[key] = deque((rec,))
                heappush(heap, key)
            else:
                totals[key] = total + qty
                queues[key].append(rec)
            posted.append(i)
            oid += 1
        return posted

    def cancel(self, oid: int) -> int:
        """Remove a resting order; return the lots removed, 0 if ``oid`` is not resting."""
        rec = self._orders.pop(oid, None)
        if rec is None:
            return 0
        qty = rec[0]
        rec[0] = 0  # the record stays in its queue, dead, until matching or a sweep drops it
        if rec[3] == BUY:
            totals, queues, heap, key = self._bid_t, self._bid_q, self._bid_heap, -rec[4]
        else:
            totals, queues, heap, key = self._ask_t, self._ask_q, self._ask_heap, rec[4]
        total = totals[key] - qty
        if total:
            totals[key] = total
        else:
            del totals[key], queues[key]
            if heap[0] == key:
                heappop(heap)
                while heap and heap[0] not in totals:
                    heappop(heap)
        self._dead += 1
        if self._dead > len(self._orders) + self._SWEEP_SLACK:
            self._sweep()
        return qty

    def cancel_many(self, oids: list[int]) -> list[int]:
        """``cancel`` each of ``oids`` in turn; the lots removed, one per oid (0: not resting)."""
        orders, bid_t, ask_t = self._orders, self._bid_t, self._ask_t
        slack, dead = self._SWEEP_SLACK, self._dead
        removed = []
        for oid in oids:
            rec = orders.pop(oid, None)
            if rec is None:
                removed.append(0)
                continue
            qty = rec[0]
            rec[0] = 0  # dead in its queue until matching or a sweep drops it (``cancel``)
            buy = rec[3] == BUY
            totals, key = (bid_t, -rec[4]) if buy else (ask_t, rec[4])
            total = totals[key] - qty
            if total:
                totals[key] = total
            else:
                del totals[key]
                if buy:
                    heap = self._bid_heap
                    del self._bid_q[key]
                else:
                    heap = self._ask_heap
                    del self._ask_q[key]
                if heap[0] == key:
                    heappop(heap)
                    while heap and heap[0] not in totals:
                        heappop(heap)
            dead += 1
            if dead > len(orders) + slack:
                self._sweep()
                dead = 0
            removed.append(qty)
        self._dead = dead
        return removed

    def amend(self, oid: int, price: int, qty: int) -> list[Fill]:
        """Change a resting order's price and/or qty; return the fills of a re-submit.

        Same price and ``0 < qty <= remaining``: reduced in place, keeping its queue position.
        Otherwise the order is cancelled and re-submitted as GTC with the same oid and owner: it
        loses its priority and may match. ``UnknownOrder`` (a ``LookupError``) if not resting.
        """
        rec = self._orders.get(oid)
        if rec is None:
            raise UnknownOrder(f"order {oid} is not resting")
        if qty <= 0:
            raise InvalidInput(f"amend of order {oid}: qty must be > 0 lots, got {qty}")
        if price == rec[4] and qty <= rec[0]:
            cut = rec[0] - qty
            if cut:
                rec[0] = qty
                if rec[3] == BUY:
                    self._bid_t[-price] -= cut
                else:
                    self._ask_t[price] -= cut
            return []
        owner, side = rec[2], rec[3]
        self.cancel(oid)
        return self.submit(oid, owner, side, price, qty, Tif.GTC)

    # --- queries ----------------------------------------------------------------------------
    def order(self, oid: int) -> tuple[int, int, int, int] | None:
        """``(owner, side, price, remaining)`` of a resting order, or ``None``."""
        rec = self._orders.get(oid)
        return None if rec is None else (rec[2], rec[3], rec[4], rec[0])

    def records(self) -> dict[int, list[int]]:
        """The raw order records, oid → ``[remaining, oid, owner, side, price]``, in arrival
        order, for the restored-state audit (``engine/saves/audit.py``); not to be changed."""
        return self._orders

    def order_ids(self) -> list[int]:
        """Every resting oid, in arrival order."""
        return list(self._orders)

    def orders_of(self, owner: int) -> list[int]:
        """Resting oids of ``owner``, oldest arrival first (an amend that loses priority is new)."""
        return [oid for oid, rec in self._orders.items() if rec[2] == owner]

    def best_bid(self) -> int | None:
        heap = self._bid_heap
        return -heap[0] if heap else None

    def best_ask(self) -> int | None:
        heap = self._ask_heap
        return heap[0] if heap else None

    def levels(self, side: int, n: int | None = None) -> list[tuple[int, int]]:
        """L2 of one side: ``(price, total qty)`` best first, all levels or the best ``n``."""
        totals = self._bid_t if side == BUY else self._ask_t
        keys = sorted(totals) if n is None else nsmallest(n, totals)
        return [(-side * key, totals[key]) for key in keys]

    def notional_within(self, lo: int, hi: int) -> int:
        """Sum over both sides of ``price * qty`` of the levels with ``lo <= price <= hi``."""
        bids = sum(-key * qty for key, qty in self._bid_t.items() if lo <= -key <= hi)
        asks = sum(key * qty for key, qty in self._ask_t.items() if lo <= key <= hi)
        return bids + asks

    def volume_until(self, side: int, limit: int | None) -> int:
        """Resting qty on ``side`` that a taker limited at ``limit`` could reach (None: all).

        ``volume_until(SELL, p)`` is the ask qty at prices ``<= p``; ``volume_until(BUY, p)`` the
        bid qty at prices ``>= p``.
        """
        totals = self._bid_t if side == BUY else self._ask_t
        if limit is None:
            return sum(totals.values())
        reach = -side * limit
        return sum(qty for key, qty in totals.items() if key <= reach)

    def resting(self) -> list[tuple[int, int, int, int, int]]:
        """Every live order ``(oid, owner, side, price, remaining)``.

        Bids best price first, then asks best first, time priority within a level;
        ``from_resting`` rebuilds the book from it.
        """
        rows: list[tuple[int, int, int, int, int]] = []
        for queues in (self._bid_q, self._ask_q):
            for key in sorted(queues):
                rows.extend((r[1], r[2], r[3], r[4], r[0]) for r in queues[key] if r[0])
        return rows

    @classmethod
    def from_resting(cls, rows: Iterable[tuple[int, int, int, int, int]],
                     last_trade_price: int | None = None) -> OrderBook:
        """A book holding ``rows`` (as ``resting()`` returns them) with the same priorities.

        Orders at one price keep the rows' order; ``orders_of`` then follows the rows' order too.
        ``InvalidInput`` if a row is malformed, an oid repeats or the rows would cross.
        """
        book = cls()
        for oid, owner, side, price, qty in rows:
            if side != BUY and side != SELL:
                raise InvalidInput(f"order {oid}: side must be BUY (1) or SELL (-1), got {side}")
            if price is None:
                raise InvalidInput(f"order {oid}: a resting order needs a price")
            if book.submit(oid, owner, side, price, qty, Tif.GTC) or book.stp_cancelled:
                raise InvalidInput(f"order {oid} ({_side_name(side)} {qty} at {price}) crosses "
                                   f"the rows before it: a book is never crossed at rest")
        book.last_trade_price = last_trade_price
        return book

    def __len__(self) -> int:
        """Live resting orders."""
        return len(self._orders)

    def __repr__(self) -> str:
        return (f"<OrderBook {len(self._orders)} orders, bid {self.best_bid()} "
                f"ask {self.best_ask()}>")

    # --- internals --------------------------------------------------------------------------
    def _take(self, owner: int, side: int, limit: int | float, qty: int) -> tuple[list[Fill], int]:
        """Match ``qty`` against the opposite side up to key ``limit``: (fills, qty left)."""
        if side == BUY:
            totals, queues, heap = self._ask_t, self._ask_q, self._ask_heap
        else:
            totals, queues, heap = self._bid_t, self._bid_q, self._bid_heap
        orders = self._orders
        fills: list[Fill] = []
        while heap:
            key = heap[0]
            if key > limit:
                break
            price = key * side
            queue = queues[key]
            total = totals[key]
            while True:
                rec = queue[0]
                resting = rec[0]
                if not resting:  # cancelled earlier
                    queue.popleft()
                    continue
                if rec[2] == owner:  # self-trade prevention: cancel the resting order
                    rec[0] = 0
                    total -= resting
                    del orders[rec[1]]
                    self.stp_cancelled.append(rec[1])
                    queue.popleft()
                elif resting <= qty:
                    rec[0] = 0
                    fills.append((rec[1], rec[2], price, resting))
                    qty -= resting
                    total -= resting
                    del orders[rec[1]]
                    queue.popleft()
                else:
                    rec[0] = resting - qty
                    fills.append((rec[1], rec[2], price, qty))
                    total -= qty
                    qty = 0
                if not total or not qty:
                    break
            if total:  # then qty is 0
                totals[key] = total
                break
            del totals[key], queues[key]
            heappop(heap)
            while heap and heap[0] not in totals:
                heappop(heap)
            if not qty:
                break
        if fills:
            self.last_trade_price = fills[-1][2]
        return fills, qty

    def _fillable(self, owner: int, side: int, limit: int | float, qty: int) -> bool:
        """Whether other owners rest at least ``qty`` opposite ``side`` within key ``limit``."""
        if side == BUY:
            totals, queues = self._ask_t, self._ask_q
        else:
            totals, queues = self._bid_t, self._bid_q
        available = 0
        for key in sorted(key for key in totals if key <= limit):
            for rec in queues[key]:
                if rec[0] and rec[2] != owner:
                    available += rec[0]
                    if available >= qty:
                        return True
        return False

    def _sweep(self) -> None:
        """Drop dead records from the queues and stale keys from the heaps."""
        for queues in (self._bid_q, self._ask_q):
            for key, queue in queues.items():
                queues[key] = deque(rec for rec in queue if rec[0])
        self._bid_heap[:] = sorted(self._bid_t)  # a sorted list is a heap
        self._ask_heap[:] = sorted(self._ask_t)
        self._dead = 0


def _side_name(side: int) -> str:
    return Side(side).word
