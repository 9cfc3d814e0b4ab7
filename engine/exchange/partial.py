"""Partial liquidation: Hyperliquid's slices (``exchange.partial_slice_pct``) and Binance's and
Bybit's risk-tier step-down (``exchange.tier_step_down``); both off by default. With
``exchange.clearance_fee = "instrument"`` (Binance) each partial sale pays the contract's
liquidation fee rate of what it sold to the fund (``clearance_fee``).

**Step-down** (Bybit, "Liquidation Process": "Submit a FillOrKill order of the difference between
the current position value and the lower margin tier value which satisfies the margin
requirement"; otherwise "the whole position is taken over at the bankruptcy price"): for a pool
under water whose largest position sits above its lowest maintenance bracket, its orders are
cancelled and a fill-or-kill order at no worse than the bankruptcy price sells the lots above the
next lower bracket's cap (``exchange.tier_step_to = "lowest"``: above the lowest bracket's cap, in
one order, as OKX's older swap rules did). Filled, the pool is looked at again in the next round (another step, or
the whole waterfall); not filled, the whole waterfall takes it now. Each step lowers the notional,
so it ends. An isolated position keeps its margin through the sale (``keep_in_pool``).

Where this differs from the venues' words: Bybit sends one order down to the lower tier "which
satisfies the margin requirement", here one bracket a round (a first step can fill and a later
one fail: then the rest goes whole, after more was sold into the book); Binance's liquidation
protocol sends "one large Immediate or Cancel order" and liquidates whole if the account is still
short of its margin, here the same fill-or-kill as Bybit's; and only the pool's largest position
is stepped (one in its lowest bracket ends the step-down even if a smaller one could step).

**Slices**:

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


def step_down(ex: Exchange, a: int, iso_s: int | None, equity: int, syms: list[int],
              mms: list[int]) -> bool:
    """One risk-tier step of the pool's largest position (see the module); False when there is
    none to take (its position is in its lowest bracket, or the book cannot fill the whole step):
    then the whole waterfall."""
    acc, pools = ex.acc, ex.pools
    k, s = max((pools.notional(s, a), s) for s in syms)
    inst, notional = ex.instruments[s], k
    brackets = inst.brackets
    tier = brackets.index(inst.bracket(notional))
    if tier == 0:
        return False
    marks = cast("list[int]", ex.marks.mark)
    lots, unit = acc.q[s, a], ex.units[s]
    excess = notional - brackets[0 if ex.rules.step_to_lowest else tier - 1].notional_cap
    size = min(abs(lots), -(-excess // (marks[s] * unit)))
    share = share_equity(equity, mms)[syms.index(s)]
    pb = bankruptcy_price(marks[s], share, lots, unit)
    symbols = range(len(ex.symbols)) if iso_s is None else [iso_s]
    ex.ledger.cancel_account(a, symbols, "liquidation")
    ex.triggers.cancel_account(a, symbols)
    sign, sym = (1 if lots > 0 else -1), ex.symbols[s]
    wallet = acc.w[a]
    fills = ex.ledger.take_fok(a, s, -sign, size, pb)
    if not fills:
        return False
    keep_in_pool(ex, a, iso_s, wallet)
    ex.journal.emit(LiquidationStarted(ex.t, a, sym, sign, size, marks[s], pb, equity,
                                       sum(mms), iso_s is not None))
    for _, _, price, q in fills:
        ex.journal.emit(LiquidationFill(ex.t, a, sym, sign, q, price, pb))
    ex.journal.emit(LiquidationFinished(ex.t, a, sym, size, 0, 0))
    if ex.rules.clearance_fee:
        clearance_fee(ex, a, iso_s, s, fills)
    return True


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
        wallet = acc.w[a]
        fills = ex.ledger.take_ioc(a, s, -sign, size, pb)
        keep_in_pool(ex, a, iso_s, wallet)
        for _, _, price, q in fills:
            ex.journal.emit(LiquidationFill(ex.t, a, sym, sign, q, price, pb))
        ex.journal.emit(LiquidationFinished(ex.t, a, sym, sum(f[3] for f in fills), 0, 0))
        if fills and ex.rules.clearance_fee:
            clearance_fee(ex, a, iso_s, s, fills)
        sold = sold or bool(fills)
    return sold


def keep_in_pool(ex: Exchange, a: int, iso_s: int | None, wallet: int) -> None:
    """A liquidation's partial sale of an isolated position leaves its margin in the position.
    The fill books as a trader's own reduction would (``Accounts._isolated_fill``): the sold lots'
    share of the margin, with their realized PnL, goes to the wallet. A liquidation sells to lift
    what stays open back above maintenance, so that collateral stays with it: what the fills moved
    to the wallet (from ``wallet``, its balance before them) goes back to the isolated margin.
    Sold at no worse than bankruptcy, the sold lots lose at most their share of the margin, so
    the fills never take from the wallet. A cross pool's margin is the wallet: nothing to do; nor
    for a slice that sold a position of a few lots whole (what is left is the trader's, as after
    a close)."""
    acc = ex.acc
    if iso_s is None or not acc.q[iso_s, a]:
        return  # a cross pool's margin is the wallet; a slice that closed it all leaves none
    freed = int(acc.w[a] - wallet)
    if freed > 0:
        acc.w[a] -= freed
        acc.im[iso_s, a] += freed
        acc.touch(a)


def clearance_fee(ex: Exchange, a: int, iso_s: int | None, s: int,
                  fills: list[tuple[int, int, int, int]]) -> None:
    """Binance's insurance clearance fee ("a liquidation fee will be charged on the amount
    liquidated only"): the contract's ``liquidation_fee_ppm`` of the notional these liquidation
    fills sold, from the pool to the fund, never more than the pool has (the fills were no worse
    than bankruptcy, so it has at least nothing)."""
    unit, rate = ex.units[s], ex.instruments[s].liquidation_fee_ppm
    fee = sum(q * price for _, _, price, q in fills) * unit * rate // PPM
    fee = min(fee, max(0, ex.pools.pool(a, iso_s)[0]))
    if fee <= 0:
        return
    acc = ex.acc
    if iso_s is None:
        acc.w[a] -= fee
    else:
        acc.im[iso_s, a] -= fee
    acc.touch(a)
    ex.funds.pay(ex.funds.fund_of[s], fee, f"clearance fee of account {a}")
