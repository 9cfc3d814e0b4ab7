"""The exchange's front: human units in, integer units to its parts (``__init__.py`` lists
them), views and checksum out. Every public call validates its input before anything changes, so
a call that raises leaves the state (and ``checksum()``) as it was."""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Iterable

import numpy as np

from ..accounts import DEFAULT_LEVERAGE, Accounts
from ..adl import AdlPolicy
from ..book import OrderBook, Tif
from ..errors import (InvalidInput, LeverageError, UnknownAccount, UnknownSymbol)
from ..events import Event
from ..instruments import Instrument
from ..marks import MarkPricer
from ..units import (MAX_PRICE_TICKS, MONEY_PER_USD, Grid, usd_to_money)
from . import entry, lights, views, waterfall
from .compat import MOVED_FIELDS
from .funds import InsuranceFunds
from .journal import Journal
from .ledger import OrderLedger
from .pools import MarginPools
from .rules import MarketRules
from .scan import MarginScan
from .triggers import TriggerOrders
from .views import AccountView, OrderView, PositionView


class Exchange:
    """A perpetual-futures exchange over one or more instruments.

    ``insurance_fund`` is USD: one number for every contract's fund (or for the shared fund when
    ``shared_fund``), or a mapping symbol → USD. Funds are accounts of their own
    (``fund_account``) that never fall below ``fund_floor`` USD."""

    __slots__ = ("instruments", "symbols", "_sym", "units", "price_grid", "qty_grid",
                 "adl_policy", "rng", "books", "acc", "marks", "journal", "pools", "rules",
                 "ledger", "funds", "scan", "lit_positions", "lights_stale", "triggers")
    _not_state = ("scan",)
    """Derived, not saved (``state.py``); ``_after_restore`` rebuilds it."""
    _moved_fields = MOVED_FIELDS
    """Where a field of a save from before the exchange was split into parts lives now."""
    _dropped_fields = ("valuation", "desks")
    """Fields of older saves that were derived caches: read and dropped."""

    def __init__(self, instruments: Iterable[Instrument], insurance_fund: object = 0, *,
                 shared_fund: bool = False, fund_floor: object = 0, adl_policy: str = "article",
                 rng: np.random.Generator | None = None, workout_slippage_ppm: int = 5_000,
                 takeover_stress_ppm: int = 0, adl_drawdown_ppm: int = 0, mark_ema_steps: int = 30,
                 mark_method: str = "median3", capacity: int = 1024):
        self.instruments = list(instruments)
        self.symbols = [inst.symbol for inst in self.instruments]
        if not self.symbols:
            raise InvalidInput("an exchange needs at least one instrument")
        if len(set(self.symbols)) != len(self.symbols):
            raise InvalidInput(f"duplicate symbols in {self.symbols}")
        self._sym = {sym: s for s, sym in enumerate(self.symbols)}
        self.price_grid = [Grid(i.tick_size, f"{i.symbol} price") for i in self.instruments]
        self.qty_grid = [Grid(i.lot_size, f"{i.symbol} qty") for i in self.instruments]
        self.adl_policy = AdlPolicy.parse(adl_policy)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.books = [OrderBook() for _ in self.instruments]
        self.acc = Accounts(len(self.symbols), capacity)
        self.marks = MarkPricer(len(self.symbols), mark_ema_steps, mark_method)
        self.journal = Journal()
        self.pools = MarginPools(self.instruments, self.acc, self.marks)
        self.units = self.pools.units
        """Money units per tick × lot, per symbol (shared with the parts)."""
        self.rules = MarketRules(self.symbols, self.journal)
        self.ledger = OrderLedger(self.instruments, self.books, self.acc, self.marks, self.pools,
                                  self.rules, self.journal, self.price_grid, self.qty_grid)
        self.funds = InsuranceFunds(self.symbols, self.pools, self.ledger, self.rules,
                                    self.journal, insurance_fund, shared_fund, fund_floor,
                                    workout_slippage_ppm, takeover_stress_ppm, adl_drawdown_ppm)
        self.triggers = TriggerOrders(self.ledger, self.rules, self.journal)  # stops, take-profits
        self.scan = MarginScan(self.instruments)
        """Which pools may be under water (scan.py): derived, rebuilt after a load."""
        self.lit_positions = [np.zeros(0, np.int64) for _ in self.symbols]
        """Per symbol, the accounts whose ADL light the last refresh set (lights.py)."""
        self.lights_stale = True
        """Set by every settle; ``refresh_lights`` recomputes the lights when someone looks."""

    t = property(lambda self: self.journal.t, lambda self, v: setattr(self.journal, "t", v),
                 doc="Seconds since the level's start (the simulation sets it every step).")

    # --- lookups ---------------------------------------------------------------------------------
    def index_of(self, symbol: str) -> int:
        """The index of ``symbol`` in ``symbols``; ``UnknownSymbol`` otherwise."""
        try:
            return self._sym[symbol]
        except (KeyError, TypeError):
            raise UnknownSymbol(f"unknown symbol {symbol!r}; symbols: {', '.join(self.symbols)}") \
                from None

    _s = index_of

    def trader(self, account: object) -> int:
        """A trader account id, checked (``UnknownAccount`` for funds and unknown ids)."""
        if type(account) is not int:
            if not isinstance(account, (int, np.integer)) or isinstance(account, bool):
                raise UnknownAccount(f"account must be an integer id, got {account!r}")
            account = int(account)
        if not 0 <= account < self.acc.n or self.acc.fund[account]:
            raise UnknownAccount(f"unknown account {account!r}; accounts are ids "
                                 f"{len(self.funds.ids)}..{self.acc.n - 1}")
        return account

    _a = trader

    def instrument(self, symbol: str) -> Instrument:
        return self.instruments[self._s(symbol)]

    # --- rules and funds -------------------------------------------------------------------------
    def set_rules(self, **rules: object) -> None:
        """The optional market rules (``rules.py``, ``MarketRules.configure``)."""
        self.rules.configure(**rules)  # type: ignore[arg-type]
        if self.pools.mm_basis != self.rules.mm_basis:  # pools' maintenance changes: scan anew
            self.pools.mm_basis = self.rules.mm_basis
            self.scan.reset()

    def halted(self, s: int) -> bool:
        return self.rules.halted(s)

    def resize_fund(self, name: str, usd: object) -> None:
        """Set a fund's cash to ``usd`` before trading starts (a deposit: money is conserved)."""
        self.funds.resize(name, usd)

    def fund_account(self, symbol: str) -> int:
        """The account id of the insurance fund that covers ``symbol``."""
        return self.funds.fund_of[self._s(symbol)]

    def insurance_fund_units(self, symbol: str) -> int:
        """Cash of the fund covering ``symbol``, in money units."""
        return self.acc.w[self.fund_account(symbol)]

    def insurance_fund_balance(self, symbol: str) -> Decimal:
        """Cash of the fund covering ``symbol``, in USD."""
        return Decimal(self.insurance_fund_units(symbol)) / MONEY_PER_USD

    # --- accounts --------------------------------------------------------------------------------
    def open_account(self, deposit: object = 0, *, leverage: int = DEFAULT_LEVERAGE) -> int:
        """Open an account with ``deposit`` USD; returns its id."""
        units = usd_to_money(deposit, "deposit", allow_zero=True)
        entry.check_default_leverage(leverage)
        return self.pools.open(units, 1, leverage=leverage)[0]

    def open_accounts(self, deposits: np.ndarray, *, leverage: int = DEFAULT_LEVERAGE) -> range:
        """Open many accounts at once; ``deposits`` is an int64 array of money units (≥ 0)."""
        return entry.open_accounts(self, deposits, leverage)

    def deposit(self, account: int, usd: object) -> None:
        self.pools.deposit(self._a(account), usd_to_money(usd, "deposit"))

    def withdraw(self, account: int, usd: object) -> None:
        """Withdraw USD from the cross wallet, up to the available balance."""
        self.pools.withdraw(self._a(account), usd_to_money(usd, "withdrawal"))

    def set_leverage(self, account: int, symbol: str, leverage: int) -> None:
        """Set the account's leverage for a symbol (applies to new orders and the position's IM)."""
        a, s = self._a(account), self._s(symbol)
        if type(leverage) is not int:
            raise LeverageError(f"leverage must be a whole number, got {leverage!r}")
        self.pools.set_leverage(a, s, leverage, symbol)

    def set_margin_mode(self, account: int, symbol: str, mode: str) -> None:
        """``"cross"`` or ``"isolated"``; only while the account has no position or order there."""
        a, s = self._a(account), self._s(symbol)
        if mode not in ("cross", "isolated"):
            raise InvalidInput(f"margin mode must be 'cross' or 'isolated', got {mode!r}")
        self.pools.set_margin_mode(a, s, mode == "isolated", self.ledger.has_orders(a, s), symbol)

    def add_margin(self, account: int, symbol: str, usd: object) -> None:
        """Move USD from the cross wallet into an isolated position's margin."""
        a, s = self._a(account), self._s(symbol)
        self.pools.add_margin(a, s, usd_to_money(usd, "margin"), symbol)

    def remove_margin(self, account: int, symbol: str, usd: object) -> None:
        """Move USD from an isolated position back to the wallet, keeping its initial margin."""
        a, s = self._a(account), self._s(symbol)
        self.pools.remove_margin(a, s, usd_to_money(usd, "margin"), symbol)

    def seed_positions(self, s: int, accounts: np.ndarray, lots: np.ndarray,
                       entry_ticks: np.ndarray, isolated_margin: np.ndarray | None = None) -> None:
        """Positions carried in from before the session (``MarginPools.seed_positions``)."""
        self.pools.seed_positions(s, np.asarray(accounts, dtype=np.int64),
                                  np.asarray(lots, dtype=np.int64),
                                  np.asarray(entry_ticks, dtype=np.int64), isolated_margin)
        self.scan.reset()

    # --- valuation -------------------------------------------------------------------------------
    def available_units(self, a: int) -> int:
        """Cross equity minus the initial margin of cross positions and of open orders."""
        return self.pools.available(a)

    def equity_units(self, account: int) -> int:
        """Wallet + isolated margins + unrealized PnL of every position, in money units."""
        return self.pools.equity(self._a(account))

    def equity(self, account: int) -> Decimal:
        """Total equity in USD."""
        return Decimal(self.equity_units(account)) / MONEY_PER_USD

    def account(self, account: int) -> AccountView:
        return views.account_view(self, self._a(account))

    def position(self, account: int, symbol: str) -> PositionView:
        return views.position_view(self, self._a(account), self._s(symbol))

    @property
    def net_deposits(self) -> int:
        """Money that came in from outside (deposits less withdrawals), money units."""
        return self.pools.net_deposits

    def total_money(self) -> int:
        """Σ wallets + Σ isolated margin − Σ cost basis + fee pool − what the exchange wrote off,
        in money units: the cash plus unrealized PnL of everyone at any common mark. Only
        deposits and withdrawals change it."""
        return self.pools.total_money() + self.ledger.fee_pool - self.funds.written_off

    def bad_debt_units(self) -> int:
        """Money the exchange is owed and will not be paid (money units): trader deficits the funds
        could not cover, any fund's equity below zero (only an ADL breaker allows it), and the
        isolated losses past bankruptcy the exchange wrote off (``Funds.cover_isolated``)."""
        return self.pools.trader_deficits() + self.funds.deficits() + self.funds.written_off

    # --- prices ----------------------------------------------------------------------------------
    def set_index(self, symbol: str, usd: object) -> None:
        """Set the outside venues' index price for a symbol (USD, on the tick grid)."""
        s = self._s(symbol)
        self.set_index_ticks(s, self.price_grid[s].steps(usd, f"{symbol} index price"))

    def set_index_ticks(self, s: int, ticks: int) -> None:
        if type(ticks) is not int or not 0 < ticks <= MAX_PRICE_TICKS:
            raise InvalidInput(f"{self.symbols[s]} index price must be 1..{MAX_PRICE_TICKS:,} "
                               f"ticks, got {ticks!r}")
        self.pools.check_price_jump(s, ticks, self.marks.index[s], self.symbols[s])
        self.marks.set_index(s, ticks)

    def mark_price(self, symbol: str) -> Decimal | None:
        s = self._s(symbol)
        m = self.marks.mark[s]
        return None if m is None else self.price_grid[s].value(m)

    def index_price(self, symbol: str) -> Decimal | None:
        s = self._s(symbol)
        i = self.marks.index[s]
        return None if i is None else self.price_grid[s].value(i)

    # --- orders ----------------------------------------------------------------------------------
    place = entry.place
    """Place an order sized in coins (``qty``), ``lots`` or whole-dollar notional (``usd``);
    returns its id (``entry.place``, bound here with no layer in between, says the rules)."""

    place_trigger = entry.place_trigger
    """A stop or take-profit order, held until its trigger is reached (``triggers.py``)."""

    def place_lots(self, a: int, s: int, side: int, lots: int, ticks: int | None, tif: Tif,
                   reduce_only: bool = False) -> int:
        """Place an order in grid units (the agents' path; trusted ids), checked like ``place``."""
        return self.ledger.place(a, s, side, lots, ticks, tif, reduce_only)

    def place_ladder(self, a: int, s: int, quotes: list[tuple[int, int, int]]) -> list[int]:
        """Post-only quotes ``(side, lots, ticks)`` in one call (``OrderLedger.post_ladder``)."""
        return self.ledger.post_ladder(a, s, quotes)

    def close_position(self, account: int, symbol: str, fraction: object = 1) -> int | None:
        """Reduce a position by ``fraction`` (0 < f ≤ 1): a reduce-only market order's id."""
        return entry.close_position(self, self._a(account), self._s(symbol), fraction)

    def cancel(self, oid: int) -> Decimal:
        """Cancel a resting or conditional order; returns its size in coins (UnknownOrder if
        gone)."""
        return entry.cancel(self, oid)

    def cancel_all(self, account: int, symbol: str | None = None) -> int:
        """Cancel every resting and conditional order of an account (in one symbol, or all);
        returns the count."""
        return entry.cancel_all(self, self._a(account), symbol)

    def amend(self, oid: int, price: object = None, qty: object = None, *,
              usd: int | None = None) -> None:
        """Change a resting order's price and/or size (coins ``qty`` or notional ``usd`` at
        its new price) (``OrderLedger.amend``), keeping its id."""
        info = entry.resting(self, oid)
        ticks = None if price is None else self.price_grid[info.s].steps(price)
        lots = None if qty is None and usd is None else entry.order_lots(
            self, info.s, qty, None, usd, info.price if ticks is None else ticks)
        self.ledger.amend(oid, ticks, lots)

    def order(self, oid: int) -> OrderView | None:
        """A resting order's view, or None when ``oid`` names no resting order."""
        return views.order_view(self, oid)

    def open_orders(self, account: int) -> list[OrderView]:
        a = self._a(account)
        return [views.order_view(self, oid) for s in range(len(self.symbols))  # type: ignore[misc]
                for oid in self.books[s].orders_of(a)]

    def open_triggers(self, account: int) -> list[views.TriggerView]:
        """The account's stop and take-profit orders waiting for their trigger."""
        return views.trigger_views(self, self._a(account))

    # --- the step --------------------------------------------------------------------------------
    def settle(self) -> list[Event]:
        """Marks, then the waterfall (book → fund → ADL); every event since the last drain."""
        self.marks.update(self.books)
        if all(m is not None for m in self.marks.mark):
            self.rules.update_halts(self.marks.mark)
            self.triggers.fire()
            waterfall.run_waterfall(self)
        self.lights_stale = True
        return self.drain_events()

    def refresh_lights(self) -> None:
        """Bring every ADL score and light up to date (``acc.adl_light``, ``acc.adl_score``) if
        anything settled since: lights are computed when looked at (the views call this)."""
        if self.lights_stale and all(m is not None for m in self.marks.mark):
            lights.update_lights(self)
            self.lights_stale = False

    def _after_restore(self) -> None:  # after a load (state.py): rebuild what is derived
        self.scan = MarginScan(self.instruments)  # its first scan values every pool
        self.lights_stale = True

    def drain_events(self) -> list[Event]:
        return self.journal.drain()

    # --- market data (views.py) -----------------------------------------------------------------
    def l2(self, symbol: str, n: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
        """Top ``n`` price levels each side, in USD and coins, best first."""
        return views.l2(self, self._s(symbol), n)

    def depth_units(self, s: int, pct_ppm: int = 10_000) -> int:
        """Resting notional (money units, both sides) within ±pct of mid (default ±1%)."""
        return views.depth_units(self, s, pct_ppm)

    def depth_usd(self, symbol: str, pct: float = 1.0) -> Decimal:
        """Resting notional in USD within ±pct % of mid, both sides (0 < pct ≤ 100)."""
        return views.depth_usd(self, self._s(symbol), pct)

    # --- determinism -----------------------------------------------------------------------------
    def checksum(self) -> str:
        """A hash of the whole state: arrays, books, orders, prices, funds, fees, clock, RNG."""
        return views.checksum(self)
