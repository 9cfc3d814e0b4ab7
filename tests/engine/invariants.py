"""Named invariants of an exchange, checked after every operation by the stateful tests."""

import numpy as np

from engine.book import BUY, SELL
from engine.margin import value_all


def money_conserved(ex):
    assert ex.total_money() == ex.net_deposits, "total money changed"


def books_sane(ex):
    for sym, book in zip(ex.symbols, ex.books):
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, f"{sym} book crossed at rest: {bid} ≥ {ask}"
        for side in (BUY, SELL):
            assert all(q > 0 for _, q in book.levels(side)), f"{sym} has an empty level"


def funds_above_floor(ex):
    for f in ex.funds.ids:
        assert ex.acc.w[f] >= ex.funds.floor, f"fund {f} cash below its floor"


def nobody_underwater(ex):
    """After settle: every pool with a position is at or above maintenance margin."""
    acc, n = ex.acc, ex.acc.n
    val = value_all(ex.instruments, ex.marks.mark, acc)
    bad = np.flatnonzero(val.has_cross & ~acc.is_fund[:n] & (val.cross_equity < val.cross_mm))
    assert bad.size == 0, f"cross accounts below maintenance after settle: {bad.tolist()}"
    for s, sv in enumerate(val.symbols):
        pool = acc.iso_margin[s, sv.idx] + sv.upnl
        assert not (sv.iso & (pool < sv.mm)).any(), "isolated position below maintenance"


def adl_victims_solvent(ex, events):
    from engine.events import AdlFill
    for a in {e.counterparty for e in events if isinstance(e, AdlFill)}:
        if ex.acc.is_fund[a]:
            continue
        has_position = any(ex.acc.q[s, a] for s in range(len(ex.symbols)))
        assert ex.equity_units(a) >= 0 or not has_position, f"ADL left account {a} insolvent"


def reduce_only_within_position(ex):
    for a, oids in ex.ledger.reduce_only.items():
        for s in range(len(ex.symbols)):
            mine = [o for o in oids if ex.ledger.orders[o].s == s]
            if not mine:
                continue
            pos = ex.acc.q[s, a]
            assert pos != 0, f"reduce-only orders rest with no position (account {a})"
            assert all((ex.ledger.orders[o].side > 0) != (pos > 0) for o in mine)
            assert sum(ex.books[s].order(o)[3] for o in mine) <= abs(pos)


def order_margin_consistent(ex):
    per_account = {}
    for info in ex.ledger.orders.values():
        per_account[info.account] = per_account.get(info.account, 0) + info.margin
    for a in range(ex.acc.n):
        assert ex.acc.om[a] == per_account.get(a, 0), f"order margin of {a} drifted"


ALWAYS = (money_conserved, books_sane, funds_above_floor, reduce_only_within_position,
          order_margin_consistent)
