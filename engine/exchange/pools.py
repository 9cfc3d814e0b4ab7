"""Margin pools: the one home of pool arithmetic, and the money that moves in and out of them.

A *pool* backs positions with margin: an account's cross pool (its wallet and every cross
position) or one isolated position (its isolated margin). Formulas are in ``engine/margin.py``;
this part applies them to the live arrays, one account at a time (the order path, the views, the
waterfall) or vectorized (``equity_vector``; ``margin.value_all`` for whole populations).
"""

from __future__ import annotations

import numpy as np

from ..accounts import Accounts
from ..errors import InsufficientMargin, InvalidInput, MarginModeError
from ..instruments import Instrument
from ..margin import initial_margin
from ..marks import MarkPricer
from ..units import MAX_MONEY, MONEY_PER_USD, exact_sum


class MarginPools:
    """Valuation of positions and pools at the marks, and deposits, withdrawals, leverage and
    margin-mode changes. Owns ``net_deposits``: the money that came in from outside."""

    __slots__ = ("instruments", "units", "acc", "marks", "net_deposits", "mm_basis")

    def __init__(self, instruments: list[Instrument], acc: Accounts, marks: MarkPricer):
        self.instruments = instruments
        self.units = [inst.unit_per_tick_lot for inst in instruments]
        """Money units per tick × lot, per symbol."""
        self.acc = acc
        self.marks = marks
        self.net_deposits = 0
        self.mm_basis = "mark"
        """What maintenance margin is taken on (``margin.MM_BASES``; ``MarketRules.mm_basis``)."""

    # --- valuation (scalar) ----------------------------------------------------------------------
    def mark_or(self, s: int, default: int) -> int:
        m = self.marks.mark[s]
        return default if m is None else m

    def notional(self, s: int, a: int) -> int:
        return abs(self.acc.q[s, a]) * self.mark_or(s, 0) * self.units[s]

    def upnl(self, s: int, a: int) -> int:
        q = self.acc.q[s, a]
        return q * self.mark_or(s, 0) * self.units[s] - self.acc.c[s, a] if q else 0

    def pool(self, a: int, iso_s: int | None) -> tuple[int, list[int], list[int]]:
        """(equity, [symbols], [maintenance margins]) of account a's cross pool (``iso_s`` None)
        or of its isolated position in ``iso_s``, at the current marks."""
        acc = self.acc
        if iso_s is not None:
            syms = [iso_s] if acc.q[iso_s, a] else []
            equity = acc.im[iso_s, a] + self.upnl(iso_s, a)
        else:
            syms = [s for s in range(len(self.units)) if acc.q[s, a] and not acc.isov[s, a]]
            equity = acc.w[a] + sum(self.upnl(s, a) for s in syms)
        mms = [self.instruments[s].maintenance_margin(self.mm_notional(s, a)) for s in syms]
        return equity, syms, mms

    def mm_entry(self, s: int, a: int) -> bool:
        """Is position (s, a)'s maintenance margin fixed at its entry value?"""
        basis = self.mm_basis
        return basis == "entry" or (basis == "entry_isolated" and bool(self.acc.isov[s, a]))

    def mm_notional(self, s: int, a: int) -> int:
        """The notional position (s, a)'s maintenance margin is taken on (``mm_basis``): its value
        at the mark, or its entry value (|cost basis|)."""
        if self.mm_entry(s, a):
            return abs(self.acc.c[s, a])
        return self.notional(s, a)

    def pool_of(self, a: int, s: int) -> tuple[int, list[int], list[int]]:
        """The pool that backs position (s, a): isolated or the cross pool."""
        return self.pool(a, s if self.acc.isov[s, a] else None)

    def available(self, a: int) -> int:
        """Cross equity minus the initial margin of cross positions and of open orders."""
        acc = self.acc
        total = acc.w[a] - acc.om[a]
        q, c, iso, lev, units, mark = acc.q, acc.c, acc.isov, acc.lev, self.units, self.marks.mark
        for s in range(len(units)):
            qty = q[s, a]
            if qty and not iso[s, a]:
                value = qty * (mark[s] or 0) * units[s]
                total += value - c[s, a] + (-abs(value) // lev[s, a])  # − ceil(|v| / lev)
        return total

    def equity(self, a: int) -> int:
        """Wallet + isolated margins + unrealized PnL of every position, in money units."""
        acc = self.acc
        return acc.w[a] + sum(acc.im[s, a] + self.upnl(s, a) for s in range(len(self.units)))

    def equity_vector(self, ids: np.ndarray) -> np.ndarray:
        """``equity`` of many accounts at once (trusted ids, funds allowed)."""
        acc = self.acc
        eq = acc.wallet[ids].copy()
        for s in range(len(self.units)):
            eq += acc.iso_margin[s, ids] + acc.qty[s, ids] * (self.marks.mark[s] or 0) \
                * self.units[s] - acc.cost[s, ids]
        return eq

    def cross_initial_margin(self, a: int) -> int:
        acc = self.acc
        return sum(initial_margin(self.notional(s, a), acc.lev[s, a])
                   for s in range(len(self.units)) if acc.q[s, a] and not acc.isov[s, a])

    def total_money(self) -> int:
        """Σ wallets + Σ isolated margin − Σ cost basis (without the fee pool), money units."""
        n = self.acc.n
        return (exact_sum(self.acc.wallet[:n]) + exact_sum(self.acc.iso_margin[:, :n])
                - exact_sum(self.acc.cost[:, :n]))

    def trader_deficits(self) -> int:
        """Σ of trader wallets below zero with no cross position open, money units (> 0)."""
        acc, n = self.acc, self.acc.n
        crossed = ((acc.qty[:, :n] != 0) & ~acc.iso[:, :n]).any(axis=0)
        return -exact_sum(acc.wallet[:n][~crossed & ~acc.is_fund[:n] & (acc.wallet[:n] < 0)])

    def check_price_jump(self, s: int, ticks: int, before: int | None, symbol: str) -> None:
        """``InvalidInput`` if a price of ``ticks`` would value the largest open position in s
        past ``MAX_MONEY`` (int64 sums of such values could wrap). Looked at only when the price
        more than doubles at once (never in a level's path), so the common step costs nothing."""
        if before is not None and ticks <= 2 * before:
            return
        n = self.acc.n
        largest = int(np.abs(self.acc.qty[s, :n]).max()) if n else 0
        if largest * ticks * self.units[s] > MAX_MONEY:
            raise InvalidInput(f"{symbol} index price of {ticks:,} ticks would value a position "
                               f"of {largest:,} lots past {MAX_MONEY // MONEY_PER_USD:,} USD")

    # --- money in and out ------------------------------------------------------------------------
    def open(self, deposits: np.ndarray | int, count: int, *, leverage: int,
             is_fund: bool = False) -> range:
        """Open ``count`` accounts with ``deposits`` money units each (an int or an array)."""
        ids = self.acc.add(count, deposits, is_fund=is_fund, leverage=leverage)
        self.net_deposits += exact_sum(np.broadcast_to(np.asarray(deposits, np.int64), (count,)))
        return ids

    def deposit(self, a: int, units: int) -> None:
        if self.acc.w[a] + units > MAX_MONEY:
            raise InvalidInput(f"account {a}: a deposit of {units / MONEY_PER_USD:,} USD would "
                               f"take the wallet past {MAX_MONEY // MONEY_PER_USD:,} USD")
        self.acc.w[a] += units
        self.acc.touch(a)
        self.net_deposits += units

    def withdraw(self, a: int, units: int) -> None:
        """Withdraw from the cross wallet, up to the available balance."""
        free = min(self.available(a), self.acc.w[a])
        if units > free:
            raise InsufficientMargin(f"account {a}: cannot withdraw {units / MONEY_PER_USD:,} USD; "
                                     f"at most {max(free, 0) / MONEY_PER_USD:,} USD is free")
        self.acc.w[a] -= units
        self.acc.touch(a)
        self.net_deposits -= units

    def resize(self, a: int, units: int) -> None:
        """Set account a's wallet to ``units`` (a fund before trading starts): the difference is
        a deposit, so money stays conserved."""
        delta = units - self.acc.w[a]
        self.acc.w[a] += delta
        self.net_deposits += delta

    def set_leverage(self, a: int, s: int, leverage: int, symbol: str) -> None:
        inst = self.instruments[s]
        inst.check_leverage(leverage, abs(self.acc.q[s, a]) * self.mark_or(s, 0) * self.units[s])
        old = self.acc.lev[s, a]
        self.acc.lev[s, a] = leverage
        if leverage < old and self.available(a) < 0:
            self.acc.lev[s, a] = old
            raise InsufficientMargin(f"account {a}: {symbol} leverage {leverage}× needs more "
                                     f"margin than is available; it stays {old}×")

    def set_margin_mode(self, a: int, s: int, isolated: bool, has_orders: bool,
                        symbol: str) -> None:
        if self.acc.q[s, a] or has_orders:
            mode = "isolated" if isolated else "cross"
            raise MarginModeError(f"account {a}: cannot switch {symbol} to {mode} with an open "
                                  "position or open orders there; close or cancel them first")
        self.acc.isov[s, a] = isolated
        self.acc.touch(a)

    def addable(self, a: int, s: int) -> int:
        """Money units that can move into (s, a)'s isolated margin now: what the cross wallet
        has free (0 without an isolated position)."""
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            return 0
        return max(0, min(self.available(a), self.acc.w[a]))

    def removable(self, a: int, s: int) -> int:
        """Money units that can leave (s, a)'s isolated margin now, keeping the position's
        initial margin at the mark (0 without an isolated position)."""
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            return 0
        pool = self.acc.im[s, a] + self.upnl(s, a)
        need = initial_margin(self.notional(s, a), self.acc.lev[s, a])
        return max(0, min(pool - need, self.acc.im[s, a]))

    def add_margin(self, a: int, s: int, units: int, symbol: str) -> None:
        """Move money from the cross wallet into an isolated position's margin."""
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            raise MarginModeError(f"account {a}: {symbol} has no isolated position to add margin to")
        free = self.addable(a, s)
        if units > free:
            raise InsufficientMargin(f"account {a}: cannot move {units / MONEY_PER_USD:,} USD; "
                                     f"{free / MONEY_PER_USD:,} USD is free")
        self.acc.w[a] -= units
        self.acc.im[s, a] += units
        self.acc.touch(a)

    def remove_margin(self, a: int, s: int, units: int, symbol: str) -> None:
        """Move money from an isolated position back to the wallet, keeping its initial margin."""
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            raise MarginModeError(f"account {a}: {symbol} has no isolated position")
        free = self.removable(a, s)
        if units > free:
            raise InsufficientMargin(f"account {a}: at most {free / MONEY_PER_USD:,} USD "
                                     f"can leave the isolated {symbol} position")
        self.acc.im[s, a] -= units
        self.acc.w[a] += units
        self.acc.touch(a)

    def seed_positions(self, s: int, accounts: np.ndarray, lots: np.ndarray,
                       entry_ticks: np.ndarray, isolated_margin: np.ndarray | None) -> None:
        """Positions carried in from before the session (see ``Exchange.seed_positions``)."""
        acc = self.acc
        if not (accounts.shape == lots.shape == entry_ticks.shape) or accounts.ndim != 1:
            raise InvalidInput("accounts, lots and entry_ticks must be 1-D arrays of one length")
        if int(lots.sum()) != 0 or (lots == 0).any() or (entry_ticks <= 0).any():
            raise InvalidInput(f"seeded lots must be non-zero and sum to zero (got sum "
                               f"{int(lots.sum())}), entries > 0")
        if len(np.unique(accounts)) != len(accounts) or accounts.min() < 0 \
                or accounts.max() >= acc.n or acc.is_fund[accounts].any():
            raise InvalidInput("seeded accounts must be distinct trader accounts")
        if (acc.qty[s, accounts] != 0).any():
            raise InvalidInput("seeded accounts must be flat in that symbol")
        if isolated_margin is not None:
            iso = np.asarray(isolated_margin, dtype=np.int64)
            if iso.shape != accounts.shape or (iso < 0).any() \
                    or (iso > acc.wallet[accounts]).any():
                raise InvalidInput("isolated_margin must be ≥ 0 and within each wallet")
            acc.iso[s, accounts] = iso > 0
            acc.iso_margin[s, accounts] = iso
            acc.wallet[accounts] -= iso
        cost = lots * entry_ticks * self.units[s]
        acc.qty[s, accounts] = lots
        acc.cost[s, accounts] = cost
        self.net_deposits -= int(cost.sum())
