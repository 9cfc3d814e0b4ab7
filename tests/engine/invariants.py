"""Named invariants of an exchange, checked after every operation by the stateful tests, the soak
and the fuzz (``test_fuzz_invariants.py``).

Two families:

* ``ALWAYS`` — hold after every public call, settled or not (money, books, orders, positions).
* after a ``settle()`` — also ``nobody_underwater`` and ``no_adl_victim_under_water`` (which need
  the settle's events); ``check_after_settle`` runs them all.

Every check raises ``AssertionError`` with a message naming the account / symbol / order, so that a
fuzz failure says what broke without a debugger.
"""

import numpy as np

from engine.book import BUY, SELL
from engine.margin import value_all


# --- money ---------------------------------------------------------------------------------------
def money_conserved(ex):
    total, net = ex.total_money(), ex.net_deposits
    assert total == net, f"total money {total} != net deposits {net} (off by {total - net})"


def funds_above_floor(ex, breaker_used=False):
    """A fund's cash never goes below its floor, except through the declared rule: behind an ADL
    breaker the fund keeps what ADL may not close, even into deficit (reported as bad debt)."""
    if breaker_used:
        return
    for name, f in zip(ex.funds.names, ex.funds.ids, strict=False):
        assert ex.acc.w[f] >= ex.funds.floor, \
            f"fund {name} (account {f}) cash {ex.acc.w[f]} below its floor {ex.funds.floor}"


def _cross_open(ex, a):
    acc = ex.acc
    return any(acc.q[s, a] and not acc.isov[s, a] for s in range(len(ex.symbols)))


def unreported_deficits(ex):
    """Σ −wallet over trader accounts with a negative wallet and no open cross position (nothing
    will liquidate them): the trader part of ``Exchange.bad_debt_units()``."""
    acc, n = ex.acc, ex.acc.n
    neg = np.flatnonzero((acc.wallet[:n] < 0) & ~acc.is_fund[:n])
    return {int(a): -int(acc.wallet[a]) for a in neg if not _cross_open(ex, int(a))}


def fund_shortfall(ex):
    """Σ (floor − cash) over funds below their floor."""
    return sum(max(0, ex.funds.floor - int(ex.acc.w[f])) for f in ex.funds.ids)


def no_negative_wallet_unreported(ex):
    """Every trader left with a negative wallet and no open cross position (so no liquidation will
    ever settle it) is counted in ``ex.bad_debt_units()``. Until the engine reports bad debt at all,
    any such wallet is unreported."""
    deficits = unreported_deficits(ex)
    if not deficits:
        return
    total = sum(deficits.values())
    if not hasattr(ex, "bad_debt_units"):
        raise AssertionError(f"negative trader wallets with no open cross position (unreported: "
                             f"Exchange has no bad_debt_units()): {_first(deficits)}; Σ {total}")
    reported = ex.bad_debt_units()
    assert reported >= total, (f"bad_debt_units() = {reported} < Σ negative flat wallets {total} "
                               f"({_first(deficits)})")


def _first(d, k=5):
    items = sorted(d.items())
    more = f" … (+{len(items) - k})" if len(items) > k else ""
    return ", ".join(f"account {a}: {v}" for a, v in items[:k]) + more


# --- positions -----------------------------------------------------------------------------------
def positions_net_to_zero(ex):
    n = ex.acc.n
    net = ex.acc.qty[:, :n].sum(axis=1)
    for sym, x in zip(ex.symbols, net.tolist(), strict=False):
        assert x == 0, f"{sym} positions do not net to zero: Σ qty = {x} lots"


def isolated_margin_nonnegative(ex):
    """An open isolated position never has negative margin; a flat position holds none."""
    acc, n = ex.acc, ex.acc.n
    q, im = acc.qty[:, :n], acc.iso_margin[:, :n]
    bad = np.argwhere((q != 0) & (im < 0))
    assert bad.size == 0, "isolated margin below zero with the position open: " + ", ".join(
        f"account {a} {ex.symbols[s]} qty {q[s, a]} margin {im[s, a]}" for s, a in bad[:5].tolist())
    stuck = np.argwhere((q == 0) & (im != 0))
    assert stuck.size == 0, "isolated margin left on a flat position: " + ", ".join(
        f"account {a} {ex.symbols[s]} margin {im[s, a]}" for s, a in stuck[:5].tolist())


