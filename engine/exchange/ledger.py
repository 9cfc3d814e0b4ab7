"""The order ledger: resting orders, their margin, reduce-only bookkeeping, self-trade prevention,
and every fill booked to the accounts.

Every order the exchange sends into a book goes through ``submit`` (the public order path, the
market makers' ladders, liquidations and the funds' work-out), so "send it into the book and
settle its fills" is written once; ``place``, the per-order hot path, has it inline (a call there
costs about as much as a non-crossing order's checks). Each order is checked before anything
changes: the price band and notional cap, reduce-only, the initial margin (with the open loss of a
limit priced through the mark), leverage, halts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..accounts import Accounts
from ..book import BUY, SELL, OrderBook, Tif
from ..errors import (InsufficientMargin, InvalidInput, OrderRejected, ReduceOnlyError,
                      UnknownOrder)
from ..events import OrderCancelled, Trade
from ..instruments import PPM, Instrument
from ..marks import MarkPricer
from ..units import MAX_NOTIONAL, MAX_PRICE_TICKS, MONEY_PER_USD, Grid
from .journal import Journal
from ..margin import initial_margin
from .pools import MarginPools
from .rules import MarketRules

_GTC, _POST_ONLY = Tif.GTC, Tif.POST_ONLY  # module globals: read on every order

Fill = tuple[int, int, int, int]
"""(maker order id, maker account, price ticks, lots), as the book reports it."""


@dataclass(slots=True)
class OrderInfo:
    """What the exchange keeps about a resting order beyond the book's own record."""
    account: int
    s: int
    side: int
    price: int
    leverage: int
    reduce_only: bool
    margin: int


