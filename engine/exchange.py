"""The exchange: books, accounts, margin, marks and the liquidation waterfall behind one API.

Human numbers (USD, coins) are converted at this boundary; inside, everything is integer ticks,
lots and money units. Every public call validates its input before it changes anything, so a call
that raises leaves the state (and ``checksum()``) as it was. Commands go in through the methods;
events come out of ``settle()`` (or ``drain_events()``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

import numpy as np

from . import liquidation, lights
from .accounts import DEFAULT_LEVERAGE, Accounts
from .adl import AdlPolicy
from .book import BUY, SELL, OrderBook, Tif
from .errors import (CrashfloorError, InsufficientMargin, InvalidInput, LeverageError,
                     MarginModeError, OrderRejected, ReduceOnlyError, TradingHalted, UnknownAccount,
                     UnknownOrder, UnknownSymbol)
from .events import Event, News, OrderCancelled, Trade
from .instruments import PPM, Instrument
from .marks import MarkPricer
from .scan import MarginScan
from .units import (MAX_MONEY, MAX_NOTIONAL, MAX_PRICE_TICKS, MONEY_PER_USD, Grid, ceil_div,
                    exact_sum, to_decimal, usd_to_money)
from .views import AccountView, OrderView, PositionView, account_view, position_view

_SIDES = {"buy": BUY, "sell": SELL, "long": BUY, "short": SELL, BUY: BUY, SELL: SELL}
_TIFS = {"gtc": Tif.GTC, "ioc": Tif.IOC, "fok": Tif.FOK, "post_only": Tif.POST_ONLY,
         "market": Tif.IOC}


@dataclass(slots=True)
class OrderInfo:
    """What the exchange keeps about a resting order beyond the book's own record."""
    account: int
    s: int
    side: int
    price: int
    leverage: int
    reduce_only: bool
    margin: int


