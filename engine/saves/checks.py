"""The restored-state audit's checks of an exchange (``audit_exchange``): scalars, accounts,
marks, books, orders, positions and money (what they must satisfy: ``engine.saves.audit``)."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable

import numpy as np

from ..units import MAX_MONEY, MAX_PRICE_TICKS

MAX_PROBLEMS = 8

_INT64_SAFE = 4e18
"""Sums of values whose absolute float sum stays below this cannot overflow int64."""


class _Problems(list):
    def add(self, text: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(text)

    @property
    def full(self) -> bool:
        return len(self) >= MAX_PROBLEMS


def _is_int(v: Any) -> bool:
    return type(v) is int


def _int_in(v: Any, lo: int, hi: int) -> bool:
    return type(v) is int and lo <= v <= hi


def audit_exchange(ex, t: int | None = None) -> list[str]:
    """The problems with an exchange's state (see ``engine.saves.audit``); ``t`` is the
    simulation's clock, which the exchange's must equal."""
    out = _Problems()
    from ..accounts import Accounts
    from ..book import OrderBook
    from ..marks import MarkPricer
    if type(ex.acc) is not Accounts or type(ex.marks) is not MarkPricer or \
            not isinstance(ex.books, list) or not all(type(b) is OrderBook for b in ex.books):
        out.add("exchange: its accounts, marks or books are not engine objects")
        return list(out)
    for what, check in (("the scalars", lambda: _check_scalars(ex, t, out)),
                        ("the accounts", lambda: _check_accounts(ex, out)),
                        ("the marks", lambda: _check_marks(ex, out)),
                        ("the books", lambda: _check_books(ex, out)),
                        ("the orders", lambda: _check_orders(ex, out)),
                        ("the positions", lambda: _check_positions(ex, out)),
                        ("the money", lambda: _check_money(ex, out))):
        if out:
            break  # later checks assume what earlier ones found sound
        _guard(out, what, check)
    return list(out)


def _guard(out: _Problems, what: str, check: Callable[[], None]) -> None:
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - a malformed state may break a check: a problem
        out.add(f"{what} cannot be checked ({type(exc).__name__}: {str(exc)[:80]})")



def _check_scalars(ex, t: int | None, out: _Problems) -> None:
    S = len(ex.symbols)
    if t is not None and ex.t != t:
        out.add(f"exchange.t = {ex.t!r} differs from the simulation's clock {t}")
    for name, value in (("ledger.fee_pool", ex.ledger.fee_pool),
                        ("pools.net_deposits", ex.pools.net_deposits)):
        if not _int_in(value, -MAX_MONEY, MAX_MONEY):
            out.add(f"exchange.{name} = {value!r} is not a whole amount within ±{MAX_MONEY:,}")
    if not _int_in(ex.funds.written_off, 0, MAX_MONEY):
        out.add(f"exchange.funds.written_off = {ex.funds.written_off!r} is not a whole amount "
                f"within 0..{MAX_MONEY:,}")
    if not _int_in(ex.ledger.next_oid, 1, 2**62):
        out.add(f"exchange.ledger.next_oid = {ex.ledger.next_oid!r} is not an order id")
    for name in ("adl_minute", "adl_used", "halted_until"):
        value = getattr(ex.rules, name)
        if not isinstance(value, list) or len(value) != S or not all(
                _int_in(v, -1, 2**62) for v in value):
            out.add(f"exchange.rules.{name} must be {S} whole numbers")
    highs = ex.rules.halt_highs
    if not isinstance(highs, list) or len(highs) != S or not all(
            isinstance(h, list) and all(isinstance(p, tuple) and len(p) == 2 and _is_int(p[0])
                                        and _int_in(p[1], 1, MAX_PRICE_TICKS) for p in h)
            for h in highs):
        out.add("exchange.rules.halt_highs must be a list of (time, mark) per symbol")
    if not isinstance(ex.rules.halts, list) or not all(
            isinstance(h, tuple) and len(h) == 3 and _int_in(h[0], 0, S - 1)
            and _is_int(h[1]) and _is_int(h[2]) for h in ex.rules.halts):
        out.add("exchange.rules.halts must be a list of (symbol, start, end)")
    lit = ex.lit_positions
    if not isinstance(lit, list) or len(lit) != S or not all(
            isinstance(a, np.ndarray) and a.dtype == np.int64 and a.ndim == 1
            and (a.size == 0 or (0 <= a.min() and a.max() < ex.acc.n)) for a in lit):
        out.add("exchange.lit_positions must be one array of account ids per symbol")
    if not isinstance(ex.ledger.reduce_only, dict):
        out.add("exchange.ledger.reduce_only is not a map")


def _check_accounts(ex, out: _Problems) -> None:
    acc = ex.acc
    S = len(ex.symbols)
    cap, n = acc.capacity, acc.n
    if not (_is_int(cap) and _is_int(n) and 0 <= n <= cap <= 2**40):
        out.add(f"exchange.acc: {n!r} accounts in a capacity of {cap!r}")
        return
    for name in acc._COLUMNS + acc._MATRICES:
        arr = getattr(acc, name, None)
        shape = (cap,) if name in acc._COLUMNS else (S, cap)
        if not isinstance(arr, np.ndarray) or arr.shape != shape or \
                arr.dtype != np.dtype(acc._DTYPES[name]):
            got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
            out.add(f"exchange.acc.{name}: expected a {np.dtype(acc._DTYPES[name])} array of "
                    f"shape {shape}, found {got}")
    if out:
        return
    funds = np.flatnonzero(acc.is_fund[:n]).tolist()
    if funds != sorted(ex.funds.ids) or not all(_int_in(f, 0, n - 1) for f in ex.funds.ids):
        out.add("exchange.acc.is_fund does not mark exactly the insurance funds")
    for name in ("wallet", "order_margin", "iso_margin", "cost"):
        arr = getattr(acc, name)[..., :n]
        if arr.size and float(np.abs(arr.astype(np.float64)).max()) > MAX_MONEY:
            out.add(f"exchange.acc.{name}: an amount beyond ±{MAX_MONEY:,} money units")
        elif arr.size and float(np.abs(arr.astype(np.float64)).sum()) > _INT64_SAFE:
            out.add(f"exchange.acc.{name}: the amounts add up past what the engine can count")
    if (acc.order_margin[:n] < 0).any():
        out.add("exchange.acc.order_margin: a negative order margin")
    qty = acc.qty[:, :n]
    if qty.size and float(np.abs(qty.astype(np.float64)).sum()) > _INT64_SAFE:
        out.add("exchange.acc.qty: positions too large to count")
        return
    for s, sym in enumerate(ex.symbols):
        net = int(qty[s].sum())
        if net:
            out.add(f"{sym}: positions do not net to zero ({net:+,} lots without a "
                    f"counterparty)")
    flat = qty == 0
    if (acc.cost[:, :n][flat] != 0).any() or (acc.iso_margin[:, :n][flat] != 0).any():
        out.add("exchange.acc: a flat position with a cost basis or isolated margin")
    lev = acc.leverage[:, :n]
    for s, inst in enumerate(ex.instruments):
        top = inst.max_leverage
        bad = np.flatnonzero((lev[s] < 1) | (lev[s] > top))
        if bad.size:
            a = int(bad[0])
            out.add(f"{inst.symbol}: account {a} has leverage {int(lev[s, a])}× (1 to {top}× "
                    f"allowed)")
    open_iso = acc.iso[:, :n] & ~flat
    if (acc.iso_margin[:, :n][open_iso] < 0).any():
        s, a = (int(v[0]) for v in np.nonzero(open_iso & (acc.iso_margin[:, :n] < 0)))
        out.add(f"{ex.symbols[s]}: account {a}'s isolated position has negative margin")
    if acc.iso[:, :n][:, acc.is_fund[:n]].any():
        out.add("exchange.acc.iso: an insurance fund with an isolated position")
    light = acc.adl_light[:, :n]
    if light.size and (int(light.min()) < 0 or int(light.max()) > 5):
        out.add("exchange.acc.adl_light: a light outside 0..5")
    if not ex.rules.adl_breaker:
        for f in ex.funds.ids:
            if int(acc.wallet[f]) < ex.funds.floor:
                out.add(f"insurance fund {ex.funds.names[ex.funds.ids.index(f)]} holds "
                        f"{int(acc.wallet[f]) / 1e6:,.2f} USD, below its floor "
                        f"{ex.funds.floor / 1e6:,.2f} USD")


def _check_marks(ex, out: _Problems) -> None:
    m = ex.marks
    S = len(ex.symbols)
    for name in ("index", "mark"):
        values = getattr(m, name)
        if not isinstance(values, list) or len(values) != S:
            out.add(f"exchange.marks.{name} must hold one price per symbol")
            continue
        for s, v in enumerate(values):
            if v is not None and not _int_in(v, 1, MAX_PRICE_TICKS):
                out.add(f"{ex.symbols[s]}: {name} price {v!r} is not a whole number of ticks "
                        f"in 1..{MAX_PRICE_TICKS:,}")
    if not isinstance(m.basis, list) or len(m.basis) != S or not all(
            type(b) in (int, float) and math.isfinite(b) and abs(b) <= MAX_PRICE_TICKS
            for b in m.basis):
        out.add("exchange.marks.basis must be finite numbers, one per symbol")
    if not isinstance(m.traded, list) or len(m.traded) != S or \
            not all(type(v) is bool for v in m.traded):
        out.add("exchange.marks.traded must be one flag per symbol")
    if not isinstance(m.fresh, list) or len(m.fresh) != S or \
            not all(_int_in(v, 0, 2**31) for v in m.fresh):
        out.add("exchange.marks.fresh must be step counts, one per symbol")


def _check_books(ex, out: _Problems) -> None:
    from collections import deque
    from ..book import BUY, SELL
    n = ex.acc.n
    for s, book in enumerate(ex.books):
        sym = ex.symbols[s]
        orders: dict[int, list[int]] = book.records()  # as it should be; checked below
        if not isinstance(orders, dict):
            out.add(f"{sym} book: its orders are not a map")
            continue
        for oid, rec in orders.items():
            if not (_int_in(oid, 1, 2**62) and type(rec) is list and len(rec) == 5
                    and all(_is_int(v) for v in rec) and rec[1] == oid and rec[0] > 0
                    and rec[0] <= 2**62 and 0 <= rec[2] < n and rec[3] in (BUY, SELL)
                    and 1 <= rec[4] <= MAX_PRICE_TICKS):
                out.add(f"{sym} book: order {_short(oid)} has a malformed record {_short(rec)}")
                return
        for side, totals, queues, heap in ((BUY, book._bid_t, book._bid_q, book._bid_heap),
                                           (SELL, book._ask_t, book._ask_q, book._ask_heap)):
            name = "bid" if side == BUY else "ask"
            if not (isinstance(totals, dict) and isinstance(queues, dict)
                    and isinstance(heap, list)):
                out.add(f"{sym} book: its {name} levels are malformed")
                return
            if set(totals) != set(queues):
                out.add(f"{sym} book: {name} level totals and queues disagree")
                return
            seen = 0
            for key, queue in queues.items():
                total = totals[key]
                if not (_is_int(key) and type(queue) is deque and _int_in(total, 1, 2**62)):
                    out.add(f"{sym} book: {name} level {_short(key)} is malformed")
                    return
                live = 0
                for rec in queue:
                    if type(rec) is not list or len(rec) != 5 or not _is_int(rec[0]):
                        out.add(f"{sym} book: a malformed record at {name} level {key}")
                        return
                    if rec[0] == 0:
                        continue
                    if orders.get(rec[1]) is not rec or rec[3] != side or -side * key != rec[4]:
                        out.add(f"{sym} book: a resting record at {name} level {key} is not "
                                f"its order's")
                        return
                    live += rec[0]
                    seen += 1
                if live != total:
                    out.add(f"{sym} book: {name} level {key} totals {total}, its orders "
                            f"{live}")
                    return
            if seen != sum(1 for r in orders.values() if r[3] == side):
                out.add(f"{sym} book: {name} orders missing from their price levels")
                return
            if not all(_is_int(k) for k in heap) or \
                    any(heap[i] > heap[c] for i in range(len(heap))
                        for c in (2 * i + 1, 2 * i + 2) if c < len(heap)):
                out.add(f"{sym} book: the {name} heap is malformed")
                return
            if not set(totals) <= set(heap) or (heap and heap[0] != min(totals, default=None)):
                out.add(f"{sym} book: the {name} heap does not lead to the best level")
                return
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            out.add(f"{sym} book: crossed (bid {bid} ≥ ask {ask})")
        if not _int_in(book._dead, 0, 2**62):
            out.add(f"{sym} book: bad dead-record count {book._dead!r}")
        last = book.last_trade_price
        if last is not None and not _int_in(last, 1, MAX_PRICE_TICKS):
            out.add(f"{sym} book: last trade price {last!r} out of range")
        if book.stp_cancelled != []:
            out.add(f"{sym} book: self-trade cancels left unprocessed")


def _check_orders(ex, out: _Problems) -> None:
    from ..exchange import OrderInfo
    acc = ex.acc
    n, S = acc.n, len(ex.symbols)
    margin_of: dict[int, int] = {}
    booked = {oid: s for s, book in enumerate(ex.books) for oid in book.records()}
    top = 0
    for oid, info in ex.ledger.orders.items():
        if not _int_in(oid, 1, 2**62) or type(info) is not OrderInfo:
            out.add(f"exchange.ledger.orders: entry {_short(oid)} is not an order record")
            return
        top = max(top, oid)
        if not (_int_in(info.account, 0, n - 1) and _int_in(info.s, 0, S - 1)
                and info.side in (1, -1) and _is_int(info.side)
                and _int_in(info.price, 1, MAX_PRICE_TICKS) and type(info.reduce_only) is bool
                and _int_in(info.leverage, 1, ex.instruments[info.s].max_leverage)
                and _int_in(info.margin, 0, MAX_MONEY)):
            out.add(f"order {oid}: malformed record (account, symbol, side, price, leverage "
                    f"or margin out of range)")
            return
        if booked.get(oid) != info.s:
            out.add(f"order {oid}: recorded by the exchange but not resting in its book")
            return
        rec = ex.books[info.s].records()[oid]
        if (rec[2], rec[3], rec[4]) != (info.account, info.side, info.price):
            out.add(f"order {oid}: the exchange's record and the book's disagree")
            return
        want = 0 if info.reduce_only else \
            -(-rec[0] * info.price * ex.units[info.s] // info.leverage)
        if info.margin != want:
            out.add(f"order {oid}: margin {info.margin:,} where {rec[0]} lots at {info.price} "
                    f"and {info.leverage}× need {want:,}")
            return
        margin_of[info.account] = margin_of.get(info.account, 0) + info.margin
    extra = set(booked) - set(ex.ledger.orders)
    if extra:
        out.add(f"order {min(extra)}: resting in a book without the exchange's record")
        return
    top = max([top] + list(booked))
    if ex.ledger.next_oid <= top:
        out.add(f"exchange.ledger.next_oid = {ex.ledger.next_oid} would reuse order id {top}")
    want = np.zeros(n, dtype=np.int64)
    for a, m in margin_of.items():
        want[a] = m
    diff = np.flatnonzero(acc.order_margin[:n] != want)
    if diff.size:
        a = int(diff[0])
        out.add(f"account {a}: order margin {int(acc.order_margin[a]):,} where its orders "
                f"reserve {int(want[a]):,}")
    for a, ids in ex.ledger.reduce_only.items():
        if not _int_in(a, 0, n - 1) or not isinstance(ids, dict) or not all(
                ids[o] is None and o in ex.ledger.orders and ex.ledger.orders[o].account == a
                and ex.ledger.orders[o].reduce_only for o in ids):
            out.add(f"exchange.ledger.reduce_only: entry {_short(a)} lists orders that are not its "
                    f"reduce-only orders")
            return
    listed = {o for ids in ex.ledger.reduce_only.values() for o in ids}
    if any(info.reduce_only and oid not in listed for oid, info in ex.ledger.orders.items()):
        out.add("exchange.ledger.reduce_only: a reduce-only order is not listed")


def _check_positions(ex, out: _Problems) -> None:
    acc = ex.acc
    n = acc.n
    marks = ex.marks.mark
    if any(m is None for m in marks) or n == 0:
        return
    qty = acc.qty[:, :n]
    units = np.array(ex.units, dtype=np.float64)[:, None]
    price = np.array(marks, dtype=np.float64)[:, None]
    value_f = qty.astype(np.float64) * price * units
    if float(np.abs(value_f).max()) > MAX_MONEY:
        s, a = (int(v[0]) for v in np.nonzero(np.abs(value_f) > MAX_MONEY))
        out.add(f"{ex.symbols[s]}: account {a}'s position is worth more than "
                f"{MAX_MONEY // 10**6:,} USD")
        return
    value = qty * np.array(marks, dtype=np.int64)[:, None] * np.array(ex.units,
                                                                      dtype=np.int64)[:, None]
    cross = ~acc.iso[:, :n] & (qty != 0)
    upnl = np.where(cross, value - acc.cost[:, :n], 0).sum(axis=0)
    equity = acc.wallet[:n] + upnl
    trader = ~acc.is_fund[:n]
    halted = np.array([ex.rules.halted_until[s] > ex.t for s in range(len(ex.symbols))])
    in_halt = (cross & halted[:, None]).any(axis=0)
    bad = np.flatnonzero(trader & cross.any(axis=0) & (equity < 0) & ~in_halt)
    if bad.size:
        a = int(bad[0])
        out.add(f"account {a}: cross positions open with negative equity "
                f"({int(equity[a]) / 1e6:,.2f} USD) and nothing liquidated it")


def _check_money(ex, out: _Problems) -> None:
    total, deposits = ex.total_money(), ex.net_deposits
    if total != deposits:
        out.add(f"money does not add up: the accounts hold {total / 1e6:,.6f} USD, deposits "
                f"were {deposits / 1e6:,.6f} USD")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
