"""The coin exchange's views and events in the venue's units (``inverse.CoinExchange`` binds
them): contracts with longs above zero, prices in USD on each contract's tick, amounts in the
coin; the core's records (``views.py``, ``events.py``) are reused with those values."""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..book import BUY, SELL, Side
from ..errors import InvalidInput
from ..events import AdlFill, Event, InsuranceTakeover, LiquidationFill, LiquidationStarted
from .views import AccountView, OrderView, PositionView, TriggerView

if TYPE_CHECKING:
    from .inverse import CoinExchange

_AT_BANKRUPTCY = {LiquidationStarted: 1, LiquidationFill: 1, InsuranceTakeover: 1, AdlFill: -1}
"""Events whose bankruptcy price (and, for a takeover or an ADL fill, price) is shown rounded
toward the liquidated position's entry: 1 when ``side`` is that position's side, −1 when it is
the counterparty's."""
_EVENT_SIDES = ("side", "taker_side")
_EVENT_PRICES = ("price", "bankruptcy_price", "mark", "trigger", "limit")


def event(cx: CoinExchange, e: Event) -> Event:
    """A core event as the venue tells it: sides of contracts (a fill that sold r bought
    contracts), prices in USD ticks of the contract — to the nearest, except a bankruptcy
    price (and a takeover's or an ADL fill's price, which is one), which lies between ticks
    and is rounded toward the liquidated position's entry as the position view shows it;
    amounts stay money units of 1e-12 coin."""
    symbol = getattr(e, "symbol", None)
    if symbol is None:
        return e
    s = cx.core.index_of(symbol)
    changes: dict[str, Any] = {}
    names = {f.name for f in fields(e)}
    for name in _EVENT_SIDES:
        if name in names:
            changes[name] = -getattr(e, name)
    toward = _AT_BANKRUPTCY.get(type(e))
    for name in _EVENT_PRICES:
        value = getattr(e, name, None) if name in names else None
        if type(value) is int and value > 0:
            rounding = "nearest"
            if toward is not None and (name == "bankruptcy_price" or (
                    name == "price" and type(e) in (InsuranceTakeover, AdlFill))):
                long_ = changes["side"] * toward > 0  # the liquidated position's side
                rounding = "up" if long_ else "down"
            changes[name] = cx.usd_ticks(s, value, rounding)
    return replace(e, **changes) if changes else e


def position(cx: CoinExchange, account: int, symbol: str) -> PositionView:
    """The position in the venue's units: ``lots`` and ``qty`` in contracts (long > 0),
    ``entry`` (the contracts' harmonic mean price), ``liq_price`` exact in USD, ``mark`` and
    ``bankruptcy_price`` on the tick (the bankruptcy price rounded toward the entry, as the
    venues show it), ``notional``, ``upnl``, margins and ``maintenance`` in the coin."""
    view = cx.core.position(account, symbol)
    s = cx.core.index_of(symbol)
    lots = -view.lots
    coin = cx.coin_of
    bank = None
    if view.bankruptcy_price is not None:
        r = int(view.bankruptcy_price / cx.core.instruments[s].tick_size)
        bank = cx.usd(s, r, "up" if lots > 0 else "down")
    mark = cx.core.marks.mark[s]
    return replace(
        view, qty=Decimal(lots), lots=lots,
        entry=None if view.entry is None else cx.exact_usd(s, view.entry),
        mark=None if mark is None else cx.usd(s, mark), notional=coin(view.notional),
        upnl=coin(view.upnl), isolated_margin=coin(view.isolated_margin),
        margin_addable=coin(view.margin_addable),
        margin_removable=coin(view.margin_removable), maintenance=coin(view.maintenance),
        liq_price=None if view.liq_price is None else cx.exact_usd(s, view.liq_price),
        bankruptcy_price=bank)


def liquidation_price(cx: CoinExchange, account: int, symbol: str) -> Decimal | None:
    """The liquidation price on the tick, rounded toward the entry (a long's up, a short's
    down), as Bybit shows it: the exact 7,773.4778 of its 50× example shows as 7,773.50."""
    view = position(cx, account, symbol)
    if view.liq_price is None:
        return None
    s = cx.core.index_of(symbol)
    exact = Decimal(repr(view.liq_price)) / cx.contracts[s].tick_size
    ticks = int(exact.to_integral_value(rounding="ROUND_CEILING" if view.lots > 0
                                        else "ROUND_FLOOR"))
    return ticks * cx.contracts[s].tick_size


def account(cx: CoinExchange, account: int) -> AccountView:
    """``Exchange.account`` with every amount in the coin."""
    view = cx.core.account(account)
    amounts: dict[str, Any] = {f.name: cx.coin_of(getattr(view, f.name))
                               for f in fields(view)
                               if isinstance(getattr(view, f.name), Decimal)}
    return replace(view, **amounts)


def order(cx: CoinExchange, oid: int) -> OrderView | None:
    """A resting order: its side and size in contracts, its USD price."""
    view = cx.core.order(oid)
    if view is None:
        return None
    s = cx.core.index_of(view.symbol)
    info = cx.core.ledger.orders[oid]
    return replace(view, side=Side(-view.side), price=cx.usd(s, info.price),
                   qty=Decimal(int(view.qty)))


def open_orders(cx: CoinExchange, account: int) -> list[OrderView]:
    return [v for v in (order(cx, o.oid) for o in cx.core.open_orders(account))
            if v is not None]


def open_triggers(cx: CoinExchange, account: int) -> list[TriggerView]:
    out = []
    for view in cx.core.open_triggers(account):
        s = cx.core.index_of(view.symbol)
        tick = cx.core.instruments[s].tick_size
        out.append(replace(
            view, side=Side(-view.side), trigger=cx.usd(s, int(view.trigger / tick)),
            price=None if view.price is None else cx.usd(s, int(view.price / tick))))
    return out


def l2(cx: CoinExchange, symbol: str, n: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
    """Top ``n`` levels each side in USD and contracts, best first: the core's offers of r
    are the bids for contracts."""
    s = cx.core.index_of(symbol)
    if type(n) is not int or not 1 <= n <= 10_000:
        raise InvalidInput(f"l2 depth n must be a whole number 1..10000, got {n!r}")
    book = cx.core.books[s]
    return {side: [(cx.usd(s, p), Decimal(q)) for p, q in book.levels(sd, n)]
            for side, sd in (("bids", SELL), ("asks", BUY))}
