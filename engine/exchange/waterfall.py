"""The liquidation waterfall: order book → insurance fund → auto-deleveraging.

Run by ``Exchange.settle`` after the marks, in a fixed order:

0. **Fund work-out.** Each insurance fund sells what it took over back into the book (IOC, every
   step), no worse than ``workout_slippage_ppm`` from mark and never past its own bankruptcy price.
1. **Scan**: cross pools with equity < maintenance margin, isolated positions whose margin + uPnL
   < their maintenance margin (``scan.py`` finds them without valuing every position: only pools
   whose trigger prices were crossed or whose account changed are valued), and fund positions
   whose loss at mark exceeds their share of the fund (below).
2. For each underwater pool, in ascending account id: **cancel its orders**; give every position its
   **bankruptcy price** (``margin.py``); then per position:
   * **tier 1** — an IOC into the book limited at the bankruptcy price (the whole position: no
     partial liquidation). Fills better than bankruptcy leave a surplus in the pool;
   * **tier 2** — the rest is taken over by the insurance fund at the bankruptcy price if the fund
     can carry it (every fund position stays within its share of the fund's cash above the floor);
   * **tier 3** — otherwise ADL: opposite positions of the same symbol, ranked by the exchange's
     policy, are closed in queue order at the bankruptcy price until nothing is left (Drift: pro
     rata over all of them) — or at the mark (``adl_price = "mark"``: OKX, Hyperliquid), which
     leaves the bankrupt pool a deficit for the funds (step 3). With ``tier3 = "socialize"``
     (Drift) nobody is closed: the fund takes every position the book cannot, and what its
     position then loses beyond its budget is paid into it by every other open position in the
     contract, pro rata by size (``_socialize``).
   What is left in the pool (the surplus plus rounding crumbs) goes to the fund.
3. **Deficits**: a trader left with a wallet below zero and nothing open in it (a close at a loss
   beyond its margin, a pool bankrupt past what its counterparties could carry) is made whole by
   the insurance funds, in proportion to what each can spare above its floor; what they cannot
   pay stays on the account as **bad debt** (``Exchange.bad_debt_units``, a ``BadDebt`` event).
   An isolated pool closed past its bankruptcy price is settled at once instead: its wallet paid
   the gap on the close, and is paid back — by the funds as far as they can spare, the rest
   written off by the exchange (``Funds.cover_isolated``, a ``WrittenOff`` event): an isolated
   margin is the most its owner can lose. The same holds for an isolated *counterparty* that ADL
   closes past its own bankruptcy (at the mark, or at a bankruptcy price better than the mark for
   it, where nothing caps the close): ``_walk`` and ``prorata.walk`` pay its gap back the same way.
4. Repeat from 1 (ADL can push a counterparty below maintenance) until nothing is underwater.

ADL never takes from a counterparty more than its pool can carry: a position closed at a
bankruptcy price worse than the mark for the counterparty is cut to the lots that leave its pool
at zero or above, and the queue moves on. Only when every opposite position is spent that way does
the rest close at the mark, where a counterparty loses nothing; the bankrupt pool keeps the
difference as a deficit (step 3). A fund's own bankrupt position is never closed at the mark: what
no counterparty can carry stays with the fund until one can.

Optional market rules (``Exchange.set_rules``): a contract in a **trading halt** liquidates nothing
(no scan of pools holding it, no work-out, no fund deleveraging) until it reopens; an **ADL
breaker** caps tier 3 at a notional per contract per minute: the fund takes over what ADL may not
close, even beyond its budget, and works it out at the market — a deficit is bad debt.

Insurance fund accounting (budgets, takeovers, work-out, deficits) is in ``funds.py``; the margin
pools' arithmetic in ``pools.py``; orders into the book go through ``OrderLedger.take_ioc``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np

from ..adl import (CAP_SHARE, PRO_RATA_POLICIES, AdlPolicy, adl_order, allocate,
                   pro_rata)
from ..events import (AdlFill, InsuranceFundChange, InsuranceTakeover, LiquidationFill,
                      LiquidationFinished, LiquidationStarted, LossSocialized)
from ..margin import Valuation, bankruptcy_price, share_equity, value_all
from ..units import exact_sum
from . import partial, prorata
from .lights import scores_and_pools, walk_start

if TYPE_CHECKING:
    from .front import Exchange

MAX_ROUNDS = 64
"""Waterfall rounds per settle; each round only runs when the previous one left a pool underwater."""


def run_waterfall(ex: Exchange) -> None:
    funds = ex.funds
    for f in funds.ids:
        funds.work_out(f)
    if funds.adl_drawdown_ppm:
        funds.note_highs()
    stuck: list[tuple[int, int]] = []
    for _ in range(MAX_ROUNDS):
        cross, isolated = ex.scan.underwater(ex)
        if ex.scan.verify:
            _check_scan(ex, cross, isolated)
        for a in ex.scan.deficits.tolist():
            funds.cover_deficit(a)
        bankrupt = [(f, s) for f in funds.ids for s in funds.bankrupt_positions(f)
                    if not ex.rules.halted(s)
                    and (ex.rules.socialize or funds.may_deleverage(f, s))
                    and (f, s) not in stuck]
        if not (len(cross) or isolated or bankrupt):
            return
        for f, s in bankrupt:
            if ex.rules.socialize:
                _socialize(ex, f, s, _excess_loss(ex, f, s))
                stuck.append((f, s))  # once per settle: a shared fund's rest comes next settle
            elif not _deleverage_fund(ex, f, s):
                stuck.append((f, s))  # nobody can carry it this step: not again until the next
        acted = False
        for a in cross:
            acted |= _liquidate(ex, int(a), None)
        for a, s in isolated:
            acted |= _liquidate(ex, a, s)
        if not (acted or bankrupt):
            return  # every pool under water waits for its next slice (partial.py)


def _check_scan(ex: Exchange, cross: np.ndarray, isolated: list[tuple[int, int]]) -> None:
    """The incremental scan against a full valuation (``MarginScan.verify``)."""
    marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() runs this only then
    full_cross, full_isolated = _underwater(ex, value_all(ex.instruments, marks, ex.acc,
                                                           ex.pools.mm_basis))
    if cross.tolist() != full_cross.tolist() or isolated != full_isolated:
        raise AssertionError(f"margin scan at t={ex.t} found cross {cross.tolist()[:10]}, "
                             f"isolated {isolated[:10]}; a full valuation finds cross "
                             f"{full_cross.tolist()[:10]}, isolated {full_isolated[:10]}")


def _underwater(ex: Exchange, val: Valuation) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Cross accounts below maintenance, and (account, symbol) of isolated positions below it,
    from a full valuation (the reference the incremental scan is checked against)."""
    acc = ex.acc
    n = acc.n
    cross = np.flatnonzero(val.has_cross & (val.cross_equity < val.cross_mm)
                           & ~acc.is_fund[:n])
    halted = [s for s in range(len(ex.symbols)) if ex.rules.halted(s)]
    if halted and len(cross):  # a halted contract liquidates nothing until it reopens
        frozen = np.zeros(len(cross), dtype=bool)
        for s in halted:
            frozen |= (acc.qty[s, cross] != 0) & ~acc.iso[s, cross]
        cross = cross[~frozen]
    isolated: list[tuple[int, int]] = []
    for s, sv in enumerate(val.symbols):
        if not sv.iso.any() or s in halted:
            continue
        pool = acc.iso_margin[s, sv.idx] + sv.upnl
        bad = sv.iso & (pool < sv.mm)
        isolated.extend((int(a), s) for a in sv.idx[bad])
    isolated.sort()
    return cross, isolated


