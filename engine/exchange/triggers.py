"""Conditional orders: stop and take-profit orders the exchange holds until a price reaches them.

A **stop** guards against a move: a stop to sell fires when the price falls to its trigger or
below, a stop to buy when it rises to it or above. A **take-profit** is the mirror: a sell fires at
or above its trigger, a buy at or below. The price watched is the mark, or the last trade
(``MarketRules.stop_trigger``, a level field), checked at every settle before the liquidation
waterfall — so a stop can close a position in the step in which its liquidation would have
started. When one fires it leaves the list and goes into the book as an ordinary order: a market
IOC (no ``limit``) or a GTC limit at ``limit`` (a stop-limit), reduce-only if it was placed so;
``OrderTriggered`` says which order it became, or why the exchange refused it (for a reduce-only
stop whose position is already gone, the reason is that). Triggers share the order ids of the
book's orders (``OrderLedger.next_oid``); a liquidation cancels the account's triggers in the
contracts it liquidates, as it cancels its resting orders. A trigger holds no margin: the order
it becomes is checked like any other when it is sent.

Binance and Bybit trigger stops on the mark or the last price at the trader's choice; the
Binance "Stop Market"/"Take Profit Market" orders and their conditions:
https://www.binance.com/en/support/faq/types-of-order-on-binance-futures-360033779452
"""

from __future__ import annotations

from dataclasses import dataclass

from ..book import BUY, Tif
from ..errors import CrashfloorError, InvalidInput, UnknownOrder
from ..events import OrderTriggered
from .journal import Journal
from .ledger import OrderLedger
from .rules import MarketRules

KINDS = ("stop", "take_profit")


@dataclass(slots=True)
class Trigger:
    """One conditional order."""
    account: int
    s: int
    side: int
    lots: int
    kind: str
    trigger: int
    """Trigger price, ticks."""
    limit: int | None
    """Limit price of the order it becomes (ticks); None: a market order."""
    reduce_only: bool


class TriggerOrders:
    """The exchange's conditional orders (``pending``, by order id) and their firing."""

    __slots__ = ("ledger", "rules", "journal", "pending")

    def __init__(self, ledger: OrderLedger, rules: MarketRules, journal: Journal):
        self.ledger = ledger
        self.rules = rules
        self.journal = journal
        self.pending: dict[int, Trigger] = {}

    def add(self, a: int, s: int, side: int, lots: int, kind: str, trigger: int,
            limit: int | None, reduce_only: bool) -> int:
        """Hold a conditional order; returns its id. Its trigger must be on the far side of the
        price it watches (a sell stop below it, a sell take-profit above it), or it would fire
        at once."""
        if kind not in KINDS:
            raise InvalidInput(f"a conditional order is one of {', '.join(KINDS)}, got {kind!r}")
        self.ledger.check_price(s, trigger, lots)
        if limit is not None:
            self.ledger.check_price(s, limit, lots)
        now = self.price(s)
        if now is not None and self._fires(side, kind, trigger, now):
            word = "below" if (side == BUY) != (kind == "stop") else "above"
            raise InvalidInput(f"a {kind.replace('_', '-')} to {'buy' if side == BUY else 'sell'} "
                               f"would fire at once: its trigger must be {word} the "
                               f"{self.rules.stop_trigger} price now")
        oid = self.ledger.next_oid
        self.ledger.next_oid = oid + 1
        self.pending[oid] = Trigger(a, s, side, lots, kind, trigger, limit, reduce_only)
        return oid

    def cancel(self, oid: int) -> Trigger:
        order = self.pending.pop(oid, None)
        if order is None:
            raise UnknownOrder(f"order {oid!r} is not pending")
        return order

    def cancel_account(self, a: int, symbols: range | list[int]) -> None:
        """Drop account a's triggers in ``symbols`` (a liquidation)."""
        for oid in [o for o, t in self.pending.items() if t.account == a and t.s in symbols]:
            del self.pending[oid]

    def of(self, a: int) -> list[tuple[int, Trigger]]:
        return [(oid, t) for oid, t in self.pending.items() if t.account == a]

    def price(self, s: int) -> int | None:
        """The price the triggers of contract s watch."""
        if self.rules.stop_trigger == "last":
            return self.ledger.books[s].last_trade_price or self.ledger.marks.mark[s]
        return self.ledger.marks.mark[s]

    @staticmethod
    def _fires(side: int, kind: str, trigger: int, price: int) -> bool:
        falling = (side == BUY) != (kind == "stop")  # a sell stop, a buy take-profit
        return price <= trigger if falling else price >= trigger

    def fire(self) -> None:
        """Send every conditional order whose trigger the watched price has reached (in order
        id order) into the book; each one, sent or refused, is an ``OrderTriggered`` event."""
        if not self.pending:
            return
        t = self.journal.t
        for oid in sorted(self.pending):
            order = self.pending[oid]
            now = self.price(order.s)
            if now is None or not self._fires(order.side, order.kind, order.trigger, now) \
                    or self.rules.halted(order.s):
                continue
            del self.pending[oid]
            lots = order.lots
            if order.reduce_only:  # what is left of the position, as a "close position" stop
                pos = self.ledger.acc.q[order.s, order.account]
                if pos and (pos > 0) != (order.side > 0):
                    lots = min(lots, abs(pos))
            try:
                new = self.ledger.place(order.account, order.s, order.side, lots,
                                        order.limit, Tif.IOC if order.limit is None else Tif.GTC,
                                        order.reduce_only)
                error = ""
            except CrashfloorError as e:
                new, error = None, str(e)
            self.journal.emit(OrderTriggered(t, oid, order.account, self.ledger.symbols[order.s],
                                             order.side, lots, order.kind, order.trigger,
                                             now, new, error, order.limit))

    def digest(self) -> list[tuple]:
        return [(oid, t.account, t.s, t.side, t.lots, t.kind, t.trigger, t.limit, t.reduce_only)
                for oid, t in sorted(self.pending.items())]