# --- books and orders ----------------------------------------------------------------------------
def books_sane(ex):
    for sym, book in zip(ex.symbols, ex.books, strict=False):
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, \
            f"{sym} book crossed at rest: {bid} ≥ {ask}"
        for side in (BUY, SELL):
            assert all(q > 0 for _, q in book.levels(side)), f"{sym} has an empty level"


def orders_match_books(ex):
    """Every order the exchange keeps rests in its book (same owner, side, price), every resting
    order in a book is kept, and the reduce-only index names exactly the reduce-only orders."""
    for oid, info in ex.ledger.orders.items():
        assert 0 <= info.s < len(ex.books), f"order {oid} names symbol index {info.s}"
        rec = ex.books[info.s].order(oid)
        assert rec is not None, (f"order {oid} (account {info.account}, {ex.symbols[info.s]}) "
                                 f"is in _orders but in no book")
        owner, side, price, lots = rec
        assert (owner, side, price) == (info.account, info.side, info.price), \
            f"order {oid}: book has {(owner, side, price)}, " \
            f"_orders {(info.account, info.side, info.price)}"
        assert lots > 0, f"order {oid} rests with {lots} lots"
    for s, book in enumerate(ex.books):
        for oid, owner, _side, _price, _lots in book.resting():
            info = ex.ledger.orders.get(oid)
            assert info is not None, f"{ex.symbols[s]} book holds order {oid} (account {owner}) " \
                                     f"that _orders does not know"
            assert info.s == s, f"order {oid} rests in {ex.symbols[s]} but _orders says {info.s}"
    for a, oids in ex.ledger.reduce_only.items():
        for oid in oids:
            info = ex.ledger.orders.get(oid)
            assert info is not None, f"reduce-only index of account {a} names gone order {oid}"
            assert info.reduce_only and info.account == a, f"reduce-only index: order {oid} wrong"
    for oid, info in ex.ledger.orders.items():
        if info.reduce_only:
            assert oid in ex.ledger.reduce_only.get(info.account, ()), \
                f"reduce-only order {oid} missing from the reduce-only index"


def reduce_only_within_position(ex):
    for a, oids in ex.ledger.reduce_only.items():
        for s in range(len(ex.symbols)):
            mine = [o for o in oids if o in ex.ledger.orders and ex.ledger.orders[o].s == s]
            if not mine:
                continue
            pos = ex.acc.q[s, a]
            assert pos != 0, f"reduce-only orders {mine} rest with no position (account {a})"
            assert all((ex.ledger.orders[o].side > 0) != (pos > 0) for o in mine), \
                f"reduce-only orders of account {a} on the position's own side"
            rest = sum(ex.books[s].order(o)[3] for o in mine if ex.books[s].order(o))
            assert rest <= abs(pos), \
                f"reduce-only orders of account {a} ({rest} lots) exceed its position {pos}"


def order_margin_consistent(ex):
    """``order_margin`` of every account equals the margin of its resting orders; no order holds
    negative margin and a reduce-only order holds none."""
    per_account = {}
    for oid, info in ex.ledger.orders.items():
        assert info.margin >= 0, f"order {oid} holds negative margin {info.margin}"
        assert not (info.reduce_only and info.margin), f"reduce-only order {oid} holds margin"
        per_account[info.account] = per_account.get(info.account, 0) + info.margin
    om = ex.acc.order_margin[: ex.acc.n]
    bad = [a for a in range(ex.acc.n) if int(om[a]) != per_account.get(a, 0)]
    assert not bad, "order margin drifted: " + ", ".join(
        f"account {a} holds {int(om[a])}, its orders {per_account.get(a, 0)}" for a in bad[:5])


order_margin_equals_orders = order_margin_consistent


