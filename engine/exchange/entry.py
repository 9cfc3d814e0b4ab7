"""Orders in human units: the checks and conversions behind ``Exchange.place`` and
``Exchange.close_position`` (USD and coins onto the grid, sides and times in force by name)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ..book import Side, Tif
import numpy as np

from ..errors import (CrashfloorError, InvalidInput, LeverageError, ReduceOnlyError,
                      UnknownOrder)
from ..units import MAX_MONEY, MAX_USD, MONEY_PER_USD, to_decimal
from .ledger import OrderInfo

if TYPE_CHECKING:
    from .front import Exchange

_TIFS = {"gtc": Tif.GTC, "ioc": Tif.IOC, "fok": Tif.FOK, "post_only": Tif.POST_ONLY,
         "market": Tif.IOC}
_INF = float("inf")
_IOC = Tif.IOC  # a module global: an enum member read off its class costs a lookup per order
_STR_SIDES = {name: int(Side.parse(name)) for name in ("buy", "sell", "long", "short")}
"""The side names ``Side.parse`` accepts, as the plain ints the ledger takes."""


def order_lots(ex: Exchange, s: int, qty: object, lots: object, usd: object,
               ticks: int | None) -> int:
    """An order's size in lots, from exactly one of ``qty`` (coins, as a person types them),
    ``lots`` (whole lots of the symbol's grid) or ``usd`` (a whole-dollar notional, sized down to
    whole lots at the order's limit price ``ticks``, or at the mark for a market order);
    ``InvalidInput`` naming the problem otherwise."""
    given = [name for name, value in (("qty", qty), ("lots", lots), ("usd", usd))
             if value is not None]
    if len(given) != 1:
        raise InvalidInput(f"an order's size is exactly one of qty (coins), lots or usd "
                           f"(notional); got {' and '.join(given) or 'none'}")
    if qty is not None:
        return ex.qty_grid[s].steps(qty)
    if lots is not None:
        if type(lots) is not int or not 0 < lots <= _MAX_LOTS:
            raise InvalidInput(f"lots must be a whole number from 1 to {_MAX_LOTS}, got {lots!r}")
        return lots
    if type(usd) is not int or not 0 < usd <= MAX_USD:
        raise InvalidInput(f"usd must be a whole number of dollars from 1 to {MAX_USD}, got "
                           f"{usd!r}")
    price = ticks if ticks is not None else (ex.marks.mark[s] or ex.marks.index[s])
    if not price:
        raise InvalidInput(f"{ex.symbols[s]} has no mark yet to size ${usd:,} at")
    n = usd * MONEY_PER_USD // (price * ex.units[s])
    if n <= 0:
        raise InvalidInput(f"${usd:,} is less than one lot of {ex.symbols[s]} at "
                           f"{ex.price_grid[s].value(price)}")
    return n


_MAX_LOTS = 2**62


def place(ex: Exchange, account: int, symbol: str, side: Side | str, qty: object = None,
          price: object = None, tif: str = "gtc", leverage: int | None = None,
          reduce_only: bool = False, *, lots: int | None = None, usd: int | None = None) -> int:
    """Place an order sized in coins (``qty``), ``lots`` or whole-dollar notional (``usd``);
    returns its id. ``price=None`` is a market order; the size is one of ``qty``, ``lots`` or
    ``usd`` (``order_lots``). This is ``Exchange.place`` itself (the public order path: no layer
    in between).

    ``tif``: gtc, ioc, fok, post_only (or market). ``leverage`` sets the account's leverage for
    the symbol first (kept only if the order is accepted). The ledger checks the price band, the
    notional cap, reduce-only, margin and leverage before anything changes."""
    # The common case (a str symbol, an int account, "buy"/"sell", a float price and size on the
    # grid) is decided inline; anything else goes through the full checks, in the same order, so
    # a bad input gets the same error either way.
    s = ex._sym.get(symbol) if type(symbol) is str else None
    if s is None:
        s = ex._s(symbol)
    a = account
    acc = ex.acc
    if type(a) is not int or not 0 <= a < acc.n or acc.fund[a]:
        a = ex._a(account)
    sd = _STR_SIDES.get(side) if type(side) is str else None
    if sd is None:
        sd = int(Side.parse(side))
    tf = _TIFS.get(tif) if isinstance(tif, str) else None
    if tf is None:
        raise InvalidInput(f"tif must be one of {', '.join(_TIFS)}, got {tif!r}")
    if price is None:
        ticks = None
    else:
        grid = ex.price_grid[s]
        ticks = None
        if type(price) is float and 0 < price < _INF:  # Grid.steps' float case, inline
            x = price * grid.inv
            r = round(x)
            if r > 0 and abs(x - r) <= 1e-6:
                ticks = r
        if ticks is None:
            ticks = grid.steps(price)
    if lots is None and usd is None and qty is not None:
        grid = ex.qty_grid[s]
        lots = None
        if type(qty) is float and 0 < qty < _INF:
            x = qty * grid.inv
            r = round(x)
            if r > 0 and abs(x - r) <= 1e-6:
                lots = r
        if lots is None:
            lots = grid.steps(qty)
    else:
        lots = order_lots(ex, s, qty, lots, usd, ticks)
    if ticks is None and tf is not _IOC:
        if tif != "gtc":
            raise InvalidInput(f"a market order (no price) must be ioc, got tif={tif!r}")
        tf = _IOC
    if leverage is None:
        return ex.ledger.place(a, s, sd, lots, ticks, tf, reduce_only)
    old = acc.lev[s, a]
    if leverage != old:
        ex.set_leverage(a, symbol, leverage)
    try:
        return ex.ledger.place(a, s, sd, lots, ticks, tf, reduce_only)
    except CrashfloorError:
        acc.lev[s, a] = old
        raise


def place_trigger(ex: Exchange, account: int, symbol: str, side: Side | str, kind: str,
                  trigger: object, qty: object = None, price: object = None,
                  reduce_only: bool = False, *, lots: int | None = None,
                  usd: int | None = None) -> int:
    """A stop (``kind="stop"``) or take-profit (``"take_profit"``) order: held by the exchange
    until the watched price reaches ``trigger`` (USD), then sent as a market order, or as a GTC
    limit at ``price`` (a stop-limit). Sized like ``place`` (``usd`` at the trigger price when
    there is no limit); returns its id (``triggers.py``)."""
    s, a = ex._s(symbol), ex._a(account)
    sd = int(Side.parse(side))
    ticks = ex.price_grid[s].steps(trigger)
    limit = None if price is None else ex.price_grid[s].steps(price)
    n = order_lots(ex, s, qty, lots, usd, ticks if limit is None else limit)
    if reduce_only and not ex.acc.q[s, a]:
        raise ReduceOnlyError(f"account {a} has no {ex.symbols[s]} position for a reduce-only "
                              f"{kind.replace('_', '-')} to close")
    return ex.triggers.add(a, s, sd, n, kind, ticks, limit, bool(reduce_only))


def cancel(ex: Exchange, oid: object) -> Decimal:
    """``Exchange.cancel``: a resting order, or a conditional one; its size in coins."""
    if type(oid) is int and oid in ex.triggers.pending:
        order = ex.triggers.cancel(oid)
        return ex.qty_grid[order.s].value(order.lots)
    info = resting(ex, oid)
    return ex.qty_grid[info.s].value(ex.ledger.cancel(oid, "cancelled"))  # type: ignore[arg-type]


def cancel_all(ex: Exchange, a: int, symbol: str | None) -> int:
    """``Exchange.cancel_all``: resting and conditional orders; how many were cancelled."""
    symbols = range(len(ex.symbols)) if symbol is None else [ex._s(symbol)]
    held = [oid for oid, t in ex.triggers.of(a) if t.s in symbols]
    for oid in held:
        ex.triggers.cancel(oid)
    return ex.ledger.cancel_account(a, symbols, "cancelled") + len(held)


def close_lots(position: int, fraction: object) -> int:
    """How many lots a close of ``fraction`` (0 < f ≤ 1) of ``position`` (lots) asks for."""
    frac = to_decimal(fraction, "fraction")
    if not 0 < frac <= 1:
        raise InvalidInput(f"fraction must be in (0, 1], got {fraction!r}")
    return max(1, int(abs(position) * frac))


def close_position(ex: Exchange, a: int, s: int, fraction: object) -> int:
    lots = close_lots(ex.acc.q[s, a], fraction)
    if not ex.acc.q[s, a]:
        raise ReduceOnlyError(f"account {a} has no {ex.symbols[s]} position to close")
    ex.rules.check_halted(s)
    return ex.ledger.close(a, s, lots)


def resting(ex: Exchange, oid: object) -> OrderInfo:
    """The record of resting order ``oid``; ``UnknownOrder`` otherwise."""
    info = ex.ledger.orders.get(oid) if type(oid) is int else None
    if info is None:
        raise UnknownOrder(f"order {oid!r} is not resting (filled, cancelled or never placed)")
    return info


def check_default_leverage(leverage: object) -> None:
    if type(leverage) is not int or not 1 <= leverage <= 125:
        raise LeverageError(f"leverage must be a whole number from 1 to 125, got {leverage!r}")


def open_accounts(ex: Exchange, deposits: object, leverage: object) -> range:
    arr = np.asarray(deposits)
    if arr.dtype.kind not in "iu" or arr.ndim != 1 or (arr < 0).any() or (arr > MAX_MONEY).any():
        raise InvalidInput(f"deposits must be a 1-D integer array of money units, each 0.."
                           f"{MAX_MONEY:,}")
    check_default_leverage(leverage)
    return ex.pools.open(arr.astype(np.int64), len(arr), leverage=leverage)  # type: ignore[arg-type]