# --- one pool ------------------------------------------------------------------------------------
def _liquidate(ex: Exchange, a: int, iso_s: int | None) -> bool:
    """Take over one pool: the whole cross pool of account a, or its isolated position iso_s
    (with partial liquidation on, perhaps one slice of it, or nothing while it cools down:
    ``partial.py``). Whether anything was done."""
    equity, syms, mms = ex.pools.pool(a, iso_s)
    if not syms or equity >= sum(mms):
        return False  # an earlier liquidation in this round already changed this pool
    if ex.rules.slice_ppm:
        how = partial.decide(ex, a, iso_s, equity, sum(mms), syms)
        if how == "wait":
            return False
        if how == "slice":
            return partial.sell_slice(ex, a, iso_s, equity, syms, mms)
    if ex.rules.tier_step_down and partial.step_down(ex, a, iso_s, equity, syms, mms):
        return True
    acc = ex.acc
    symbols = range(len(ex.symbols)) if iso_s is None else [iso_s]
    ex.ledger.cancel_account(a, symbols, "liquidation")
    ex.triggers.cancel_account(a, symbols)
    shares = share_equity(equity, mms)
    wallet_before = acc.w[a]
    surplus = []
    filled = 0
    fillable = bool(ex.rules.fillable_smmr_ppm)
    marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() runs this only then
    for s, share in zip(syms, shares, strict=True):
        mark = marks[s]
        lots = acc.q[s, a]
        pb = bankruptcy_price(mark, share, lots, ex.units[s])
        ex.journal.emit(LiquidationStarted(ex.t, a, ex.symbols[s], 1 if lots > 0 else -1,
                                           abs(lots), mark, pb, equity, sum(mms),
                                           iso_s is not None))
        limit = _fillable(ex, a, s, lots, equity, sum(mms), mark) if fillable else pb
        gain, quote = _close_position(ex, a, s, pb, limit)
        surplus.append(gain)
        filled += quote
    residual = acc.w[a] - (wallet_before if iso_s is not None else 0)
    if fillable:  # dYdX: the fund gets the penalty on what filled; the rest stays with the trader
        residual = min(residual, filled * ex.rules.liquidation_fee_cap_ppm // 1_000_000)
    if residual > 0:
        _pay_residual(ex, syms, surplus, residual, a)
    elif residual < 0 and iso_s is not None:  # closed past bankruptcy: not the wallet's loss
        ex.funds.cover_isolated(a, -residual)
    # a cross pool below zero is a deficit, covered (or left as bad debt) by the next scan
    return True


def _fillable(ex: Exchange, a: int, s: int, lots: int, equity: int, mm: int, mark: int) -> int:
    """dYdX's fillable price (ticks) for closing (s, a): ``mark × (1 − side × ABR × SMMR × MMR)``
    with ``ABR = clamp(1 − equity / maintenance, 0, 1)`` (v4 ``GetFillablePrice``, bankruptcy
    adjustment 1), MMR the position's maintenance rate; rounded in the trader's favour."""
    abr = min(1.0, max(0.0, 1 - equity / mm)) if mm > 0 else 1.0
    mmr = ex.instruments[s].bracket(ex.pools.notional(s, a)).mmr_ppm / 1_000_000
    side = 1 if lots > 0 else -1
    price = mark * (1 - side * abr * ex.rules.fillable_smmr_ppm / 1_000_000 * mmr)
    return max(1, math.ceil(price) if lots > 0 else math.floor(price))


def _close_position(ex: Exchange, a: int, s: int, pb: int, limit: int) -> tuple[int, int]:
    """Tiers 1–3 for position (s, a) at bankruptcy price pb, its book order limited at ``limit``
    (pb, or dYdX's fillable price); returns the tier-1 surplus against pb (negative where the
    fillable price filled past it) and the notional the book took."""
    acc, unit, sym, funds = ex.acc, ex.units[s], ex.symbols[s], ex.funds
    lots = acc.q[s, a]
    sign = 1 if lots > 0 else -1
    fills = ex.ledger.take_ioc(a, s, -sign, abs(lots), limit)
    surplus = quote = 0
    for _, _, price, q in fills:
        surplus += q * (price - pb) * sign * unit
        quote += q * price * unit
        ex.journal.emit(LiquidationFill(ex.t, a, sym, sign, q, price, pb))
    book_qty = sum(f[3] for f in fills)
    left = acc.q[s, a]
    fund_qty = adl_qty = 0
    if left:
        f = funds.fund_of[s]
        if (ex.rules.socialize and _others_open(ex, s, a)) or funds.can_take(f, s, left, pb):
            _take_over(ex, a, f, s, left, pb)
            fund_qty = abs(left)
            if ex.rules.socialize and acc.w[f] < funds.floor:  # the takeover realized a loss
                _socialize(ex, f, s, funds.floor - acc.w[f])
        else:
            allowed = ex.rules.adl_allowance(s, pb, unit)
            adl_qty = abs(left) if allowed is None else min(abs(left), allowed)
            if adl_qty:
                mark = cast("list[int]", ex.marks.mark)[s]
                auto_deleverage(ex, a, s, sign * adl_qty, mark if ex.rules.adl_at_mark else pb)
            if adl_qty < abs(left):  # the ADL breaker tripped: the fund takes the rest anyway
                rest = acc.q[s, a]
                _take_over(ex, a, f, s, rest, pb)
                fund_qty = abs(rest)
    ex.journal.emit(LiquidationFinished(ex.t, a, sym, book_qty, fund_qty, adl_qty))
    return surplus, quote


def _take_over(ex: Exchange, a: int, f: int, s: int, lots: int, pb: int) -> None:
    """Tier 2: fund f takes ``lots`` (signed, a's side) of position (s, a) at pb."""
    unit, mark = ex.units[s], ex.marks.mark[s]
    assert mark is not None  # settle() runs the waterfall only once every mark is set
    loss = (pb - mark) * lots * unit
    ex.acc.transfer(a, f, s, lots, pb, unit)
    ex.journal.emit(InsuranceTakeover(ex.t, ex.funds.name_for(s), a, ex.symbols[s],
                                      1 if lots > 0 else -1, abs(lots), pb, loss))


def _pay_residual(ex: Exchange, syms: list[int], surplus: list[int], residual: int,
                  a: int) -> None:
    """Move what is left of a liquidated pool (``residual`` > 0) to the funds: each symbol's
    surplus to its fund, the crumbs to the first."""
    acc = ex.acc
    acc.w[a] -= residual
    acc.touch(a)
    rest = residual
    for k, s in enumerate(syms):
        part = rest if k == len(syms) - 1 else min(max(surplus[k], 0), rest)
        rest -= part
        if part:
            ex.funds.pay(ex.funds.fund_of[s], part, f"liquidation surplus of account {a}")


def _deleverage_fund(ex: Exchange, f: int, s: int) -> bool:
    """ADL of a fund's bankrupt position at its bankruptcy price; False if nothing could be
    closed (no counterparty can carry the loss)."""
    funds = ex.funds
    pb = funds.bankruptcy_prices(f).get(s)
    if pb is None:
        return False
    before = ex.acc.w[f]
    q = ex.acc.q[s, f]
    allowed = ex.rules.adl_allowance(s, pb, ex.units[s])
    if allowed is not None:
        q = (1 if q > 0 else -1) * min(abs(q), allowed)
        if not q:
            return False
    left = auto_deleverage(ex, f, s, q, pb)
    if left == q:
        return False
    ex.journal.emit(InsuranceFundChange(ex.t, funds.name(f), before, ex.acc.w[f],
                                        f"fund position in {ex.symbols[s]} deleveraged"))
    return True


def _others_open(ex: Exchange, s: int, a: int) -> bool:
    """Does a trader other than a hold s (someone to socialize a loss over)?"""
    n = ex.acc.n
    open_ = (ex.acc.qty[s, :n] != 0) & ~ex.acc.is_fund[:n]
    return int(np.count_nonzero(open_)) > int(open_[a])


def _excess_loss(ex: Exchange, f: int, s: int) -> int:
    """What fund f's position in s loses at the mark beyond the fund's budget share for it."""
    acc, mark = ex.acc, cast("list[int]", ex.marks.mark)[s]
    return acc.c[s, f] - acc.q[s, f] * mark * ex.units[s] - ex.funds.budget_share(f, s)


def _socialize(ex: Exchange, f: int, s: int, need: int) -> None:
    """Drift's tier 3 (``rules.socialize``): ``need`` — what fund f's position in s loses beyond
    the fund's budget, or a takeover's realized loss below its floor — is paid into the fund by
    every other open position in s, long and short, pro rata by size, without closing any
    (Drift's ``resolve_perp_bankruptcy``: the loss becomes a funding-rate delta of loss ÷ (base
    long + base short)). A position of q lots pays ``need × |q| // Σ|q|`` onto its cost basis;
    the remainder, a unit each, the first accounts by id. With nobody else open, the fund keeps
    the loss (a takeover needs someone else open, ``_others_open``, or goes to ADL)."""
    if need <= 0:
        return
    acc, funds = ex.acc, ex.funds
    n = acc.n
    qty = acc.qty[s, :n]
    holders = np.flatnonzero((qty != 0) & ~acc.is_fund[:n])
    if not len(holders):
        return
    size = np.abs(qty[holders])
    lots = exact_sum(size)
    pay = [need * int(q) // lots for q in size.tolist()]
    rest = need - sum(pay)
    for k in range(rest):  # fewer than len(holders) units
        pay[k] += 1
    cost = acc.cost
    for a, x in zip(holders.tolist(), pay, strict=True):
        cost[s, a] += x
    acc.touched.extend(holders.tolist())
    before = acc.w[f]
    acc.w[f] = before + need
    ex.journal.emit(LossSocialized(ex.t, ex.symbols[s], need, lots, len(holders)))
    ex.journal.emit(InsuranceFundChange(ex.t, funds.name(f), before, before + need,
                                        f"loss in {ex.symbols[s]} beyond the fund socialized"))


# --- tier 3 ----------------------------------------------------------------------------------------
def auto_deleverage(ex: Exchange, a: int, s: int, lots: int, price: int) -> int:
    """Close ``lots`` (signed, the bankrupt side) of position (s, a) against opposite positions in
    ADL queue order at ``price``, each counterparty no further than its pool can carry. Funds are
    used only if no trader is left. What nobody can carry at ``price`` closes at the mark (a
    trader's pool keeps the deficit), except for a fund's own position: that rest is returned."""
    acc, funds = ex.acc, ex.funds
    remaining = _walk_all(ex, a, s, lots, price)
    mark = ex.marks.mark[s]
    assert mark is not None  # settle() runs the waterfall only once every mark is set
    if remaining and price != mark and not acc.fund[a]:
        cash = [acc.w[f] for f in funds.ids]
        remaining = _walk_all(ex, a, s, remaining, mark, checked=False)
        for f, before in zip(funds.ids, cash, strict=True):
            short = min(funds.floor - acc.w[f], before - acc.w[f])
            if short > 0:
                # a fund closed at the mark below its entry: the bankrupt pool owes that too
                acc.w[f] += short
                acc.w[a] -= short
                acc.touch(a)
    if remaining and not acc.fund[a]:
        raise AssertionError(f"ADL found no counterparty for {remaining} lots of {ex.symbols[s]}")
    ex.rules.note_adl(s, lots - remaining, price, ex.units[s])
    return remaining


def _walk_all(ex: Exchange, a: int, s: int, lots: int, price: int,
              checked: bool = True) -> int:
    """The traders' queue, then the funds'; returns the signed lots nobody took. ``checked``:
    each counterparty takes no more than it can carry (off for the last resort at the mark)."""
    acc, n = ex.acc, ex.acc.n
    q = acc.qty[s, :n]
    opposite = (q < 0) if lots > 0 else (q > 0)
    traders = np.flatnonzero(opposite & ~acc.is_fund[:n])
    traders = traders[traders != a]
    last = np.asarray(ex.rules.adl_last, dtype=np.int64)
    exempt = np.isin(traders, last) if last.size else None
    remaining = _walk(ex, a, s, lots, price,
                      traders if exempt is None else traders[~exempt], checked)
    if remaining:
        funds = np.flatnonzero(opposite & acc.is_fund[:n])
        remaining = _walk(ex, a, s, remaining, price, funds[funds != a], checked)
    if remaining and exempt is not None:
        remaining = _walk(ex, a, s, remaining, price, traders[exempt], checked)
    return remaining


def _carry(ex: Exchange, c: int, s: int, price: int, loss_per_lot: int) -> int:
    """Lots of its position in s that counterparty c can close at ``price``, ``loss_per_lot``
    money units worse than the mark, and keep its pool at zero or above. An isolated pool's
    margin and a fund's cash must also stay at zero (a fund: its floor) or above with what the
    close realizes against the entry, since the rest's unrealized gain is not cash."""
    acc = ex.acc
    fund = acc.fund[c]
    iso = acc.isov[s, c] and not fund
    floor = ex.funds.floor if fund else 0
    equity = ex.pools.pool(c, s if iso else None)[0] - floor
    lots = max(0, equity) // loss_per_lot if loss_per_lot > 0 else abs(acc.q[s, c])
    if fund or iso:
        q, cost = acc.q[s, c], acc.c[s, c]
        loss_at_price = cost - q * price * ex.units[s]  # the whole position's loss at price
        if loss_at_price > 0:
            cash = (acc.w[c] - floor) if fund else acc.im[s, c]
            lots = min(lots, max(0, cash - 1) * abs(q) // loss_at_price)  # 1 unit for rounding
    return lots


def _shares(policy: AdlPolicy, sizes: np.ndarray, scores: np.ndarray, need: int) -> np.ndarray:
    """Lots each opposite position gives up under a pro-rata policy (``PRO_RATA_POLICIES``):
    by contracts (Drift, ``pro_rata``), by profit (the score: ``max(0, uPnL)``), or by profit
    with each position capped at ``CAP_SHARE`` of its contracts, the rest then by contracts."""
    total = min(need, int(sizes.sum()))
    if policy in (AdlPolicy.DRIFT, AdlPolicy.PRO_RATA):
        return pro_rata(sizes, total)
    weights = scores.astype(np.int64)
    if policy is AdlPolicy.PRO_RATA_PROFIT:
        return allocate(weights, sizes, total)
    num, den = CAP_SHARE
    caps = -(-sizes * num // den)
    first = allocate(weights, caps, min(total, int(caps.sum())))
    rest = total - int(first.sum())
    if rest:
        room = sizes - first
        open_ = np.flatnonzero(room > 0)
        first[open_] += pro_rata(room[open_], rest)
    return first


def _walk(ex: Exchange, a: int, s: int, lots: int, price: int, idx: np.ndarray,
          checked: bool = True) -> int:
    if idx.size == 0 or not lots:
        return lots
    acc, unit, sign = ex.acc, ex.units[s], 1 if lots > 0 else -1
    mark = ex.marks.mark[s]
    assert mark is not None  # settle() runs the waterfall only once every mark is set
    loss_per_lot = sign * (price - mark) * unit  # > 0: each lot costs its taker
    scores, notional, upnl, equity = scores_and_pools(ex, s, idx, walk_start(ex))
    need = abs(lots)
    if ex.adl_policy in PRO_RATA_POLICIES:
        take = _shares(ex.adl_policy, np.abs(acc.qty[s, idx]), scores, need)
        if prorata.vectorizable(ex, a, s, idx, lots):
            return prorata.walk(ex, a, s, lots, price, idx, take, scores, notional, upnl,
                                equity, checked)
        queue: list[tuple[int, int | None]] = [
            (i, int(x)) for i, x in enumerate(take.tolist()) if x]
        # thousands of slices: read the columns as lists once
        ids, upnl_, equity_, notional_, scores_ = (idx.tolist(), upnl.tolist(), equity.tolist(),
                                                   notional.tolist(), scores.tolist())
    else:  # a ranked queue: the walk usually stops after a few
        queue = [(int(i), None) for i in adl_order(scores, idx)]
        ids, upnl_, equity_, notional_, scores_ = idx, upnl, equity, notional, scores
    emit, symbol, policy, t = ex.journal.emit, ex.symbols[s], ex.adl_policy.value, ex.t
    reduce_only, q, fund, iso, w = ex.ledger.reduce_only, acc.q, acc.fund, acc.isov, acc.w
    gaps: list[tuple[int, int]] = []
    for rank, (i, share) in enumerate(queue):
        c = int(ids[i])
        x = min(abs(q[s, c]), need) if share is None else share
        if checked and (loss_per_lot > 0 or fund[c]):  # a fund's cash: even at the mark
            x = min(x, _carry(ex, c, s, price, loss_per_lot))
            if not x:
                continue
        # as the counterparty stood before: an earlier fill of this walk changed other pools only
        pnl = int(upnl_[i]) * x // abs(q[s, c])
        pool_equity = int(equity_[i])
        leverage = int(notional_[i]) / pool_equity if pool_equity > 0 else 0.0
        before = w[c]
        acc.transfer(a, c, s, sign * x, price, unit)
        if iso[s, c] and w[c] < before:
            gaps.append((c, before - w[c]))
        emit(AdlFill(t, a, c, symbol, -sign, x, price, rank, float(scores_[i]), policy, mark,
                     pnl, leverage))
        if c in reduce_only:
            ex.ledger.trim_reduce_only(c, s)
        need -= x
        if not need:
            break
    for c, gap in gaps:
        ex.funds.cover_isolated(c, gap)
    return sign * need