# --- after a settle ------------------------------------------------------------------------------
def _halted(ex, s):
    return ex.halted(s) if hasattr(ex, "halted") else False


def _sliced(ex, equity, mm, notional):
    """Pools partial liquidation may leave under water (``partial.py``): slices on, at or above
    the backstop share of maintenance, at or above the slice minimum — waiting for the next
    slice, or for a book that can take one."""
    rules = getattr(ex, "rules", None)
    if rules is None or not rules.slice_ppm:
        return np.zeros(np.shape(equity), dtype=bool)
    equity, mm = np.asarray(equity, dtype=object), np.asarray(mm, dtype=object)
    return (equity * 1_000_000 >= mm * rules.backstop_ppm) & (np.asarray(notional) >=
                                                              rules.slice_min)


def nobody_underwater(ex):
    """After settle: every pool with a position is at or above maintenance margin, except pools
    holding a contract in a trading halt (a halted contract liquidates nothing until it reopens)
    and pools partial liquidation leaves under water between slices (``_sliced``)."""
    acc, n = ex.acc, ex.acc.n
    val = value_all(ex.instruments, ex.marks.mark, acc, ex.pools.mm_basis)
    candidates = val.has_cross & ~acc.is_fund[:n] & (val.cross_equity < val.cross_mm)
    cross_notional = np.zeros(n, dtype=object)
    for sv in val.symbols:
        cross = ~sv.iso
        np.add.at(cross_notional, sv.idx[cross], sv.notional[cross].astype(object))
    candidates &= ~_sliced(ex, val.cross_equity, val.cross_mm, cross_notional)
    for s in range(len(ex.symbols)):
        if _halted(ex, s):
            candidates &= ~((acc.qty[s, :n] != 0) & ~acc.iso[s, :n])
    bad = np.flatnonzero(candidates)
    assert bad.size == 0, "cross accounts below maintenance after settle: " + ", ".join(
        f"{a} (equity {val.cross_equity[a]}, mm {val.cross_mm[a]})" for a in bad[:5].tolist())
    for s, sv in enumerate(val.symbols):
        if _halted(ex, s):
            continue
        pool = acc.iso_margin[s, sv.idx] + sv.upnl
        under = sv.iso & (pool < sv.mm) & ~_sliced(ex, pool, sv.mm, sv.notional)
        assert not under.any(), f"isolated {ex.symbols[s]} positions below maintenance: " + \
            ", ".join(f"account {a}" for a in sv.idx[under][:5].tolist())


def _adl_victims(ex, events):
    """Trader accounts closed by ADL in ``events``: account → the symbols they were closed in."""
    from engine.events import AdlFill
    out = {}
    for e in events:
        if isinstance(e, AdlFill) and not ex.acc.is_fund[e.counterparty]:
            out.setdefault(e.counterparty, set()).add(ex.symbols.index(e.symbol))
    return dict(sorted(out.items()))


def adl_victims_solvent(ex, events):
    for a in _adl_victims(ex, events):
        has_position = any(ex.acc.q[s, a] for s in range(len(ex.symbols)))
        assert ex.equity_units(a) >= 0 or not has_position, f"ADL left account {a} insolvent"


def _in_deficit_before_adl(events):
    """Accounts with a ``BadDebt`` event before their first ``AdlFill`` as counterparty: already
    in deficit (reported) when ADL reached them."""
    from engine.events import AdlFill
    out, reached = set(), set()
    for e in events:
        if isinstance(e, AdlFill):
            reached.add(e.counterparty)
        elif type(e).__name__ == "BadDebt" and e.account not in reached:
            out.add(e.account)
    return out


def _own_deficit_after_adl(events):
    """Accounts liquidated themselves after ADL reached them as a counterparty and then reported
    in deficit (a ``BadDebt`` event): their own liquidation (a pool already deep under water, as
    between partial-liquidation slices, closed by ADL at the mark), not ADL, left the deficit."""
    from engine.events import AdlFill, LiquidationStarted
    reached, liquidated, out = set(), set(), set()
    for e in events:
        if isinstance(e, AdlFill):
            reached.add(e.counterparty)
        elif isinstance(e, LiquidationStarted) and e.account in reached:
            liquidated.add(e.account)
        elif type(e).__name__ == "BadDebt" and e.account in liquidated:
            out.add(e.account)
    return out


