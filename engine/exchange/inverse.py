"""Inverse (coin-margined) contracts: BitMEX's XBTUSD, Binance's COIN-M, Bybit's inverse
perpetuals.

One contract is worth a fixed ``contract_usd`` dollars; margin, profit and loss, fees and the
insurance fund are in the coin. A long of N contracts of face F entered at P₀ and closed at P₁
makes N·F·(1/P₀ − 1/P₁) coin: the collateral falls with the price the position is long of.

That is a *linear* position in r = F/P (coin per contract), the other way round: a long in
contracts is a short in r. So a coin-margined exchange (``CoinExchange``) is an ordinary
``Exchange`` whose books, marks and positions run in r: a price is a whole number of r-ticks
(10^−coin_decimals coin per contract), a size a whole number of contracts, money a whole number of
units of 1e-12 coin. The core — books, margin pools, scan, waterfall, funds, ADL and its lights —
is unchanged, so the rule books (``set_rules``: maintenance basis, lights, tier step-down...) and
the exactness come with it: money is conserved to the unit, in the coin. The boundary is here: a
USD price P becomes round(F·10^d / P) r-ticks (refused unless it converts back to P, so the r-grid
tells every USD tick apart), a buy becomes a sell of r, and the views and events turn r back into
dollars (longs and shorts in contracts, as the venue shows them) and money into the coin.

One exchange settles in one coin, as the venues keep one wallet per coin (Binance: "in Cross
Margin Mode, all BTC in the COIN-M Futures wallet can be used for all BTC based contracts"); a
venue that lists linear and inverse contracts is two exchanges, each conserving its own currency.
The crash levels' agents trade linear contracts: inverse contracts are for the headless engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from math import isqrt
from typing import TYPE_CHECKING, Any

from ..accounts import DEFAULT_LEVERAGE
from ..book import BUY, Side
from ..errors import CrashfloorError, InvalidInput, OrderRejected
from ..events import Event
from ..instruments import Instrument, _brackets, _stepped
from ..units import MAX_MONEY, MAX_PRICE_TICKS, MONEY_PER_USD, Grid, to_decimal, to_steps
from . import inverse_views
from .front import Exchange

if TYPE_CHECKING:
    from collections.abc import Iterable

COIN_UNITS = 10**12
"""Money units in one coin on a coin-margined exchange (the core's unit: 1e-6 of its 1e-6)."""
_CORE_PER_COIN = COIN_UNITS // MONEY_PER_USD
"""The core counts money in units of 1e-6 of a "dollar"; on a coin exchange that dollar is 1e-6
coin (a micro-coin), so the core's amounts are micro-coins and its prices micro-coins per
contract."""
_COIN_STEP = Decimal(1) / COIN_UNITS


@dataclass(frozen=True, slots=True)
class InverseContract:
    """A perpetual contract of ``contract_usd`` dollars a contract, settled in the coin.

    ``brackets`` are rows of (position value cap in coin, maintenance rate %, maximum leverage),
    as the venues publish them in the coin (Binance COIN-M: "Notional Value in BTC"); ``stepped``
    takes the whole position's maintenance at its row's rate with no maintenance amount
    (BitMEX's risk-limit steps), otherwise the amounts make the margin continuous (Binance's).
    Prices are USD on ``tick_size``; ``coin_decimals`` sets the r-grid (10^−d coin a contract),
    fine enough that adjacent USD ticks never share an r-tick."""

    symbol: str
    contract_usd: Decimal
    tick_size: Decimal
    brackets: tuple[tuple[Any, float, int], ...]
    stepped: bool = False
    maker_fee_ppm: int = 200
    taker_fee_ppm: int = 500
    liquidation_fee_ppm: int = 5_000
    coin_decimals: int = 12

    def __post_init__(self) -> None:
        for name in ("contract_usd", "tick_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise InvalidInput(f"{self.symbol}: {name} must be a positive Decimal, got "
                                   f"{value!r}")
        if type(self.coin_decimals) is not int or not 6 <= self.coin_decimals <= 12:
            raise InvalidInput(f"{self.symbol}: coin_decimals must be a whole number 6..12, got "
                               f"{self.coin_decimals!r}")
        if self.scale != self.scale.to_integral_value():
            raise InvalidInput(f"{self.symbol}: contract_usd × 10^coin_decimals / tick_size = "
                               f"{self.scale} must be a whole number")
        if not self.brackets:
            raise InvalidInput(f"{self.symbol}: at least one margin bracket is needed")

    @property
    def scale(self) -> Decimal:
        """K = F·10^d / tick: a price of p USD ticks is K / p r-ticks."""
        return self.contract_usd * 10**self.coin_decimals / self.tick_size

    def instrument(self) -> Instrument:
        """The linear contract on r that the core trades: one lot is one contract, one tick
        10^−d coin (in the core's micro-coins), brackets in the core's units, and the linear
        contract's price band turned over (a USD limit from a tenth of the mark to twice it is
        an r from half the mark's r to ten times it)."""
        rows: Any = [(to_decimal(cap, f"{self.symbol} bracket cap") * _CORE_PER_COIN, mmr, lev)
                     for cap, mmr, lev in self.brackets]
        brackets = _stepped(rows) if self.stepped else _brackets(rows)
        return Instrument(self.symbol, Decimal(10) ** (6 - self.coin_decimals), Decimal(1),
                          brackets, self.maker_fee_ppm, self.taker_fee_ppm,
                          self.liquidation_fee_ppm, band_up_ppm=9_000_000, band_down_ppm=500_000)


def _side(side: Side | str) -> Side:
    """A side in contracts as the core's side in r (a buy of contracts sells r)."""
    return Side(-Side.parse(side))


_USD_AMOUNT = re.compile(r"(-?\d[\d,]*(?:\.\d+)?) USD")
"""An amount in a core error message: micro-coins there, which the coin exchange says in coin."""
_MONEY_RULES = ("partial_min_usd", "adl_breaker_usd_per_min")
"""``MarketRules.configure``'s amounts: USD on a linear exchange, the coin on a coin exchange."""


class CoinExchange:
    """A coin-margined exchange over inverse contracts (see the module's docstring).

    Its API is ``Exchange``'s in the venue's units: sizes in whole contracts, prices in USD on
    each contract's tick, money (deposits, margin, funds, the views' amounts) in the coin. The
    views are the linear exchange's records (``PositionView``, ``AccountView``...) with amounts in
    the coin; events carry sides in contracts, prices in USD ticks and amounts in money units of
    1e-12 coin. ``core`` is the linear exchange underneath, in r (read it, do not trade on it).
    ``options`` are ``Exchange``'s (``adl_policy``, ``mark_method``, ``takeover_stress_ppm``...);
    ``set_rules`` sets a rule book as on a linear exchange."""

    __slots__ = ("coin", "contracts", "core", "_k", "_usd_grid", "_lo", "_hi")

    def __init__(self, coin: str, contracts: Iterable[InverseContract],
                 insurance_fund: object = 0, *, fund_floor: object = 0, **options: Any):
        if not isinstance(coin, str) or not coin.isalnum() or not coin.isupper():
            raise InvalidInput(f"coin must be upper-case letters/digits, got {coin!r}")
        self.coin = coin
        self.contracts = list(contracts)
        if not all(isinstance(c, InverseContract) for c in self.contracts):
            raise InvalidInput("a coin-margined exchange lists InverseContract contracts only")
        if isinstance(insurance_fund, Mapping):
            fund: object = {sym: self._core_amount(v, f"insurance_fund.{sym}")
                            for sym, v in insurance_fund.items()}
        else:
            fund = self._core_amount(insurance_fund, "insurance_fund")
        self.core = Exchange([c.instrument() for c in self.contracts], fund,
                             fund_floor=self._core_amount(fund_floor, "fund_floor"), **options)
        self._k = [int(c.scale) for c in self.contracts]
        """Per contract, K = F·10^d / tick: p USD ticks are K / p r-ticks."""
        self._usd_grid = [Grid(c.tick_size, f"{c.symbol} price") for c in self.contracts]
        self._lo = [-(-k // MAX_PRICE_TICKS) for k in self._k]
        """The lowest USD price (ticks) whose r fits the core's price range."""
        self._hi = [isqrt(k) for k in self._k]
        """Up to this USD price (ticks), adjacent USD ticks are at least one r-tick apart, so a
        price converts to r and back to itself."""

    # --- units -----------------------------------------------------------------------------------
    def _units(self, value: object, what: str, allow_zero: bool = True) -> int:
        """Coin (a human number, at most 12 decimals) to money units of 1e-12 coin."""
        units = to_steps(value, _COIN_STEP, f"{what} ({self.coin})", allow_zero=allow_zero)
        if units > MAX_MONEY:
            raise InvalidInput(f"{what} ({self.coin}) must be at most {MAX_MONEY // COIN_UNITS:,},"
                               f" got {value!r}")
        return units

    def _core_amount(self, value: object, what: str, allow_zero: bool = True) -> Decimal:
        """Coin as the amount the core's USD-named calls take (micro-coins, exact)."""
        return Decimal(self._units(value, what, allow_zero)) / MONEY_PER_USD

    @staticmethod
    def coin_of(core_amount: Decimal) -> Decimal:
        """A core amount (micro-coins) in the coin."""
        return core_amount / _CORE_PER_COIN

    @staticmethod
    def _coin(units: int) -> Decimal:
        """Money units (1e-12 coin) in the coin."""
        return Decimal(units) / COIN_UNITS

    def r_ticks(self, s: int, usd: object, what: str = "price") -> int:
        """A USD price on contract s's tick as the core's r-ticks, round(K / p)."""
        return self._r_of(s, self._usd_grid[s].steps(usd, f"{self.contracts[s].symbol} {what}"),
                          usd, what)

    def _r_of(self, s: int, p: int, usd: object, what: str) -> int:
        """USD ticks ``p`` (the human ``usd``) as r-ticks, refused where the grid cannot."""
        k = self._k[s]
        r = (2 * k + p) // (2 * p)
        if not self._lo[s] <= p <= self._hi[s] or (2 * k + r) // (2 * r) != p:
            grid = self._usd_grid[s]
            raise InvalidInput(
                f"{self.contracts[s].symbol} {what} {usd!r} USD is outside the prices its coin "
                f"grid (1e-{self.contracts[s].coin_decimals} {self.coin} a contract) tells apart: "
                f"{grid.value(self._lo[s])}..{grid.value(self._hi[s])} USD")
        return r

    def usd_ticks(self, s: int, r: int, rounding: str = "nearest") -> int:
        """r-ticks as USD ticks of contract s: ``nearest``, ``up`` or ``down``."""
        k = self._k[s]
        if rounding == "up":
            return -(-k // r)
        return k // r if rounding == "down" else (2 * k + r) // (2 * r)

    def usd(self, s: int, r: int, rounding: str = "nearest") -> Decimal:
        """r-ticks as a USD price on contract s's tick."""
        return self._usd_grid[s].value(self.usd_ticks(s, r, rounding))

    def exact_usd(self, s: int, core_price: float) -> float:
        """A core price (micro-coins a contract, not on the grid) as USD, unrounded."""
        return float(self.contracts[s].contract_usd) * _CORE_PER_COIN / core_price


    @contextmanager
    def _venue_units(self) -> Iterator[None]:
        """Re-raise a core refusal in the venue's words: its "USD" amounts are micro-coins here
        (said in the coin) and its lots are contracts. (Prices and sides are checked in USD and
        contracts before a call reaches the core: ``_check_band``, ``_check_trigger``.)"""
        try:
            yield
        except CrashfloorError as exc:
            said = str(exc)
            coin = _USD_AMOUNT.sub(lambda m: f"{self._coin_text(m.group(1))} {self.coin}", said)
            coin = coin.replace(" lots", " contracts")
            if coin == said:
                raise
            raise type(exc)(coin) from None

    def _coin_text(self, amount: str) -> str:
        return format(self.coin_of(Decimal(amount.replace(",", ""))).normalize(), "f")

    def _check_band(self, s: int, usd: object, ticks: int) -> None:
        """The linear contract's band in USD (a tenth of the mark to twice it), with its words."""
        mark = self.core.marks.mark[s]
        if mark is None:
            return
        m = self.usd_ticks(s, mark)
        lo, hi = -(-m // 10), 2 * m  # the core's r from half the mark's r to ten times it
        if not lo <= ticks <= hi:
            grid = self._usd_grid[s]
            raise OrderRejected(f"{self.contracts[s].symbol}: limit price {usd} is outside the "
                                f"price band {grid.value(lo)}..{grid.value(hi)} around the mark "
                                f"{grid.value(m)}")

    def _check_trigger(self, s: int, side: Side | str, kind: str, ticks: int) -> None:
        """A trigger that would fire at once, refused in contracts and USD (``triggers.py``)."""
        watched = self.core.triggers.price(s)
        if watched is None or kind not in ("stop", "take_profit"):
            return  # no price yet; an unknown kind is the core's to refuse
        now = self.usd_ticks(s, watched)
        sd = Side.parse(side)
        falling = (sd == BUY) != (kind == "stop")  # a sell stop, a buy take-profit
        if (now <= ticks) if falling else (now >= ticks):
            word = "below" if falling else "above"
            raise InvalidInput(f"a {kind.replace('_', '-')} to {sd.word} would fire at once: its "
                               f"trigger must be {word} the {self.core.rules.stop_trigger} price "
                               f"now ({self._usd_grid[s].value(now)} USD)")

    def _priced(self, s: int, usd: object, what: str) -> tuple[Decimal, int]:
        """A USD limit as the core's price and as USD ticks, after the band check in USD."""
        p = self._usd_grid[s].steps(usd, f"{self.contracts[s].symbol} {what}")
        core = self._r_of(s, p, usd, what) * self.core.instruments[s].tick_size
        self._check_band(s, usd, p)
        return core, p

    # --- accounts and funds ----------------------------------------------------------------------
    def open_account(self, deposit: object = 0, *, leverage: int = DEFAULT_LEVERAGE) -> int:
        """Open an account with ``deposit`` coin; returns its id."""
        return self.core.open_account(self._core_amount(deposit, "deposit"), leverage=leverage)

    def deposit(self, account: int, coin: object) -> None:
        with self._venue_units():
            self.core.deposit(account, self._core_amount(coin, "deposit", False))

    def withdraw(self, account: int, coin: object) -> None:
        with self._venue_units():
            self.core.withdraw(account, self._core_amount(coin, "withdrawal", False))

    def set_leverage(self, account: int, symbol: str, leverage: int) -> None:
        with self._venue_units():
            self.core.set_leverage(account, symbol, leverage)

    def set_margin_mode(self, account: int, symbol: str, mode: str) -> None:
        self.core.set_margin_mode(account, symbol, mode)

    def add_margin(self, account: int, symbol: str, coin: object) -> None:
        with self._venue_units():
            self.core.add_margin(account, symbol, self._core_amount(coin, "margin", False))

    def remove_margin(self, account: int, symbol: str, coin: object) -> None:
        with self._venue_units():
            self.core.remove_margin(account, symbol, self._core_amount(coin, "margin", False))

    def set_rules(self, **rules: object) -> None:
        """A rule book's fields, as ``Exchange.set_rules``; an amount a rule names in USD
        (``partial_min_usd``, ``adl_breaker_usd_per_min``) is in the coin here, and the
        partial-liquidation minimum defaults to 1 coin (the linear default is 100,000 USD)."""
        if rules.get("halt_drop_pct"):
            raise InvalidInput("halt_drop_pct: a trading halt watches the mark fall, which on a "
                               "coin exchange is r rising; halts are for linear exchanges (set 0)")
        rules.setdefault("partial_min_usd", 1)
        for name in _MONEY_RULES:
            if name in rules:
                rules[name] = self._core_amount(rules[name], name)
        self.core.set_rules(**rules)

    def resize_fund(self, name: str, coin: object) -> None:
        self.core.resize_fund(name, self._core_amount(coin, f"insurance_fund.{name}"))

    def fund_account(self, symbol: str) -> int:
        return self.core.fund_account(symbol)

    def insurance_fund_balance(self, symbol: str) -> Decimal:
        """Cash of the fund covering ``symbol``, in the coin."""
        return self._coin(self.core.insurance_fund_units(symbol))

    def equity(self, account: int) -> Decimal:
        """Total equity in the coin."""
        return self._coin(self.core.equity_units(account))

    def total_money(self) -> int:
        """``Exchange.total_money`` in money units of 1e-12 coin."""
        return self.core.total_money()

    @property
    def net_deposits(self) -> int:
        return self.core.net_deposits

    def bad_debt(self) -> Decimal:
        """``Exchange.bad_debt_units`` in the coin."""
        return self._coin(self.core.bad_debt_units())

    # --- prices ----------------------------------------------------------------------------------
    def set_index(self, symbol: str, usd: object) -> None:
        """The outside index price (USD)."""
        s = self.core.index_of(symbol)
        self.core.set_index_ticks(s, self.r_ticks(s, usd, "index price"))

    def mark_price(self, symbol: str) -> Decimal | None:
        """The mark in USD, to the nearest tick."""
        s = self.core.index_of(symbol)
        m = self.core.marks.mark[s]
        return None if m is None else self.usd(s, m)

    def index_price(self, symbol: str) -> Decimal | None:
        s = self.core.index_of(symbol)
        i = self.core.marks.index[s]
        return None if i is None else self.usd(s, i)

    # --- orders ----------------------------------------------------------------------------------
    def place(self, account: int, symbol: str, side: Side | str, contracts: int,
              price: object = None, tif: str = "gtc", leverage: int | None = None,
              reduce_only: bool = False) -> int:
        """Buy or sell whole ``contracts`` at a USD limit ``price`` (None: a market order);
        checked as ``Exchange.place``. Returns the order id."""
        s = self.core.index_of(symbol)
        core_price = None if price is None else self._priced(s, price, "price")[0]
        with self._venue_units():
            return self.core.place(account, symbol, _side(side), None, core_price, tif, leverage,
                                   reduce_only, lots=contracts)

    def place_trigger(self, account: int, symbol: str, side: Side | str, kind: str,
                      trigger: object, contracts: int, price: object = None,
                      reduce_only: bool = False) -> int:
        """A stop or take-profit (``Exchange.place_trigger``) at a USD ``trigger``: a stop to
        sell contracts fires when the price falls to it, which in r is a stop to buy r as r
        rises to it — the same kind, the other side."""
        s = self.core.index_of(symbol)
        limit = None if price is None else self._priced(s, price, "price")[0]
        core_trigger, ticks = self._priced(s, trigger, "trigger")
        self._check_trigger(s, side, kind, ticks)
        with self._venue_units():
            return self.core.place_trigger(account, symbol, _side(side), kind, core_trigger,
                                           price=limit, reduce_only=reduce_only, lots=contracts)

    def close_position(self, account: int, symbol: str, fraction: object = 1) -> int | None:
        with self._venue_units():
            return self.core.close_position(account, symbol, fraction)

    def cancel(self, oid: int) -> Decimal:
        """Cancel an order; returns its size in contracts."""
        return self.core.cancel(oid)

    def cancel_all(self, account: int, symbol: str | None = None) -> int:
        return self.core.cancel_all(account, symbol)

    def amend(self, oid: int, price: object = None, contracts: int | None = None) -> None:
        """A resting order's new USD price and/or size in contracts, keeping its id."""
        view = self.core.order(oid)
        if view is None:
            self.core.amend(oid)  # raises UnknownOrder with the core's words
            return
        s = self.core.index_of(view.symbol)
        core_price = None if price is None else self._priced(s, price, "price")[0]
        if contracts is not None and (type(contracts) is not int or contracts < 1):
            raise InvalidInput(f"contracts must be a whole number from 1, got {contracts!r}")
        with self._venue_units():
            self.core.amend(oid, core_price, contracts)

    # --- the step --------------------------------------------------------------------------------
    @property
    def t(self) -> int:
        return self.core.t

    @t.setter
    def t(self, value: int) -> None:
        self.core.t = value

    def settle(self) -> list[Event]:
        """``Exchange.settle``; the events in contracts and USD ticks (``event``)."""
        return [self.event(e) for e in self.core.settle()]

    def drain_events(self) -> list[Event]:
        return [self.event(e) for e in self.core.drain_events()]

    def event(self, e: Event) -> Event:
        """A core event in the venue's units (``inverse_views.event``)."""
        return inverse_views.event(self, e)

    def refresh_lights(self) -> None:
        self.core.refresh_lights()

    def checksum(self) -> str:
        return self.core.checksum()

    # --- views (inverse_views.py: the venue's units) -------------------------------------------
    position = inverse_views.position
    liquidation_price = inverse_views.liquidation_price
    account = inverse_views.account
    order = inverse_views.order
    open_orders = inverse_views.open_orders
    open_triggers = inverse_views.open_triggers
    l2 = inverse_views.l2

    def depth_coin(self, symbol: str, pct: float = 1.0) -> Decimal:
        """Resting value in the coin within ±pct % of mid, both sides."""
        return self.coin_of(self.core.depth_usd(symbol, pct))

    def index_of(self, symbol: str) -> int:
        return self.core.index_of(symbol)

    def instrument(self, symbol: str) -> InverseContract:
        return self.contracts[self.core.index_of(symbol)]

    def halted(self, s: int) -> bool:
        return self.core.halted(s)

    def open_accounts(self, deposits: Any, *, leverage: int = DEFAULT_LEVERAGE) -> range:
        """Open many accounts at once; ``deposits`` an int64 array of money units of 1e-12
        coin (the core's money units: the same)."""
        return self.core.open_accounts(deposits, leverage=leverage)

    def equity_units(self, account: int) -> int:
        """Equity in money units of 1e-12 coin."""
        return self.core.equity_units(account)

    def insurance_fund_units(self, symbol: str) -> int:
        return self.core.insurance_fund_units(symbol)

    def bad_debt_units(self) -> int:
        return self.core.bad_debt_units()

    def depth_units(self, s: int, pct_ppm: int = 10_000) -> int:
        """Resting value (money units of 1e-12 coin, both sides) within ±pct of mid."""
        return self.core.depth_units(s, pct_ppm)