class Exchange:
    """A perpetual-futures exchange over one or more instruments.

    ``insurance_fund`` is USD: one number for every contract's fund (or for the shared fund when
    ``shared_fund``), or a mapping symbol → USD. Funds are accounts of their own (``fund_account``)
    that never fall below ``fund_floor`` USD.
    """

    _not_state = ("scan",)
    """Derived, not saved (``state.py``); ``_after_restore`` rebuilds it."""

    def __init__(self, instruments: Iterable[Instrument], insurance_fund: object = 0, *,
                 shared_fund: bool = False, fund_floor: object = 0, adl_policy: str = "article",
                 rng: np.random.Generator | None = None, workout_slippage_ppm: int = 5_000,
                 mark_ema_steps: int = 30, mark_method: str = "median3", capacity: int = 1024):
        self.instruments = list(instruments)
        self.symbols = [inst.symbol for inst in self.instruments]
        if not self.symbols:
            raise InvalidInput("an exchange needs at least one instrument")
        if len(set(self.symbols)) != len(self.symbols):
            raise InvalidInput(f"duplicate symbols in {self.symbols}")
        self._sym = {sym: s for s, sym in enumerate(self.symbols)}
        self._units = [inst.unit_per_tick_lot for inst in self.instruments]
        self._price_grid = [Grid(inst.tick_size, f"{inst.symbol} price") for inst in self.instruments]
        self._qty_grid = [Grid(inst.lot_size, f"{inst.symbol} qty") for inst in self.instruments]
        self.adl_policy = AdlPolicy.parse(adl_policy)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.workout_slippage_ppm = int(workout_slippage_ppm)
        self.books = [OrderBook() for _ in self.instruments]
        self.acc = Accounts(len(self.symbols), capacity)
        self.marks = MarkPricer(len(self.symbols), mark_ema_steps, mark_method)
        self.scan = MarginScan(self.instruments)
        """Which pools may be under water (scan.py): derived, rebuilt after a load."""
        self.lit_positions = [np.zeros(0, np.int64) for _ in self.symbols]
        """Per symbol, the accounts whose ADL light the last refresh set (lights.py)."""
        self.lights_stale = True
        """Set by every settle; ``refresh_lights`` recomputes the lights when someone looks."""
        self.fee_pool = 0
        self.net_deposits = 0
        self.t = 0
        self._orders: dict[int, OrderInfo] = {}
        self._reduce_only: dict[int, dict[int, None]] = {}
        self.desks: dict = {}
        """Market-making desks steered by commands (engine/agents/player_maker.py), by account."""
        self._next_oid = 1
        self._events: list[Event] = []
        self._open_funds(insurance_fund, shared_fund, fund_floor)
        S = len(self.symbols)
        self.adl_breaker = 0
        """ADL circuit breaker: money units of ADL per contract per minute (0 = none)."""
        self.adl_minute = [-1] * S
        self.adl_used = [0] * S
        self.halt_drop_ppm = 0
        """Trading halt: a fall of the mark by this much (ppm) from its high of the window."""
        self.halt_window = 300
        self.halt_seconds = 300
        self.halted_until = [0] * S
        self.halt_highs: list[list[tuple[int, int]]] = [[] for _ in range(S)]
        """Per symbol, the window's candidate highs (t, mark), falling (a monotonic queue)."""
        self.halts: list[tuple[int, int, int]] = []
        """(symbol index, start t, end t) of every halt so far."""

    # --- market rules ----------------------------------------------------------------------------
    def set_rules(self, *, adl_breaker_usd_per_min: object = 0, halt_drop_pct: float = 0,
                  halt_window_minutes: int = 5, halt_minutes: int = 5) -> None:
        """The optional market rules: an ADL circuit breaker (at most this much notional per
        contract per minute is auto-deleveraged; the fund keeps the rest, even into deficit) and
        trading halts (a contract whose mark falls ``halt_drop_pct`` below its high of the last
        ``halt_window_minutes`` stops trading and liquidating for ``halt_minutes``)."""
        breaker = usd_to_money(adl_breaker_usd_per_min, "adl_breaker_usd_per_min",
                               allow_zero=True)
        if isinstance(halt_drop_pct, bool) or not isinstance(halt_drop_pct, (int, float)) \
                or not 0 <= halt_drop_pct < 100:
            raise InvalidInput(f"halt_drop_pct must be 0 (off) up to 99, got {halt_drop_pct!r}")
        for name, value in (("halt_window_minutes", halt_window_minutes),
                            ("halt_minutes", halt_minutes)):
            if type(value) is not int or not 1 <= value <= 120:
                raise InvalidInput(f"{name} must be a whole number of minutes 1..120, "
                                   f"got {value!r}")
        self.adl_breaker = breaker
        self.halt_drop_ppm = round(halt_drop_pct * 10_000)
        self.halt_window = halt_window_minutes * 60
        self.halt_seconds = halt_minutes * 60

    def halted(self, s: int) -> bool:
        return self.halted_until[s] > self.t

    def _check_halted(self, s: int) -> None:
        if self.halted_until[s] > self.t:
            left = self.halted_until[s] - self.t
            raise TradingHalted(f"{self.symbols[s]} trading is halted for another {left} s "
                                f"(a fall of {self.halt_drop_ppm / 10_000:g}% within "
                                f"{self.halt_window // 60} min); orders can be cancelled")

    def adl_allowance(self, s: int, price: int) -> int | None:
        """Lots of ``s`` the ADL breaker still lets through this minute at ``price`` (None: no
        breaker)."""
        if not self.adl_breaker:
            return None
        minute = self.t // 60
        if self.adl_minute[s] != minute:
            self.adl_minute[s], self.adl_used[s] = minute, 0
        return max(0, self.adl_breaker - self.adl_used[s]) // max(price * self._units[s], 1)

    def note_adl(self, s: int, lots: int, price: int) -> None:
        if self.adl_breaker:
            self.adl_used[s] += abs(lots) * price * self._units[s]

    def _update_halts(self) -> None:
        """Start and end trading halts from the marks (called by ``settle``)."""
        if not self.halt_drop_ppm:
            return
        t = self.t
        for s, mark in enumerate(self.marks.mark):
            if mark is None:
                continue
            highs = self.halt_highs[s]
            if self.halted_until[s] > t:
                continue  # the window starts afresh when the halt ends (cleared at its start)
            while highs and highs[0][0] <= t - self.halt_window:
                highs.pop(0)
            while highs and highs[-1][1] <= mark:
                highs.pop()
            highs.append((t, mark))
            high = highs[0][1]
            if mark * 1_000_000 <= high * (1_000_000 - self.halt_drop_ppm):
                self.halted_until[s] = t + self.halt_seconds
                self.halts.append((s, t, t + self.halt_seconds))
                highs.clear()
                self._events.append(News(t, f"{self.symbols[s]} trading halted for "
                                            f"{self.halt_seconds // 60} min: the mark fell "
                                            f"{(1 - mark / high) * 100:.1f}% in "
                                            f"{self.halt_window // 60} min"))

    def resize_fund(self, name: str, usd: object) -> None:
        """Set a fund's cash to ``usd`` before trading starts (the exchange adds or takes the
        difference: a deposit, so money stays conserved)."""
        if name not in self.fund_names:
            raise UnknownSymbol(f"no insurance fund {name!r}; funds: {', '.join(self.fund_names)}")
        target = usd_to_money(usd, f"insurance_fund.{name}", allow_zero=True)
        if target < self.fund_floor:
            raise InvalidInput(f"insurance fund {name} would be {target / MONEY_PER_USD:,} USD, "
                               f"below its floor {self.fund_floor / MONEY_PER_USD:,} USD")
        f = self.fund_ids[self.fund_names.index(name)]
        delta = target - self.acc.w[f]
        self.acc.w[f] += delta
        self.net_deposits += delta

    # --- insurance funds -----------------------------------------------------------------------
    def _open_funds(self, amount: object, shared: bool, floor: object) -> None:
        self.fund_floor = usd_to_money(floor, "fund_floor", allow_zero=True)
        if shared:
            names = ["shared"]
            sizes = {"shared": usd_to_money(amount, "insurance_fund", allow_zero=True)}
        elif isinstance(amount, Mapping):
            unknown = sorted(set(amount) - set(self.symbols))
            if unknown:
                raise UnknownSymbol(f"insurance_fund names unknown symbols {unknown}; "
                                    f"symbols: {self.symbols}")
            names = list(self.symbols)
            sizes = {sym: usd_to_money(amount.get(sym, 0), f"insurance_fund.{sym}", allow_zero=True)
                     for sym in names}
        else:
            names = list(self.symbols)
            size = usd_to_money(amount, "insurance_fund", allow_zero=True)
            sizes = {sym: size for sym in names}
        for name in names:
            if sizes[name] < self.fund_floor:
                raise InvalidInput(f"insurance fund {name} starts at {sizes[name] / MONEY_PER_USD:,} "
                                   f"USD, below its floor {self.fund_floor / MONEY_PER_USD:,} USD")
        self.fund_names = names
        ids = self.acc.add(len(names), np.array([sizes[n] for n in names], dtype=np.int64),
                           is_fund=True, leverage=1)
        self.fund_ids = list(ids)
        self.net_deposits += sum(sizes.values())
        self._fund_of = [self.fund_ids[0] if shared else self.fund_ids[s]
                         for s in range(len(self.symbols))]

    def fund_account(self, symbol: str) -> int:
        """The account id of the insurance fund that covers ``symbol``."""
        return self._fund_of[self._s(symbol)]

    def fund_name(self, s: int) -> str:
        return self.fund_names[self.fund_ids.index(self._fund_of[s])]

    def insurance_fund_units(self, symbol: str) -> int:
        """Cash of the fund covering ``symbol``, in money units."""
        return self.acc.w[self.fund_account(symbol)]

    def insurance_fund_balance(self, symbol: str) -> Decimal:
        """Cash of the fund covering ``symbol``, in USD."""
        return Decimal(self.insurance_fund_units(symbol)) / MONEY_PER_USD

    # --- lookups -------------------------------------------------------------------------------
    def _s(self, symbol: str) -> int:
        try:
            return self._sym[symbol]
        except (KeyError, TypeError):
            raise UnknownSymbol(f"unknown symbol {symbol!r}; symbols: {', '.join(self.symbols)}") \
                from None

    def _a(self, account: object) -> int:
        if type(account) is not int:
            if not isinstance(account, (int, np.integer)) or isinstance(account, bool):
                raise UnknownAccount(f"account must be an integer id, got {account!r}")
            account = int(account)
        if not 0 <= account < self.acc.n or self.acc.fund[account]:
            raise UnknownAccount(f"unknown account {account!r}; accounts are ids "
                                 f"{len(self.fund_ids)}..{self.acc.n - 1}")
        return account

    def instrument(self, symbol: str) -> Instrument:
        return self.instruments[self._s(symbol)]

    # --- accounts ------------------------------------------------------------------------------
    def open_account(self, deposit: object = 0, *, leverage: int = DEFAULT_LEVERAGE) -> int:
        """Open an account with ``deposit`` USD; returns its id."""
        units = usd_to_money(deposit, "deposit", allow_zero=True)
        self._check_default_leverage(leverage)
        a = self.acc.add(1, units, leverage=leverage)[0]
        self.net_deposits += units
        return a

    def open_accounts(self, deposits: np.ndarray, *, leverage: int = DEFAULT_LEVERAGE) -> range:
        """Open many accounts at once; ``deposits`` is an int64 array of money units (≥ 0)."""
        deposits = np.asarray(deposits)
        if deposits.dtype.kind not in "iu" or deposits.ndim != 1 or (deposits < 0).any() \
                or (deposits > MAX_MONEY).any():
            raise InvalidInput(f"deposits must be a 1-D integer array of money units, each 0.."
                               f"{MAX_MONEY:,}")
        self._check_default_leverage(leverage)
        ids = self.acc.add(len(deposits), deposits.astype(np.int64), leverage=leverage)
        self.net_deposits += exact_sum(deposits)
        return ids

    def _check_default_leverage(self, leverage: object) -> None:
        if type(leverage) is not int or not 1 <= leverage <= 125:
            raise LeverageError(f"leverage must be a whole number from 1 to 125, got {leverage!r}")

    def deposit(self, account: int, usd: object) -> None:
        a = self._a(account)
        units = usd_to_money(usd, "deposit")
        if self.acc.w[a] + units > MAX_MONEY:
            raise InvalidInput(f"account {a}: a deposit of {usd!r} USD would take the wallet past "
                               f"{MAX_MONEY // MONEY_PER_USD:,} USD")
        self.acc.w[a] += units
        self.acc.touch(a)
        self.net_deposits += units

    def withdraw(self, account: int, usd: object) -> None:
        """Withdraw USD from the cross wallet, up to the available balance."""
        a = self._a(account)
        units = usd_to_money(usd, "withdrawal")
        free = min(self.available_units(a), self.acc.w[a])
        if units > free:
            raise InsufficientMargin(f"account {a}: cannot withdraw {units / MONEY_PER_USD:,} USD; "
                                     f"at most {max(free, 0) / MONEY_PER_USD:,} USD is free")
        self.acc.w[a] -= units
        self.acc.touch(a)
        self.net_deposits -= units

    def set_leverage(self, account: int, symbol: str, leverage: int) -> None:
        """Set the account's leverage for a symbol (applies to new orders and the position's IM)."""
        a, s = self._a(account), self._s(symbol)
        if type(leverage) is not int:
            raise LeverageError(f"leverage must be a whole number, got {leverage!r}")
        inst = self.instruments[s]
        notional = abs(self.acc.q[s, a]) * self._mark_or(s, 0) * inst.unit_per_tick_lot
        inst.check_leverage(leverage, notional)
        old = self.acc.lev[s, a]
        self.acc.lev[s, a] = leverage
        if leverage < old and self.available_units(a) < 0:
            self.acc.lev[s, a] = old
            raise InsufficientMargin(f"account {a}: {symbol} leverage {leverage}× needs more "
                                     f"margin than is available; it stays {old}×")

    def set_margin_mode(self, account: int, symbol: str, mode: str) -> None:
        """``"cross"`` or ``"isolated"``; only while the account has no position or order there."""
        a, s = self._a(account), self._s(symbol)
        if mode not in ("cross", "isolated"):
            raise InvalidInput(f"margin mode must be 'cross' or 'isolated', got {mode!r}")
        if self.acc.q[s, a] or any(self._orders[o].s == s for o in self.books[s].orders_of(a)):
            raise MarginModeError(f"account {a}: cannot switch {symbol} to {mode} with an open "
                                  "position or open orders there; close or cancel them first")
        self.acc.isov[s, a] = mode == "isolated"
        self.acc.touch(a)

    def add_margin(self, account: int, symbol: str, usd: object) -> None:
        """Move USD from the cross wallet into an isolated position's margin."""
        a, s = self._a(account), self._s(symbol)
        units = usd_to_money(usd, "margin")
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            raise MarginModeError(f"account {a}: {symbol} has no isolated position to add margin to")
        free = min(self.available_units(a), self.acc.w[a])
        if units > free:
            raise InsufficientMargin(f"account {a}: cannot move {units / MONEY_PER_USD:,} USD; "
                                     f"{max(free, 0) / MONEY_PER_USD:,} USD is free")
        self.acc.w[a] -= units
        self.acc.im[s, a] += units
        self.acc.touch(a)

    def remove_margin(self, account: int, symbol: str, usd: object) -> None:
        """Move USD from an isolated position back to the wallet, keeping its initial margin."""
        a, s = self._a(account), self._s(symbol)
        units = usd_to_money(usd, "margin")
        if not self.acc.isov[s, a] or not self.acc.q[s, a]:
            raise MarginModeError(f"account {a}: {symbol} has no isolated position")
        pool = self.acc.im[s, a] + self._upnl(s, a)
        need = ceil_div(self._notional(s, a), self.acc.lev[s, a])
        free = min(pool - need, self.acc.im[s, a])
        if units > free:
            raise InsufficientMargin(f"account {a}: at most {max(free, 0) / MONEY_PER_USD:,} USD "
                                     f"can leave the isolated {symbol} position")
        self.acc.im[s, a] -= units
        self.acc.w[a] += units
        self.acc.touch(a)

    def seed_positions(self, s: int, accounts: np.ndarray, lots: np.ndarray,
                       entry_ticks: np.ndarray, isolated_margin: np.ndarray | None = None) -> None:
        """Give flat accounts positions carried in from before the session, as if traded among
        themselves earlier at ``entry_ticks``. The lots must sum to zero (every long has a short);
        the PnL between the entries is part of the opening balances, so it is counted with the
        deposits and ``total_money() == net_deposits`` still holds. ``isolated_margin`` (money
        units, 0 = cross) moves that much of each wallet into an isolated position."""
        accounts = np.asarray(accounts, dtype=np.int64)
        lots = np.asarray(lots, dtype=np.int64)
        entry_ticks = np.asarray(entry_ticks, dtype=np.int64)
        if not (accounts.shape == lots.shape == entry_ticks.shape) or accounts.ndim != 1:
            raise InvalidInput("accounts, lots and entry_ticks must be 1-D arrays of one length")
        if int(lots.sum()) != 0 or (lots == 0).any() or (entry_ticks <= 0).any():
            raise InvalidInput(f"seeded lots must be non-zero and sum to zero (got sum "
                               f"{int(lots.sum())}), entries > 0")
        if len(np.unique(accounts)) != len(accounts) or accounts.min() < 0 \
                or accounts.max() >= self.acc.n or self.acc.is_fund[accounts].any():
            raise InvalidInput("seeded accounts must be distinct trader accounts")
        if (self.acc.qty[s, accounts] != 0).any():
            raise InvalidInput("seeded accounts must be flat in that symbol")
        if isolated_margin is not None:
            iso = np.asarray(isolated_margin, dtype=np.int64)
            if iso.shape != accounts.shape or (iso < 0).any() \
                    or (iso > self.acc.wallet[accounts]).any():
                raise InvalidInput("isolated_margin must be ≥ 0 and within each wallet")
            self.acc.iso[s, accounts] = iso > 0
            self.acc.iso_margin[s, accounts] = iso
            self.acc.wallet[accounts] -= iso
        cost = lots * entry_ticks * self._units[s]
        self.acc.qty[s, accounts] = lots
        self.acc.cost[s, accounts] = cost
        self.net_deposits -= int(cost.sum())
        self.scan.reset()

    # --- valuation (scalar) ---------------------------------------------------------------------
    def _mark_or(self, s: int, default: int) -> int:
        m = self.marks.mark[s]
        return default if m is None else m

    def _notional(self, s: int, a: int) -> int:
        return abs(self.acc.q[s, a]) * self._mark_or(s, 0) * self._units[s]

    def _upnl(self, s: int, a: int) -> int:
        q = self.acc.q[s, a]
        return q * self._mark_or(s, 0) * self._units[s] - self.acc.c[s, a] if q else 0

    def available_units(self, a: int) -> int:
        """Cross equity minus the initial margin of cross positions and of open orders."""
        acc = self.acc
        total = acc.w[a] - acc.om[a]
        q, c, iso, lev, units, mark = acc.q, acc.c, acc.isov, acc.lev, self._units, self.marks.mark
        for s in range(len(units)):
            qty = q[s, a]
            if qty and not iso[s, a]:
                value = qty * (mark[s] or 0) * units[s]
                total += value - c[s, a] + (-abs(value) // lev[s, a])  # − ceil(|v| / lev)
        return total

    def equity_units(self, account: int) -> int:
        """Wallet + isolated margins + unrealized PnL of every position, in money units."""
        a = self._a(account)
        acc = self.acc
        return acc.w[a] + sum(acc.im[s, a] + self._upnl(s, a) for s in range(len(self.symbols)))

    def equity_vector(self, ids: np.ndarray) -> np.ndarray:
        """``equity_units`` of many accounts at once (trusted ids, funds allowed)."""
        acc = self.acc
        eq = acc.wallet[ids].copy()
        for s in range(len(self.symbols)):
            eq += acc.iso_margin[s, ids] + acc.qty[s, ids] * (self.marks.mark[s] or 0) \
                * self._units[s] - acc.cost[s, ids]
        return eq

    def equity(self, account: int) -> Decimal:
        """Total equity in USD."""
        return Decimal(self.equity_units(account)) / MONEY_PER_USD

    def account(self, account: int) -> AccountView:
        return account_view(self, self._a(account))

    def position(self, account: int, symbol: str) -> PositionView:
        return position_view(self, self._a(account), self._s(symbol))

    def bad_debt_units(self) -> int:
        """Money the exchange is owed and will not be paid, in money units: every trader wallet
        below zero with no cross position open (a deficit the funds could not cover), plus every
        fund's equity below zero (only an ADL breaker lets a fund run a deficit)."""
        acc, n = self.acc, self.acc.n
        crossed = ((acc.qty[:, :n] != 0) & ~acc.iso[:, :n]).any(axis=0)
        owed = acc.wallet[:n][~crossed & ~acc.is_fund[:n] & (acc.wallet[:n] < 0)]
        funds = self.equity_vector(np.array(self.fund_ids, dtype=np.int64))
        return -exact_sum(owed) - exact_sum(funds[funds < 0])

    def total_money(self) -> int:
        """Σ wallets + Σ isolated margin − Σ cost basis + fee pool, in money units: the cash plus
        unrealized PnL of everyone at any common mark. Only deposits and withdrawals change it."""
        n = self.acc.n
        return (exact_sum(self.acc.wallet[:n]) + exact_sum(self.acc.iso_margin[:, :n])
                - exact_sum(self.acc.cost[:, :n]) + self.fee_pool)

    # --- prices -------------------------------------------------------------------------------
    def set_index(self, symbol: str, usd: object) -> None:
        """Set the outside venues' index price for a symbol (USD, on the tick grid)."""
        s = self._s(symbol)
        self.set_index_ticks(s, self._price_grid[s].steps(usd, f"{symbol} index price"))

    def set_index_ticks(self, s: int, ticks: int) -> None:
        if type(ticks) is not int or not 0 < ticks <= MAX_PRICE_TICKS:
            raise InvalidInput(f"{self.symbols[s]} index price must be 1..{MAX_PRICE_TICKS:,} "
                               f"ticks, got {ticks!r}")
        self.marks.set_index(s, ticks)

    def mark_price(self, symbol: str) -> Decimal | None:
        s = self._s(symbol)
        m = self.marks.mark[s]
        return None if m is None else self._price_grid[s].value(m)

    def index_price(self, symbol: str) -> Decimal | None:
        s = self._s(symbol)
        i = self.marks.index[s]
        return None if i is None else self._price_grid[s].value(i)

    # --- orders --------------------------------------------------------------------------------
    def place(self, account: int, symbol: str, side: str, qty: object, price: object = None,
              tif: str = "gtc", leverage: int | None = None, reduce_only: bool = False) -> int:
        """Place an order in human units; returns its id. ``price=None`` is a market order.

        ``tif``: gtc, ioc, fok, post_only (or market). ``leverage`` sets the account's leverage for
        the symbol first (kept only if the order is accepted)."""
        s = self._sym.get(symbol) if type(symbol) is str else None
        if s is None:
            s = self._s(symbol)
        a = account
        if type(a) is not int or not 0 <= a < self.acc.n or self.acc.fund[a]:
            a = self._a(account)
        sd = _SIDES.get(side) if type(side) in (str, int) else None
        if sd is None:
            raise InvalidInput(f"side must be 'buy' or 'sell', got {side!r}")
        tf = _TIFS.get(tif) if isinstance(tif, str) else None
        if tf is None:
            raise InvalidInput(f"tif must be one of {', '.join(_TIFS)}, got {tif!r}")
        lots = self._qty_grid[s].steps(qty)
        ticks = None if price is None else self._price_grid[s].steps(price)
        if ticks is None and tf is not Tif.IOC:
            if tif != "gtc":
                raise InvalidInput(f"a market order (no price) must be ioc, got tif={tif!r}")
            tf = Tif.IOC
        if leverage is None:
            return self.place_lots(a, s, sd, lots, ticks, tf, reduce_only)
        old = self.acc.lev[s, a]
        if leverage != old:
            self.set_leverage(a, symbol, leverage)
        try:
            return self.place_lots(a, s, sd, lots, ticks, tf, reduce_only)
        except CrashfloorError:
            self.acc.lev[s, a] = old
            raise

    def place_lots(self, a: int, s: int, side: int, lots: int, ticks: int | None, tif: Tif,
                   reduce_only: bool = False) -> int:
        """Place an order in grid units (the agents' path). Validates margin, leverage and
        reduce-only; raises before any change."""
        if self.halted_until[s] > self.t:
            self._check_halted(s)
        acc = self.acc
        pos = acc.q[s, a]
        book = self.books[s]
        if tif is Tif.POST_ONLY:
            opp = book.best_ask() if side > 0 else book.best_bid()
            if opp is not None and (ticks >= opp if side > 0 else ticks <= opp):
                raise OrderRejected(f"post-only {('buy', 'sell')[side < 0]} at {ticks} ticks would "
                                    f"cross the best {('ask', 'bid')[side < 0]} at {opp}")
        self._check_price(s, ticks, lots)
        lev = acc.lev[s, a]
        if reduce_only:
            self._check_reduce_only(a, s, side, lots, pos)
            margin_rate = 0
        else:
            opening = lots if pos * side >= 0 else lots - abs(pos)
            if opening > 0:
                self._check_opening(a, s, side, opening, ticks, lev, pos,
                                    tif is Tif.GTC or tif is Tif.POST_ONLY)
            margin_rate = 1
        oid = self._next_oid
        self._next_oid = oid + 1
        fills = book.submit(oid, a, side, ticks, lots, tif)
        if book.stp_cancelled:
            self._drain_stp(s)
        if fills:
            self._settle_fills(s, a, side, oid, fills, False)
        rest = book.order(oid) if tif is Tif.GTC or tif is Tif.POST_ONLY else None
        if rest is not None:
            price = rest[2]
            margin = -(-rest[3] * price * self._units[s] // lev) * margin_rate
            self._orders[oid] = OrderInfo(a, s, side, price, lev, reduce_only, margin)
            acc.om[a] += margin
            if reduce_only:
                self._reduce_only.setdefault(a, {})[oid] = None
        return oid

    def place_ladder(self, a: int, s: int, quotes: list[tuple[int, int, int]]) -> list[int]:
        """Post-only quotes ``(side, lots, ticks)`` for one account and symbol in one call (the
        market makers' path): one margin check for the whole ladder, then each quote is posted;
        a quote that would cross is skipped. Returns the ids of the posted quotes. Raises
        ``InsufficientMargin`` (nothing posted) if the ladder's margin exceeds what is free."""
        if self.halted_until[s] > self.t:
            self._check_halted(s)
        acc, book, unit = self.acc, self.books[s], self._units[s]
        lev = acc.lev[s, a]
        margins = [ceil_div(lots * ticks * unit, lev) for _, lots, ticks in quotes]
        need = sum(margins)
        free = self.available_units(a)
        if need > free:
            raise InsufficientMargin(
                f"account {a}: {self.symbols[s]} quotes need {need / MONEY_PER_USD:,.2f} USD of "
                f"margin at {lev}×; {max(free, 0) / MONEY_PER_USD:,.2f} USD is available")
        worst = max((abs(acc.q[s, a]) + lots) * ticks * unit for _, lots, ticks in quotes) \
            if quotes else 0
        self.instruments[s].check_leverage(lev, worst)
        posted = []
        orders = self._orders
        for (side, lots, ticks), margin in zip(quotes, margins):
            opp = book.best_ask() if side > 0 else book.best_bid()
            if opp is not None and (ticks >= opp if side > 0 else ticks <= opp):
                continue
            oid = self._next_oid
            self._next_oid = oid + 1
            book.submit(oid, a, side, ticks, lots, Tif.POST_ONLY)
            orders[oid] = OrderInfo(a, s, side, ticks, lev, False, margin)
            acc.om[a] += margin
            posted.append(oid)
        return posted

    def _check_price(self, s: int, ticks: int | None, lots: int) -> None:
        """The price band around the mark (``Instrument.band``) and the notional cap
        (``MAX_NOTIONAL``): an order no market could mean is refused before it reserves margin."""
        mark = self.marks.mark[s]
        ref = ticks if ticks is not None else mark
        if ref is not None and lots * ref * self._units[s] > MAX_NOTIONAL:
            raise OrderRejected(f"{self.symbols[s]}: an order of {self._qty_grid[s].value(lots)} "
                                f"at {self._price_grid[s].value(ref)} is over the "
                                f"{MAX_NOTIONAL // MONEY_PER_USD:,} USD notional cap")
        if ticks is None:
            return
        if mark is None:
            if ticks > MAX_PRICE_TICKS:
                raise OrderRejected(f"{self.symbols[s]}: price {ticks} ticks is over the cap "
                                    f"{MAX_PRICE_TICKS:,}")
            return
        lo, hi = self.instruments[s].band(mark)
        if not lo <= ticks <= hi:
            grid = self._price_grid[s]
            raise OrderRejected(f"{self.symbols[s]}: limit price {grid.value(ticks)} is outside the "
                                f"price band {grid.value(lo)}..{grid.value(hi)} around the mark "
                                f"{grid.value(mark)}")

    def _check_reduce_only(self, a: int, s: int, side: int, lots: int, pos: int) -> None:
        if pos == 0 or (pos > 0) == (side > 0):
            raise ReduceOnlyError(f"account {a}: reduce-only {('buy', 'sell')[side < 0]} of {lots} "
                                  f"lots would not reduce the {self.symbols[s]} position ({pos} lots)")
        resting = sum(self.books[s].order(o)[3] for o in self._reduce_only.get(a, ())
                      if self._orders[o].s == s)
        room = abs(pos) - resting
        if lots > room:
            raise ReduceOnlyError(f"account {a}: reduce-only order of {lots} lots exceeds what is "
                                  f"left to reduce of the {self.symbols[s]} position: {max(room, 0)} "
                                  f"lots ({abs(pos)} held, {resting} in reduce-only orders)")

    def _check_opening(self, a: int, s: int, side: int, opening: int, ticks: int | None,
                       lev: int, pos: int, resting: bool = False) -> None:
        """Initial margin for the opening part of an order, at its limit (a market order: the
        worse of mark and touch). A limit that may rest (``resting``) and is priced through the
        mark also needs its *open loss*, what filling at its own price loses at once against the
        mark (Binance's open loss), so no order can leave its account bankrupt on arrival."""
        unit = self._units[s]
        ref = ticks
        if ref is None:  # market order: margin at the worse of mark and the touch
            book = self.books[s]
            touch = book.best_ask() if side > 0 else book.best_bid()
            ref = max(self._mark_or(s, 0), touch or 0) if side > 0 else self._mark_or(s, touch or 0)
            if not ref:
                raise OrderRejected(f"{self.symbols[s]}: no price to size a market order against")
        need = -(-opening * ref * unit // lev)
        mark = self.marks.mark[s]
        if resting and mark is not None and (ref - mark) * side > 0:
            need += opening * (ref - mark) * side * unit
        notional = (abs(pos) + opening) * ref * unit
        inst = self.instruments[s]
        if lev > inst.bracket(notional).max_leverage:
            inst.check_leverage(lev, notional)
        free = self.available_units(a)
        if need > free:
            raise InsufficientMargin(
                f"account {a}: {self.symbols[s]} order needs {need / MONEY_PER_USD:,.2f} USD of "
                f"initial margin at {lev}×; {max(free, 0) / MONEY_PER_USD:,.2f} USD is available")

    def _settle_fills(self, s: int, taker: int, side: int, taker_oid: int,
                      fills: list, liquidation: bool) -> None:
        """Book every fill of one incoming order: positions, fees, the makers' order margin."""
        acc, orders, book = self.acc, self._orders, self.books[s]
        unit = self._units[s]
        inst = self.instruments[s]
        taker_ppm = 0 if liquidation else inst.taker_fee_ppm
        maker_ppm = inst.maker_fee_ppm
        symbol, t, emit = self.symbols[s], self.t, self._events.append
        touched = {taker: None} if self._reduce_only else None
        if fills:
            self.marks.traded[s] = True
        for maker_oid, maker, price, q in fills:
            value = q * price * unit
            taker_fee = -(-value * taker_ppm // PPM)  # ceil: fees round against the payer
            maker_fee = -(-value * maker_ppm // PPM) if maker_ppm >= 0 \
                else -(value * -maker_ppm // PPM)
            acc.apply_fill(taker, s, side * q, price, unit, taker_fee)
            acc.apply_fill(maker, s, -side * q, price, unit, maker_fee)
            self.fee_pool += taker_fee + maker_fee
            info = orders[maker_oid]
            rest = book.order(maker_oid)
            acc.om[maker] -= info.margin
            if rest is None:
                del orders[maker_oid]
                ro = self._reduce_only.get(maker)
                if ro is not None:
                    ro.pop(maker_oid, None)
            elif info.margin:
                info.margin = -(-rest[3] * info.price * unit // info.leverage)
                acc.om[maker] += info.margin
            if touched is not None:
                touched[maker] = None
            emit(Trade(t, symbol, price, q, taker, maker, side, taker_oid, maker_oid, liquidation))
        if touched:
            for a in touched:
                if a in self._reduce_only:
                    self._trim_reduce_only(a, s)

    def _trim_reduce_only(self, a: int, s: int) -> None:
        """Keep an account's resting reduce-only orders within its position: newest go first."""
        ro = self._reduce_only.get(a)
        if not ro:
            return
        pos = self.acc.q[s, a]
        book = self.books[s]
        room = abs(pos)
        for oid in list(ro):
            info = self._orders[oid]
            rest = book.order(oid) if info.s == s else None
            if rest is None:
                continue  # another symbol, or the order being filled right now (its caller forgets it)
            size = rest[3]
            if pos == 0 or (pos > 0) == (info.side > 0) or room <= 0:
                self._cancel(oid, "reduce-only outgrew position")
            elif size > room:
                book.amend(oid, info.price, room)
                self._events.append(OrderCancelled(self.t, oid, a, self.symbols[s], size - room,
                                                   "reduce-only trimmed"))
                room = 0
            else:
                room -= size

    def _drain_stp(self, s: int) -> None:
        book = self.books[s]
        for oid in book.stp_cancelled:
            self._forget(oid, book_qty=None, reason="self-trade prevention")
        book.stp_cancelled.clear()

    def _forget(self, oid: int, book_qty: int | None, reason: str | None) -> None:
        """Drop the exchange's record of an order that left the book; an event unless filled."""
        info = self._orders.pop(oid)
        self.acc.om[info.account] -= info.margin
        ro = self._reduce_only.get(info.account)
        if ro is not None:
            ro.pop(oid, None)
        if reason is not None:
            self._events.append(OrderCancelled(self.t, oid, info.account, self.symbols[info.s],
                                               book_qty or 0, reason))

    def _cancel(self, oid: int, reason: str) -> int:
        info = self._orders.get(oid)
        if info is None:
            return 0
        lots = self.books[info.s].cancel(oid)
        self._forget(oid, lots, reason)
        return lots

    def close_position(self, account: int, symbol: str, fraction: object = 1) -> int | None:
        """Reduce a position by ``fraction`` (0 < f ≤ 1) with a reduce-only market order; returns
        the order id (None when the book had nothing to trade against)."""
        a, s = self._a(account), self._s(symbol)
        frac = to_decimal(fraction, "fraction")
        if not 0 < frac <= 1:
            raise InvalidInput(f"fraction must be in (0, 1], got {fraction!r}")
        pos = self.acc.q[s, a]
        if not pos:
            raise ReduceOnlyError(f"account {a} has no {symbol} position to close")
        self._check_halted(s)
        lots = max(1, int(abs(pos) * frac))
        resting = [o for o in self._reduce_only.get(a, ()) if self._orders[o].s == s]
        for oid in resting:  # a close replaces the account's resting reduce-only orders
            self._cancel(oid, "replaced by close")
        return self.place_lots(a, s, SELL if pos > 0 else BUY, lots, None, Tif.IOC, True)

    def cancel(self, oid: int) -> Decimal:
        """Cancel a resting order; returns the cancelled size in coins. A second cancel of the same
        order raises UnknownOrder and changes nothing."""
        info = self._orders.get(oid) if type(oid) is int else None
        if info is None:
            raise UnknownOrder(f"order {oid!r} is not resting (filled, cancelled or never placed)")
        return self._qty_grid[info.s].value(self._cancel(oid, "cancelled"))

    def cancel_all(self, account: int, symbol: str | None = None) -> int:
        """Cancel every resting order of an account (in one symbol, or all); returns the count."""
        a = self._a(account)
        symbols = range(len(self.symbols)) if symbol is None else [self._s(symbol)]
        count = 0
        for s in symbols:
            for oid in self.books[s].orders_of(a):
                self._cancel(oid, "cancelled")
                count += 1
        return count

    def amend(self, oid: int, price: object = None, qty: object = None) -> None:
        """Change a resting order's price and/or size, keeping its id. Reducing the size only keeps
        its place in the queue; anything else re-queues it (and it trades if it now crosses)."""
        info = self._orders.get(oid) if type(oid) is int else None
        if info is None:
            raise UnknownOrder(f"order {oid!r} is not resting (filled, cancelled or never placed)")
        s, a = info.s, info.account
        book = self.books[s]
        remaining = book.order(oid)[3]
        ticks = info.price if price is None else self._price_grid[s].steps(price)
        lots = remaining if qty is None else self._qty_grid[s].steps(qty)
        if ticks != info.price or lots > remaining:
            self._check_price(s, ticks, lots)
        if ticks == info.price and lots <= remaining:
            book.amend(oid, ticks, lots)
            self._rereserve(oid, info, lots)
            return
        self._check_halted(s)  # a size cut is allowed in a halt; a re-queue is not
        self._check_amend(oid, info, ticks, lots, remaining)
        fills = book.amend(oid, ticks, lots)
        info.price = ticks
        if book.stp_cancelled:
            self._drain_stp(s)
        if fills:
            self._settle_fills(s, a, info.side, oid, fills, False)
        if oid not in self._orders:
            return  # a reduce-only order its own fills left nothing to reduce: already cancelled
        rest = book.order(oid)
        if rest is None:
            self._forget(oid, None, None)
        else:
            self._rereserve(oid, info, rest[3])

    def _rereserve(self, oid: int, info: OrderInfo, lots: int) -> None:
        new_margin = ceil_div(lots * info.price * self._units[info.s], info.leverage) \
            if not info.reduce_only else 0
        self.acc.om[info.account] += new_margin - info.margin
        info.margin = new_margin

    def _check_amend(self, oid: int, info: OrderInfo, ticks: int, lots: int, remaining: int) -> None:
        """Validate an amend as if the order were placed anew, its own margin and size freed."""
        a, s = info.account, info.s
        pos = self.acc.q[s, a]
        if info.reduce_only:
            room = lots - remaining
            if room > 0:
                self._check_reduce_only(a, s, info.side, room, pos)
            return
        self.acc.om[a] -= info.margin
        try:
            opening = lots if pos * info.side >= 0 else lots - abs(pos)
            if opening > 0:
                self._check_opening(a, s, info.side, opening, ticks, info.leverage, pos, True)
        finally:
            self.acc.om[a] += info.margin

    def order(self, oid: int) -> OrderView | None:
        """A resting order's view, or None when ``oid`` names no resting order."""
        info = self._orders.get(oid) if type(oid) is int else None
        if info is None:
            return None
        rest = self.books[info.s].order(oid)
        return OrderView(oid, info.account, self.symbols[info.s], ("buy", "sell")[info.side < 0],
                         self._price_grid[info.s].value(info.price),
                         self._qty_grid[info.s].value(rest[3]), info.reduce_only)

    def open_orders(self, account: int) -> list[OrderView]:
        a = self._a(account)
        return [self.order(oid) for s in range(len(self.symbols))
                for oid in self.books[s].orders_of(a)]

    # --- the step -------------------------------------------------------------------------------
    def settle(self) -> list[Event]:
        """Marks, the liquidation waterfall (book → insurance fund → ADL), then ADL lights for every
        position. Returns every event since the previous settle (or drain)."""
        self.marks.update(self.books)
        if all(m is not None for m in self.marks.mark):
            self._update_halts()
            liquidation.run_waterfall(self)
        self.lights_stale = True
        return self.drain_events()

    def refresh_lights(self) -> None:
        """Bring every open position's ADL score and light up to date (``acc.adl_light``,
        ``acc.adl_score``), if anything settled since the last refresh. Lights are for looking
        at, so they are computed when looked at: the views call this; the waterfall's ADL walk
        ranks afresh anyway."""
        if self.lights_stale and all(m is not None for m in self.marks.mark):
            lights.update_lights(self)
            self.lights_stale = False

    def _after_restore(self) -> None:
        """After a load (``state.py``): derived state is rebuilt from the restored arrays."""
        self.scan.reset()  # its first scan values every pool (and forgets what was touched)
        self.lights_stale = True

    def drain_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # --- market data ----------------------------------------------------------------------------
    def l2(self, symbol: str, n: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
        """Top ``n`` price levels each side, in USD and coins, best first."""
        s = self._s(symbol)
        if type(n) is not int or not 1 <= n <= 10_000:
            raise InvalidInput(f"l2 depth n must be a whole number 1..10000, got {n!r}")
        pg, qg = self._price_grid[s], self._qty_grid[s]
        book = self.books[s]
        return {side: [(pg.value(p), qg.value(q)) for p, q in book.levels(sd, n)]
                for side, sd in (("bids", BUY), ("asks", SELL))}

    def depth_units(self, s: int, pct_ppm: int = 10_000) -> int:
        """Resting notional (money units, both sides) within ±pct of mid (default ±1%). In a
        gapped book (spread over 2%, or one side empty) the mark stands in for the mid."""
        book = self.books[s]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None and (ask - bid) * 50 <= ask:
            mid2 = bid + ask
        elif self.marks.mark[s] is not None:
            mid2 = 2 * self.marks.mark[s]
        else:
            return 0
        lo = ceil_div(mid2 * (PPM - pct_ppm), 2 * PPM)
        hi = mid2 * (PPM + pct_ppm) // (2 * PPM)
        return book.notional_within(lo, hi) * self._units[s]

    def depth_usd(self, symbol: str, pct: float = 1.0) -> Decimal:
        """Resting notional in USD within ±pct % of mid, both sides (0 < pct ≤ 100)."""
        s = self._s(symbol)
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct <= 100:
            raise InvalidInput(f"depth pct must be a number in (0, 100], got {pct!r}")
        return Decimal(self.depth_units(s, round(pct * 10_000))) / MONEY_PER_USD

    # --- determinism ----------------------------------------------------------------------------
    def checksum(self) -> str:
        """A hash of the whole state: arrays, books, orders, prices, funds, fees, clock, RNG."""
        h = hashlib.blake2b(digest_size=16)
        for name, arr in sorted(self.acc.arrays().items()):
            if name in ("adl_light", "adl_score"):
                continue
            h.update(name.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        for book in self.books:
            h.update(repr((book.resting(), book.last_trade_price)).encode())
        orders = sorted((oid, i.account, i.s, i.side, i.price, i.leverage, i.reduce_only, i.margin)
                        for oid, i in self._orders.items())
        h.update(repr(orders).encode())
        h.update(repr(self.marks.state()).encode())
        h.update(repr((self.fee_pool, self.net_deposits, self.t, self._next_oid)).encode())
        if self.adl_breaker or self.halt_drop_ppm:
            h.update(repr((self.adl_minute, self.adl_used, self.halted_until, self.halt_highs,
                           self.halts)).encode())
        h.update(repr(self.rng.bit_generator.state).encode())
        return h.hexdigest()