_OWING: dict[str, object] = {"ex": None, "accounts": set()}
"""Accounts left with a wallet below zero (reported bad debt) by the previous settle of the last
exchange checked: the checks run after every settle of one exchange in turn."""


def _owing_before(ex):
    """Accounts already in deficit when this settle began (a wallet below zero the previous settle
    left, reported as bad debt): ADL closing one of their positions can only bring money in."""
    return set(_OWING["accounts"]) if _OWING["ex"] is ex else set()


def _note_owing(ex):
    _OWING["ex"] = ex
    _OWING["accounts"] = {int(a) for a in np.flatnonzero(ex.acc.wallet[:ex.acc.n] < 0)}


def no_adl_victim_under_water(ex, events):
    """No account closed by ADL in this settle is left with negative equity, nor with the margin
    pool ADL closed it from (its cross pool, or that isolated position) holding a position below
    zero. Exempt: a pool holding a contract in a trading halt (the halt, not ADL, keeps it from
    being liquidated: its equity may be below zero from the mark alone), and an account already in
    reported deficit before ADL reached it: a ``BadDebt`` event earlier in this settle, or a
    wallet a previous settle left below zero (ADL at the mark can leave one, and the account may
    keep an isolated position that ADL later reaches), or whose own liquidation after ADL reached
    it left a reported deficit (``_own_deficit_after_adl``)."""
    acc = ex.acc
    S = range(len(ex.symbols))
    owing = (_in_deficit_before_adl(events) | _owing_before(ex)
             | _own_deficit_after_adl(events))
    for a, adl_syms in _adl_victims(ex, events).items():
        if a in owing:
            continue
        halted = [s for s in S if acc.q[s, a] and _halted(ex, s)]
        state = (f"wallet {acc.w[a]}, positions {[acc.q[s, a] for s in S]}, isolated margin "
                 f"{[acc.im[s, a] for s in S]}, ADL'd in "
                 f"{[ex.symbols[s] for s in sorted(adl_syms)]}")
        if not halted:
            eq = ex.equity_units(a)
            assert eq >= 0, f"ADL left account {a} under water: equity {eq} ({state})"
        cross = [s for s in S if acc.q[s, a] and not acc.isov[s, a]]
        if cross and any(not acc.isov[s, a] for s in adl_syms) \
                and not any(s in halted for s in cross):
            pool = acc.w[a] + sum(ex.pools.upnl(s, a) for s in cross)
            assert pool >= 0, \
                f"ADL left account {a}'s cross pool at {pool}, positions open ({state})"
        for s in adl_syms:
            if acc.q[s, a] and acc.isov[s, a] and s not in halted:
                pool = acc.im[s, a] + ex.pools.upnl(s, a)
                assert pool >= 0, \
                    f"ADL left account {a}'s isolated {ex.symbols[s]} at {pool} ({state})"


ALWAYS = (money_conserved, books_sane, funds_above_floor, reduce_only_within_position,
          order_margin_consistent, positions_net_to_zero, isolated_margin_nonnegative,
          orders_match_books, no_negative_wallet_unreported)
"""Hold after every public call (``funds_above_floor`` unless an ADL breaker was ever on)."""

AFTER_SETTLE = (nobody_underwater,)
"""Also hold right after ``settle()``."""

AFTER_SETTLE_EVENTS = (no_adl_victim_under_water,)
"""Hold right after ``settle()``, given its events."""


def check_always(ex, *, breaker_used=False):
    for check in ALWAYS:
        if check is funds_above_floor:
            check(ex, breaker_used)
        else:
            check(ex)


def check_after_settle(ex, events, *, breaker_used=False):
    check_always(ex, breaker_used=breaker_used)
    for check in AFTER_SETTLE:
        check(ex)
    for check in AFTER_SETTLE_EVENTS:
        check(ex, events)
    _note_owing(ex)