class OrderLedger:
    """Orders in, fills out: owns the resting orders' records (``orders``), the reduce-only index,
    the next order id and the fee pool."""

    __slots__ = ("instruments", "symbols", "books", "acc", "marks", "pools", "rules", "journal",
                 "price_grid", "qty_grid", "orders", "reduce_only", "next_oid", "fee_pool")

    def __init__(self, instruments: list[Instrument], books: list[OrderBook], acc: Accounts,
                 marks: MarkPricer, pools: MarginPools, rules: MarketRules, journal: Journal,
                 price_grid: list[Grid], qty_grid: list[Grid]):
        self.instruments = instruments
        self.symbols = [inst.symbol for inst in instruments]
        self.books = books
        self.acc = acc
        self.marks = marks
        self.pools = pools
        self.rules = rules
        self.journal = journal
        self.price_grid = price_grid
        self.qty_grid = qty_grid
        self.orders: dict[int, OrderInfo] = {}
        self.reduce_only: dict[int, dict[int, None]] = {}
        self.next_oid = 1
        self.fee_pool = 0

    # --- the book path ---------------------------------------------------------------------------
    def submit(self, a: int, s: int, side: int, lots: int, ticks: int | None, tif: Tif,
               liquidation: bool = False) -> tuple[int, list[Fill]]:
        """Send an order into book s under a new id and book its fills; returns (id, fills).
        Nothing is checked here: callers check first."""
        oid = self.next_oid
        self.next_oid = oid + 1
        book = self.books[s]
        fills = book.submit(oid, a, side, ticks, lots, tif)
        if book.stp_cancelled:
            self._drain_stp(s)
        if fills:
            self._settle_fills(s, a, side, oid, fills, liquidation)
        return oid, fills

    def take_ioc(self, a: int, s: int, side: int, lots: int, limit: int) -> list[Fill]:
        """A liquidation's or a fund's IOC (no taker fee, no checks); returns its fills."""
        return self.submit(a, s, side, lots, limit, Tif.IOC, True)[1]

    def take_fok(self, a: int, s: int, side: int, lots: int, limit: int) -> list[Fill]:
        """A liquidation's fill-or-kill (a risk-tier step-down): all ``lots`` at ``limit`` or
        better, or no fill and no change."""
        return self.submit(a, s, side, lots, limit, Tif.FOK, True)[1]

    def place(self, a: int, s: int, side: int, lots: int, ticks: int | None, tif: Tif,
              reduce_only: bool = False) -> int:
        """Check and place one order in grid units (the agents' path); raises before any change.
        The per-order hot path: ``check_price`` and ``submit`` are inlined for the common case."""
        if self.rules.halted_until[s] > self.journal.t:
            self.rules.check_halted(s)
        acc = self.acc
        pos = acc.q[s, a]
        book = self.books[s]
        resting = tif is _GTC or tif is _POST_ONLY
        if tif is _POST_ONLY:
            assert ticks is not None  # entry.place gives every post-only order a price
            opp = book.best_ask() if side > 0 else book.best_bid()
            if opp is not None and (ticks >= opp if side > 0 else ticks <= opp):
                raise OrderRejected(f"post-only {('buy', 'sell')[side < 0]} at {ticks} ticks would "
                                    f"cross the best {('ask', 'bid')[side < 0]} at {opp}")
        unit = self.pools.units[s]
        mark = self.marks.mark[s]
        inst = self.instruments[s]
        # check_price passes a priced order under the notional cap inside the band (the band
        # compared without building it: t ≤ ⌊x⌋ ⇔ t ≤ x); anything else gets the full check
        if (ticks is None or mark is None or lots * ticks * unit > MAX_NOTIONAL
                or not mark * (PPM - inst.band_down_ppm) <= ticks * PPM
                <= mark * (PPM + inst.band_up_ppm)):
            self.check_price(s, ticks, lots)
        lev = acc.lev[s, a]
        if reduce_only:
            self._check_reduce_only(a, s, side, lots, pos)
        else:
            opening = lots if pos * side >= 0 else lots - abs(pos)
            if opening > 0:
                self._check_opening(a, s, side, opening, ticks, lev, pos, resting)
        oid = self.next_oid  # submit(), inline
        self.next_oid = oid + 1
        fills = book.submit(oid, a, side, ticks, lots, tif)
        if book.stp_cancelled:
            self._drain_stp(s)
        if fills:
            self._settle_fills(s, a, side, oid, fills, False)
            if not resting:
                return oid
            rest = book.order(oid)
            if rest is None:
                return oid
            lots = rest[3]
        elif not resting:
            return oid
        # a GTC or post-only order that did not trade rests whole at its limit (book.submit)
        assert ticks is not None  # the book refuses a market order that is not IOC
        margin = 0 if reduce_only else initial_margin(lots * ticks * unit, lev)
        self.orders[oid] = OrderInfo(a, s, side, ticks, lev, reduce_only, margin)
        acc.om[a] += margin
        if reduce_only:
            self.reduce_only.setdefault(a, {})[oid] = None
        return oid

    def post_ladder(self, a: int, s: int, quotes: list[tuple[int, int, int]]) -> list[int]:
        """Post-only quotes ``(side, lots, ticks)`` for one account and symbol (the market makers'
        path): one margin check for the whole ladder, then each quote is posted; a quote that
        would cross is skipped. Returns the posted ids. Raises ``InsufficientMargin`` (nothing
        posted) if the ladder's margin exceeds what is free, and ``InvalidInput`` (nothing
        posted: ``OrderBook.post_many`` checks first) for a quote of no lots."""
        if self.rules.halted_until[s] > self.journal.t:
            self.rules.check_halted(s)
        acc, book, unit = self.acc, self.books[s], self.pools.units[s]
        lev = acc.lev[s, a]
        held = abs(acc.q[s, a])
        margins = []
        worst = 0  # the largest position a quote could leave: its bracket caps the leverage
        for _, lots, ticks in quotes:
            margins.append(-(-(lots * ticks * unit) // lev))  # initial_margin, inline
            if (held + lots) * ticks > worst:
                worst = (held + lots) * ticks
        worst *= unit
        need = sum(margins)
        free = self.pools.available(a)
        if need > free:
            raise InsufficientMargin(
                f"account {a}: {self.symbols[s]} quotes need {need / MONEY_PER_USD:,.2f} USD of "
                f"margin at {lev}×; {max(free, 0) / MONEY_PER_USD:,.2f} USD is available")
        self.instruments[s].check_leverage(lev, worst)
        first = self.next_oid
        rested = book.post_many(a, quotes, first)
        self.next_oid = first + len(rested)
        orders = self.orders
        for oid, i in enumerate(rested, first):
            side, _, ticks = quotes[i]
            orders[oid] = OrderInfo(a, s, side, ticks, lev, False, margins[i])
        acc.om[a] += sum(margins[i] for i in rested)
        return list(range(first, first + len(rested)))

    # --- checks ----------------------------------------------------------------------------------
    def check_price(self, s: int, ticks: int | None, lots: int) -> None:
        """The price band around the mark (``Instrument.band``) and the notional cap
        (``MAX_NOTIONAL``): an order no market could mean is refused before it reserves margin."""
        mark = self.marks.mark[s]
        ref = ticks if ticks is not None else mark
        if ref is not None and lots * ref * self.pools.units[s] > MAX_NOTIONAL:
            raise OrderRejected(f"{self.symbols[s]}: an order of {self.qty_grid[s].value(lots)} "
                                f"at {self.price_grid[s].value(ref)} is over the "
                                f"{MAX_NOTIONAL // MONEY_PER_USD:,} USD notional cap")
        if ticks is None:
            return
        if mark is None:
            if ticks > MAX_PRICE_TICKS:
                raise OrderRejected(f"{self.symbols[s]}: price {ticks} ticks is over the cap "
                                    f"{MAX_PRICE_TICKS:,}")
            return
        inst = self.instruments[s]  # the band, compared without building it: t ≤ ⌊x⌋ ⇔ t ≤ x
        if mark * (PPM - inst.band_down_ppm) <= ticks * PPM <= mark * (PPM + inst.band_up_ppm):
            return
        lo, hi = inst.band(mark)
        if not lo <= ticks <= hi:
            grid = self.price_grid[s]
            raise OrderRejected(f"{self.symbols[s]}: limit price {grid.value(ticks)} is outside the "
                                f"price band {grid.value(lo)}..{grid.value(hi)} around the mark "
                                f"{grid.value(mark)}")

    def _check_reduce_only(self, a: int, s: int, side: int, lots: int, pos: int) -> None:
        if pos == 0 or (pos > 0) == (side > 0):
            raise ReduceOnlyError(f"account {a}: reduce-only {('buy', 'sell')[side < 0]} of {lots} "
                                  f"lots would not reduce the {self.symbols[s]} position ({pos} lots)")
        book, resting = self.books[s], 0
        for o in self.reduce_only.get(a, ()):
            if self.orders[o].s == s:
                rest = book.order(o)
                assert rest is not None  # the ledger forgets an order when it stops resting
                resting += rest[3]
        room = abs(pos) - resting
        if lots > room:
            raise ReduceOnlyError(f"account {a}: reduce-only order of {lots} lots exceeds what is "
                                  f"left to reduce of the {self.symbols[s]} position: {max(room, 0)} "
                                  f"lots ({abs(pos)} held, {resting} in reduce-only orders)")

    def _check_opening(self, a: int, s: int, side: int, opening: int, ticks: int | None,
                       lev: int, pos: int, resting: bool = False) -> None:
        """Initial margin for the opening part of an order, at its limit (a market order: the
        worse of mark and touch). A limit that may rest (``resting``) and is priced through the
        mark also needs its *open loss*, what filling at its own price loses at once against the
        mark (Binance's open loss), so no order can leave its account bankrupt on arrival."""
        unit = self.pools.units[s]
        ref = ticks
        mark_or = self.pools.mark_or
        if ref is None:  # market order: margin at the worse of mark and the touch
            book = self.books[s]
            touch = book.best_ask() if side > 0 else book.best_bid()
            ref = max(mark_or(s, 0), touch or 0) if side > 0 else mark_or(s, touch or 0)
            if not ref:
                raise OrderRejected(f"{self.symbols[s]}: no price to size a market order against")
        need = initial_margin(opening * ref * unit, lev)
        mark = self.marks.mark[s]
        if resting and mark is not None and (ref - mark) * side > 0:
            need += opening * (ref - mark) * side * unit
        notional = (abs(pos) + opening) * ref * unit
        inst = self.instruments[s]
        if lev > inst.bracket(notional).max_leverage:
            inst.check_leverage(lev, notional)
        free = self.pools.available(a)
        if need > free:
            raise InsufficientMargin(
                f"account {a}: {self.symbols[s]} order needs {need / MONEY_PER_USD:,.2f} USD of "
                f"initial margin at {lev}×; {max(free, 0) / MONEY_PER_USD:,.2f} USD is available")

    # --- fills -----------------------------------------------------------------------------------
    def _settle_fills(self, s: int, taker: int, side: int, taker_oid: int,
                      fills: list[Fill], liquidation: bool) -> None:
        """Book every fill of one incoming order: positions, fees, the makers' order margin."""
        acc, orders, records = self.acc, self.orders, self.books[s].records()
        unit = self.pools.units[s]
        inst = self.instruments[s]
        taker_ppm = 0 if liquidation else inst.taker_fee_ppm
        maker_ppm = inst.maker_fee_ppm
        symbol, t, emit = self.symbols[s], self.journal.t, self.journal.events.append
        touched = {taker: None} if self.reduce_only else None
        if fills:
            self.marks.traded[s] = True
        apply, om, reduce_only = acc.apply_fill, acc.om, self.reduce_only
        fees = 0
        for maker_oid, maker, price, q in fills:
            value = q * price * unit
            taker_fee = -(-value * taker_ppm // PPM)  # ceil: fees round against the payer
            maker_fee = -(-value * maker_ppm // PPM) if maker_ppm >= 0 \
                else -(value * -maker_ppm // PPM)
            apply(taker, s, side * q, price, unit, taker_fee)
            apply(maker, s, -side * q, price, unit, maker_fee)
            fees += taker_fee + maker_fee
            info = orders[maker_oid]
            rest = records.get(maker_oid)  # the book's record: [remaining, oid, owner, ...]
            if rest is None:
                om[maker] -= info.margin
                del orders[maker_oid]
                ro = reduce_only.get(maker)
                if ro is not None:
                    ro.pop(maker_oid, None)
            elif info.margin:
                margin = initial_margin(rest[0] * info.price * unit, info.leverage)
                om[maker] += margin - info.margin
                info.margin = margin
            if touched is not None:
                touched[maker] = None
            emit(Trade(t, symbol, price, q, taker, maker, side, taker_oid, maker_oid, liquidation))
        self.fee_pool += fees
        if touched:
            for a in touched:
                if a in self.reduce_only:
                    self.trim_reduce_only(a, s)

    def trim_reduce_only(self, a: int, s: int) -> None:
        """Keep an account's resting reduce-only orders within its position: newest go first."""
        ro = self.reduce_only.get(a)
        if not ro:
            return
        pos = self.acc.q[s, a]
        book = self.books[s]
        room = abs(pos)
        for oid in list(ro):
            info = self.orders[oid]
            rest = book.order(oid) if info.s == s else None
            if rest is None:
                continue  # another symbol, or the order being filled right now (its caller forgets it)
            size = rest[3]
            if pos == 0 or (pos > 0) == (info.side > 0) or room <= 0:
                self.cancel(oid, "reduce-only outgrew position")
            elif size > room:
                book.amend(oid, info.price, room)
                self.journal.emit(OrderCancelled(self.journal.t, oid, a, self.symbols[s],
                                                 size - room, "reduce-only trimmed"))
                room = 0
            else:
                room -= size

    def _drain_stp(self, s: int) -> None:
        book = self.books[s]
        for oid in book.stp_cancelled:
            self._forget(oid, book_qty=None, reason="self-trade prevention")
        book.stp_cancelled.clear()

    def _forget(self, oid: int, book_qty: int | None, reason: str | None) -> None:
        """Drop the record of an order that left the book; an event unless filled."""
        info = self.orders.pop(oid)
        self.acc.om[info.account] -= info.margin
        ro = self.reduce_only.get(info.account)
        if ro is not None:
            ro.pop(oid, None)
        if reason is not None:
            journal = self.journal
            journal.events.append(OrderCancelled(journal.t, oid, info.account,
                                                 self.symbols[info.s], book_qty or 0, reason))

    # --- cancel, amend, close --------------------------------------------------------------------
    def cancel(self, oid: int, reason: str) -> int:
        """Cancel a resting order (no-op, 0, if it is not resting); returns the lots cancelled."""
        info = self.orders.get(oid)
        if info is None:
            return 0
        lots = self.books[info.s].cancel(oid)
        self._forget(oid, lots, reason)
        return lots

    def cancel_many(self, s: int, oids: list[int], reason: str) -> None:
        """``cancel`` each of ``oids`` (orders in symbol s; those no longer resting are skipped):
        the makers' re-quote, one call for a ladder. The margin released is summed per account
        and taken off once (integers: the same as order by order)."""
        orders = self.orders
        live, infos = [], []
        for oid in dict.fromkeys(oids):  # each once, in order
            info = orders.get(oid)
            if info is not None:
                live.append(oid)
                infos.append(info)
        if not live:
            return
        if any(info.s != s for info in infos):
            stray = [oid for oid, info in zip(live, infos, strict=True) if info.s != s]
            raise InvalidInput(f"orders {stray} are not in {self.symbols[s]}")
        for oid in live:
            del orders[oid]
        reduce_only, symbol = self.reduce_only, self.symbols[s]
        journal = self.journal
        t, emit = journal.t, journal.events.append
        released: dict[int, int] = {}
        for oid, info, lots in zip(live, infos, self.books[s].cancel_many(live), strict=True):
            a = info.account
            released[a] = released.get(a, 0) + info.margin
            if reduce_only:
                ro = reduce_only.get(a)
                if ro is not None:
                    ro.pop(oid, None)
            emit(OrderCancelled(t, oid, a, symbol, lots, reason))
        om = self.acc.om
        for a, margin in released.items():
            om[a] -= margin

    def cancel_account(self, a: int, symbols: range | list[int], reason: str) -> int:
        """Cancel every resting order of account a in ``symbols``; returns the count."""
        count = 0
        for s in symbols:
            for oid in self.books[s].orders_of(a):
                self.cancel(oid, reason)
                count += 1
        return count

    def has_orders(self, a: int, s: int) -> bool:
        return any(self.orders[o].s == s for o in self.books[s].orders_of(a))

    def close(self, a: int, s: int, lots: int) -> int:
        """A reduce-only market order of ``lots`` against a's position in s; the account's
        resting reduce-only orders there are replaced by it."""
        pos = self.acc.q[s, a]
        for oid in [o for o in self.reduce_only.get(a, ()) if self.orders[o].s == s]:
            self.cancel(oid, "replaced by close")
        return self.place(a, s, SELL if pos > 0 else BUY, lots, None, Tif.IOC, True)

    def amend(self, oid: int, ticks: int | None, lots: int | None) -> None:
        """Change a resting order's price and/or size (grid units; None keeps it). A size cut
        keeps its place in the queue; anything else re-queues it (and it trades if it crosses)."""
        info = self.orders.get(oid) if type(oid) is int else None
        if info is None:
            raise UnknownOrder(f"order {oid!r} is not resting (filled, cancelled or never placed)")
        s, a = info.s, info.account
        book = self.books[s]
        rest = book.order(oid)
        assert rest is not None  # it is in self.orders: it rests
        remaining = rest[3]
        ticks = info.price if ticks is None else ticks
        lots = remaining if lots is None else lots
        if ticks != info.price or lots > remaining:
            self.check_price(s, ticks, lots)
        if ticks == info.price and lots <= remaining:
            book.amend(oid, ticks, lots)
            self._rereserve(info, lots)
            return
        self.rules.check_halted(s)  # a size cut is allowed in a halt; a re-queue is not
        self._check_amend(info, ticks, lots, remaining)
        fills = book.amend(oid, ticks, lots)
        info.price = ticks
        if book.stp_cancelled:
            self._drain_stp(s)
        if fills:
            self._settle_fills(s, a, info.side, oid, fills, False)
        if oid not in self.orders:
            return  # a reduce-only order its own fills left nothing to reduce: already cancelled
        rest = book.order(oid)
        if rest is None:
            self._forget(oid, None, None)
        else:
            self._rereserve(info, rest[3])

    def _rereserve(self, info: OrderInfo, lots: int) -> None:
        new_margin = initial_margin(lots * info.price * self.pools.units[info.s], info.leverage) \
            if not info.reduce_only else 0
        self.acc.om[info.account] += new_margin - info.margin
        info.margin = new_margin

    def _check_amend(self, info: OrderInfo, ticks: int, lots: int, remaining: int) -> None:
        """Validate an amend as if the order were placed anew, its own margin and size freed."""
        a, s = info.account, info.s
        pos = self.acc.q[s, a]
        if info.reduce_only:
            room = lots - remaining
            if room > 0:
                self._check_reduce_only(a, s, info.side, room, pos)
            return
        self.acc.om[a] -= info.margin
        try:
            opening = lots if pos * info.side >= 0 else lots - abs(pos)
            if opening > 0:
                self._check_opening(a, s, info.side, opening, ticks, info.leverage, pos, True)
        finally:
            self.acc.om[a] += info.margin

    def digest(self) -> list[tuple]:
        """The resting orders' records, sorted, for the exchange checksum."""
        return sorted((oid, i.account, i.s, i.side, i.price, i.leverage, i.reduce_only, i.margin)
                      for oid, i in self.orders.items())
