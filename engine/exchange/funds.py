"""Insurance funds: their cash and floor, taking positions over, working them out, and covering
trader deficits.

A fund is an account of its own (``acc.is_fund``) with cash and, after takeovers, positions. Its
*budget* is ``cash − floor``, shared over its positions in proportion to their cost basis. A
position whose loss at mark exceeds its share is deleveraged (by the waterfall) at the price where
the loss equals the share (the fund's bankruptcy price), so a fund's cash never goes below its
floor (only an ADL breaker lets it, and that deficit is bad debt).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np

from ..accounts import Accounts, fill_result
from ..errors import InvalidInput, UnknownSymbol
from ..events import BadDebt, InsuranceFundChange, WrittenOff
from ..units import MONEY_PER_USD, exact_sum, usd_to_money
from .journal import Journal
from .ledger import OrderLedger
from .pools import MarginPools
from .rules import MarketRules


def _budgets(budget: int, costs: list[int]) -> list[int]:
    """Share a fund's budget (cash − floor) over its positions by |cost basis| (floor division)."""
    total = sum(abs(c) for c in costs)
    return [budget * abs(c) // total if total else 0 for c in costs]


class InsuranceFunds:
    """The funds of one exchange: one per contract, or one shared (``shared``)."""

    __slots__ = ("symbols", "acc", "pools", "ledger", "rules", "journal", "floor", "names", "ids",
                 "fund_of", "workout_slippage_ppm", "takeover_stress_ppm", "adl_drawdown_ppm",
                 "highs", "written_off")

    def __init__(self, symbols: list[str], pools: MarginPools, ledger: OrderLedger,
                 rules: MarketRules, journal: Journal, amount: object, shared: bool,
                 floor: object, workout_slippage_ppm: int, takeover_stress_ppm: int = 0,
                 adl_drawdown_ppm: int = 0):
        self.symbols = symbols
        self.acc: Accounts = pools.acc
        self.pools = pools
        self.ledger = ledger
        self.rules = rules
        self.journal = journal
        self.workout_slippage_ppm = int(workout_slippage_ppm)
        if not 0 <= int(takeover_stress_ppm) < 1_000_000:
            raise InvalidInput(f"takeover_stress_ppm must be 0..999999, got {takeover_stress_ppm!r}")
        self.takeover_stress_ppm = int(takeover_stress_ppm)
        """A takeover must leave every fund position within its budget after a further move of
        this much (ppm of the mark) against it, not only at the mark (0)."""
        if not 0 <= int(adl_drawdown_ppm) < 1_000_000:
            raise InvalidInput(f"adl_drawdown_ppm must be 0..999999, got {adl_drawdown_ppm!r}")
        self.adl_drawdown_ppm = int(adl_drawdown_ppm)
        """Bybit's trigger: a fund whose equity is this far (ppm) below its high takes nothing
        over; the liquidations go to ADL until it recovers (0: no trigger)."""
        self.floor = usd_to_money(floor, "fund_floor", allow_zero=True)
        if shared:
            names = ["shared"]
            sizes = {"shared": usd_to_money(amount, "insurance_fund", allow_zero=True)}
        elif isinstance(amount, Mapping):
            unknown = sorted(set(amount) - set(symbols))
            if unknown:
                raise UnknownSymbol(f"insurance_fund names unknown symbols {unknown}; "
                                    f"symbols: {symbols}")
            names = list(symbols)
            sizes = {sym: usd_to_money(amount.get(sym, 0), f"insurance_fund.{sym}", allow_zero=True)
                     for sym in names}
        else:
            names = list(symbols)
            size = usd_to_money(amount, "insurance_fund", allow_zero=True)
            sizes = {sym: size for sym in names}
        for name in names:
            if sizes[name] < self.floor:
                raise InvalidInput(f"insurance fund {name} starts at {sizes[name] / MONEY_PER_USD:,} "
                                   f"USD, below its floor {self.floor / MONEY_PER_USD:,} USD")
        self.names = names
        self.ids = list(pools.open(np.array([sizes[n] for n in names], dtype=np.int64),
                                   len(names), leverage=1, is_fund=True))
        self.fund_of = [self.ids[0] if shared else self.ids[s] for s in range(len(symbols))]
        """Per symbol, the account id of the fund that covers it."""
        self.highs = [int(sizes[name]) for name in names]
        """Per fund, the highest equity (cash + its positions' PnL at mark) seen at a settle."""
        self.written_off = 0
        """Money units the exchange itself has lost: isolated pools closed past their bankruptcy
        price beyond what the funds could pay (``cover_isolated``). Counted in ``total_money``
        as the exchange's debt and in ``Exchange.bad_debt_units``."""

    # --- lookups ---------------------------------------------------------------------------------
    def name(self, f: int) -> str:
        return self.names[self.ids.index(f)]

    def name_for(self, s: int) -> str:
        return self.name(self.fund_of[s])

    def resize(self, name: str, usd: object) -> None:
        """Set a fund's cash before trading starts (a deposit: money stays conserved)."""
        if name not in self.names:
            raise UnknownSymbol(f"no insurance fund {name!r}; funds: {', '.join(self.names)}")
        target = usd_to_money(usd, f"insurance_fund.{name}", allow_zero=True)
        if target < self.floor:
            raise InvalidInput(f"insurance fund {name} would be {target / MONEY_PER_USD:,} USD, "
                               f"below its floor {self.floor / MONEY_PER_USD:,} USD")
        self.pools.resize(self.ids[self.names.index(name)], target)
        self.highs[self.names.index(name)] = target

    def pay(self, f: int, amount: int, reason: str) -> None:
        """Add ``amount`` (negative: take it) to fund f's cash, with an event."""
        before = self.acc.w[f]
        self.acc.w[f] = before + amount
        self.journal.emit(InsuranceFundChange(self.journal.t, self.name(f), before,
                                              before + amount, reason))

    def positions(self, f: int) -> list[int]:
        return [s for s in range(len(self.symbols)) if self.acc.q[s, f]]

    # --- takeovers -------------------------------------------------------------------------------
    def equity(self, f: int) -> int:
        """Fund f's cash plus its positions' PnL at mark."""
        return self.acc.w[f] + sum(self.pools.upnl(s, f) for s in self.positions(f))

    def note_highs(self) -> None:
        """Raise each fund's high-water mark to its equity now (every settle)."""
        for k, f in enumerate(self.ids):
            self.highs[k] = max(self.highs[k], self.equity(f))

    def in_drawdown(self, f: int) -> bool:
        """Is fund f past its ADL drawdown trigger (``adl_drawdown_ppm`` below its high)?"""
        if not self.adl_drawdown_ppm:
            return False
        high = self.highs[self.ids.index(f)]
        return self.equity(f) < high - high * self.adl_drawdown_ppm // 1_000_000

    def can_take(self, f: int, s: int, lots: int, price: int) -> bool:
        """Would every fund position stay within its budget after taking ``lots`` at ``price``,
        at the mark moved ``takeover_stress_ppm`` against the position? Never while the fund is
        past its drawdown trigger."""
        if self.in_drawdown(f):
            return False
        acc, units = self.acc, self.pools.units
        marks = cast("list[int]", self.pools.marks.mark)  # set: the waterfall runs only then
        cash = acc.w[f]
        qs, cs = [], []
        for k in sorted(set(self.positions(f)) | {s}):
            q, c = acc.q[k, f], acc.c[k, f]
            if k == s:
                q, c, realized = fill_result(q, c, lots, price, units[s])
                cash += realized
            if q:
                qs.append((k, q))
                cs.append(c)
        budgets = _budgets(cash - self.floor, cs)
        stress = self.takeover_stress_ppm
        for (k, q), c, b in zip(qs, cs, budgets, strict=True):
            move = marks[k] * stress // 1_000_000
            if c - q * (marks[k] - move if q > 0 else marks[k] + move) * units[k] > b:
                return False
        return cash >= self.floor

    def bankruptcy_prices(self, f: int) -> dict[int, int]:
        """Per fund position, the price at which its loss equals its budget share."""
        acc = self.acc
        syms = self.positions(f)
        budgets = _budgets(acc.w[f] - self.floor, [acc.c[s, f] for s in syms])
        out = {}
        for s, b in zip(syms, budgets, strict=True):
            q, c, unit = acc.q[s, f], acc.c[s, f], self.pools.units[s]
            if q > 0:  # loss = c − q·p·unit ≤ b  ⇔  p ≥ (c − b) / (q·unit): round up
                out[s] = max(1, -((b - c) // (q * unit)))
            else:      # loss = c − q·p·unit ≤ b  ⇔  p ≤ (b − c) / (|q|·unit): round down
                out[s] = max(1, (b - c) // (-q * unit))
        return out

    def budget_share(self, f: int, s: int) -> int:
        """Fund f's budget share for its position in s (the loss it may carry there)."""
        syms = self.positions(f)
        budgets = _budgets(self.acc.w[f] - self.floor, [self.acc.c[k, f] for k in syms])
        return budgets[syms.index(s)]

    def bankrupt_positions(self, f: int) -> list[int]:
        """Symbols where fund f's loss at mark is past its budget share."""
        out = []
        marks = cast("list[int]", self.pools.marks.mark)  # set: the waterfall runs only then
        for s, pb in self.bankruptcy_prices(f).items():
            q, mark = self.acc.q[s, f], marks[s]
            if (q > 0 and mark < pb) or (q < 0 and mark > pb):
                out.append(s)
        return out

    def may_deleverage(self, f: int, s: int) -> bool:
        """False when the ADL breaker lets no lot of the fund's position through this minute (at
        the price the waterfall would use), so the scan does not come back to it."""
        if not self.rules.adl_breaker:
            return True
        pb = self.bankruptcy_prices(f).get(s)
        return pb is not None and self.rules.adl_allowance(s, pb, self.pools.units[s]) != 0

    def work_out(self, f: int) -> None:
        """Sell fund f's taken-over positions back into the book, IOC, within the slippage limit
        of the mark and never past the fund's bankruptcy price."""
        acc = self.acc
        marks = cast("list[int]", self.pools.marks.mark)  # set: the waterfall runs only then
        for s, pb in self.bankruptcy_prices(f).items():
            if self.rules.halted(s):
                continue
            q, mark = acc.q[s, f], marks[s]
            slip = mark * self.workout_slippage_ppm // 1_000_000
            if self.rules.adl_breaker:  # behind a breaker the fund may run a deficit: it sells
                pb = 1 if q > 0 else 2**62
            limit = max(pb, mark - slip) if q > 0 else min(pb, mark + slip)
            if (q > 0 and limit > mark) or (q < 0 and limit < mark):
                continue  # bankrupt: the scan deleverages it
            before = acc.w[f]
            if self.ledger.take_ioc(f, s, -1 if q > 0 else 1, abs(q), limit):
                self.journal.emit(InsuranceFundChange(self.journal.t, self.name(f), before,
                                                      acc.w[f], f"work-out of {self.symbols[s]} "
                                                                "position"))

    # --- deficits --------------------------------------------------------------------------------
    def spare(self, f: int) -> int:
        """What fund f can pay out: cash above its floor less its positions' losses at mark."""
        losses = sum(max(0, -self.pools.upnl(s, f)) for s in self.positions(f))
        return self.acc.w[f] - self.floor - losses

    def cover_deficit(self, a: int) -> None:
        """Make a trader's negative wallet (nothing open in it) whole from the funds, in
        proportion to what each can spare; what they cannot pay stays on the account as bad debt
        (a ``BadDebt`` event says how much)."""
        acc = self.acc
        need = -acc.w[a]
        if need <= 0:
            return
        pay = self._pay_out(a, need, f"covered the deficit of account {a}")
        acc.w[a] += pay  # no touch: a wallet with nothing cross open moves no margin pool
        if pay < need:
            self.journal.emit(BadDebt(self.journal.t, a, need - pay, pay))

    def cover_isolated(self, a: int, need: int) -> None:
        """An isolated pool of account a was closed ``need`` money units past its bankruptcy
        price (ADL or a close at the mark, dYdX's fillable price), and its wallet paid the gap.
        An isolated position's margin is the most its owner can lose, so the wallet is paid
        back: by the funds as far as they can spare (as ``cover_deficit``), the rest by the
        exchange itself (``written_off``: bad debt, with a ``WrittenOff`` event)."""
        pay = self._pay_out(a, need, f"covered the isolated loss of account {a}")
        self.acc.w[a] += need
        self.acc.touch(a)
        if pay < need:
            self.written_off += need - pay
            self.journal.emit(WrittenOff(self.journal.t, a, need - pay, pay))

    def _pay_out(self, a: int, need: int, why: str) -> int:
        """Pay up to ``need`` out of the funds, in proportion to what each can spare above its
        floor (the floor division's remainder a unit at a time where it fits); what was paid."""
        spare = [max(0, self.spare(f)) for f in self.ids]
        total = sum(spare)
        pay = min(need, total)
        parts = [pay * x // total if total else 0 for x in spare]
        rest = pay - sum(parts)
        for k in range(len(parts)):
            extra = min(rest, spare[k] - parts[k])
            parts[k] += extra
            rest -= extra
        for f, part in zip(self.ids, parts, strict=True):
            if part:
                self.pay(f, -part, why)
        return pay

    def deficits(self) -> int:
        """Σ of every fund's equity below zero (only an ADL breaker allows it), money units."""
        eq = self.pools.equity_vector(np.array(self.ids, dtype=np.int64))
        return -exact_sum(eq[eq < 0])
