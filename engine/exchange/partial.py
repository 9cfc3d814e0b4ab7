"""Partial liquidation in slices, Hyperliquid's way (``exchange.partial_slice_pct``, off by default).

Hyperliquid's documentation ("Liquidations"): a position of more than 100k USDC notional that falls
below maintenance is liquidated 20% at a time by market orders into the book, with a 30-second
cooldown between slices; a position whose equity falls below two thirds of its maintenance margin
goes to the backstop (the liquidator vault) whole. Here, for a pool under water
(``waterfall._liquidate``):

* **whole** — its equity is below ``backstop_ppm`` of its maintenance, or its notional is below
  ``slice_min``: the full waterfall (book → fund → ADL), as without slices;
* **wait** — a slice of it was sold less than ``slice_cooldown`` seconds ago: nothing this settle;
* **slice** — its orders are cancelled and each position sells ``slice_ppm`` of its lots (at least
  one) into the book as an IOC limited at its bankruptcy price, so no fill leaves a deficit; what
  the book cannot take stays open. The pool keeps what is left of its margin (no surplus goes to
  the fund: the trader is still trading), and its cooldown starts.

The state (the cooldowns) lives in ``MarketRules.cooldown_until`` and is in the checksum while
slices are on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ..events import LiquidationFill, LiquidationFinished, LiquidationStarted
from ..margin import bankruptcy_price, share_equity

if TYPE_CHECKING:
    from .front import Exchange

PPM = 1_000_000


def decide(ex: Exchange, a: int, iso_s: int | None, equity: int, mm: int,
           syms: list[int]) -> str:
    """"whole", "wait" or "slice" for the pool (a, iso_s) under water (see the module)."""
    rules = ex.rules
    key = (a, -1 if iso_s is None else iso_s)
    notional = sum(ex.pools.notional(s, a) for s in syms)
    if equity * PPM < rules.backstop_ppm * mm or notional < rules.slice_min:
        rules.cooldown_until.pop(key, None)
        return "whole"
    if ex.t < rules.cooldown_until.get(key, -1):
        return "wait"
    rules.cooldown_until[key] = ex.t + rules.slice_cooldown
    return "slice"


def sell_slice(ex: Exchange, a: int, iso_s: int | None, equity: int, syms: list[int],
               mms: list[int]) -> bool:
    """One slice of every position of the pool, each into the book at no worse than its
    bankruptcy price (events as a liquidation whose fund and ADL parts are zero). Whether the
    book took any of it (if not, the pool waits: another round would find the same book)."""
    sold = False
    acc = ex.acc
    symbols = range(len(ex.symbols)) if iso_s is None else [iso_s]
    ex.ledger.cancel_account(a, symbols, "liquidation")
    ex.triggers.cancel_account(a, symbols)
    marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() runs this only then
    for s, share in zip(syms, share_equity(equity, mms), strict=True):
        lots = acc.q[s, a]
        if not lots:
            continue
        sign = 1 if lots > 0 else -1
        size = max(1, -(-abs(lots) * ex.rules.slice_ppm // PPM))
        pb = bankruptcy_price(marks[s], share, lots, ex.units[s])
        sym = ex.symbols[s]
        ex.journal.emit(LiquidationStarted(ex.t, a, sym, sign, size, marks[s], pb, equity,
                                           sum(mms), iso_s is not None))
        fills = ex.ledger.take_ioc(a, s, -sign, size, pb)
        for _, _, price, q in fills:
            ex.journal.emit(LiquidationFill(ex.t, a, sym, sign, q, price, pb))
        ex.journal.emit(LiquidationFinished(ex.t, a, sym, sum(f[3] for f in fills), 0, 0))
        sold = sold or bool(fills)
    return sold
