"""Optional market rules: trading halts and the ADL circuit breaker.

A **trading halt** stops a contract whose mark falls ``halt_drop_pct`` below its high of the last
``halt_window_minutes``: no orders, matching, liquidations or fund work-out until it reopens
``halt_minutes`` later (orders can still be cancelled). The **ADL breaker** lets at most
``adl_breaker_usd_per_min`` of notional per contract per minute be auto-deleveraged; the insurance
fund keeps the rest, even into deficit (bad debt).
"""

from __future__ import annotations

from ..errors import InvalidInput, TradingHalted
from ..events import News
from ..margin import MM_BASES
from ..units import usd_to_money
from .journal import Journal


class MarketRules:
    """The halts and the ADL breaker of one exchange (all off until ``configure``)."""

    __slots__ = ("symbols", "journal", "adl_breaker", "adl_minute", "adl_used", "halt_drop_ppm",
                 "halt_window", "halt_seconds", "halted_until", "halt_highs", "halts",
                 "adl_last", "stop_trigger", "adl_lights", "slice_ppm", "slice_min",
                 "slice_cooldown", "backstop_ppm", "cooldown_until", "adl_at_mark",
                 "fillable_smmr_ppm", "liquidation_fee_cap_ppm", "tier_step_down", "clearance_fee", "step_to_lowest",
                 "socialize", "mm_basis")

    def __init__(self, symbols: list[str], journal: Journal):
        S = len(symbols)
        self.symbols = symbols
        self.journal = journal
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
        self.stop_trigger = "mark"
        """The price stop and take-profit orders watch: "mark" or "last" (``triggers.py``)."""
        self.adl_lights = "count"
        """How the ADL lights bucket the queue: by "count" of positions (Bybit, Binance) or by
        "quantity" of contracts (BitMEX): ``engine.adl.adl_lights_by_quantity``."""
        self.slice_ppm = 0
        """Partial liquidation (``partial.py``): the share of each position a liquidation slice
        sells into the book (0 = off: every liquidation takes the whole pool)."""
        self.slice_min = 0
        """Money units of notional below which a pool is liquidated whole."""
        self.slice_cooldown = 30
        """Seconds between two slices of one pool."""
        self.backstop_ppm = 666_667
        """A pool whose equity is below this share of its maintenance is liquidated whole."""
        self.cooldown_until: dict[tuple[int, int], int] = {}
        """(account, isolated symbol or −1) → the time its next slice may come."""
        self.fillable_smmr_ppm = 0
        """dYdX's fillable price (``waterfall._fillable``): a liquidation's book order may fill
        down to ``mark × (1 − side × ABR × SMMR × MMR)``, past the bankruptcy price (the funds pay
        the gap); SMMR in ppm, 0 = off (the order is limited at the bankruptcy price)."""
        self.liquidation_fee_cap_ppm = 0
        """With the fillable price: of a fill better than bankruptcy, at most this share of its
        notional goes to the fund (dYdX's liquidation penalty); the rest stays with the trader."""
        self.tier_step_down = False
        """Binance's and Bybit's risk-tier step-down (``partial.step_down``): before the whole
        waterfall, a fill-or-kill order brings the largest position down to the next lower
        maintenance bracket."""
        self.step_to_lowest = False
        """With ``tier_step_down``: step the position down to the lowest bracket in one order (OKX's
        older swap rules), not to the next lower one (Binance, Bybit)."""
        self.clearance_fee = False
        """Binance's insurance clearance fee (``partial.py``): a partial liquidation (a step-down, a
        slice) pays the contract's ``liquidation_fee_ppm`` of the notional it sells to the fund."""
        self.mm_basis = "mark"
        """What maintenance margin is taken on: the value at the mark (Binance), the entry value
        (BitMEX) or the entry value of isolated positions (Bybit) (``margin.MM_BASES``);
        ``MarginPools.mm_basis`` follows it."""
        self.socialize = False
        """Tier 3 socializes instead of closing (Drift, ``waterfall._socialize``): the fund takes
        every liquidation the book cannot, and what its position loses beyond its budget is paid
        by every other open position in the contract, pro rata by size; nobody is deleveraged."""
        self.adl_at_mark = False
        """Tier 3 closes at the mark (OKX; Hyperliquid's previous mark) instead of the
        liquidated position's bankruptcy price: the winners lose nothing against the mark and
        the bankrupt pool's deficit goes to the funds, or stays as bad debt."""
        self.adl_last: tuple[int, ...] = ()
        """Accounts ADL reaches last, after every other trader and the funds (a counterfactual:
        the player exempt from ADL unless nobody else can take the position)."""

    def exempt_from_adl(self, accounts: tuple[int, ...]) -> None:
        """Put ``accounts`` last in every ADL queue (``adl_last``)."""
        if not all(type(a) is int and a >= 0 for a in accounts):
            raise InvalidInput(f"ADL exemptions must be account ids, got {accounts!r}")
        self.adl_last = tuple(sorted(set(accounts)))

    @property
    def active(self) -> bool:
        return bool(self.adl_breaker or self.halt_drop_ppm or self.slice_ppm)

    def configure(self, *, adl_breaker_usd_per_min: object = 0, halt_drop_pct: float = 0,
                  halt_window_minutes: int = 5, halt_minutes: int = 5,
                  stop_trigger: str = "mark", adl_lights: str = "count",
                  partial_slice_pct: float = 0, partial_min_usd: object = 100_000,
                  partial_cooldown_seconds: int = 30, backstop_pct: float = 66.6667,
                  adl_price: str = "bankruptcy", liquidation_limit: str = "bankruptcy",
                  fillable_spread_x_mmr: float = 1.5, liquidation_fee_pct: float = 1.5,
                  tier_step_down: bool = False, tier3: str = "adl",
                  maintenance_basis: str = "mark", clearance_fee: str = "none",
                  tier_step_to: str = "next") -> None:
        if stop_trigger not in ("mark", "last"):
            raise InvalidInput(f"stop_trigger must be 'mark' or 'last', got {stop_trigger!r}")
        if liquidation_limit not in ("bankruptcy", "fillable"):
            raise InvalidInput(f"liquidation_limit must be 'bankruptcy' or 'fillable', got "
                               f"{liquidation_limit!r}")
        for name, value, top in (("fillable_spread_x_mmr", fillable_spread_x_mmr, 100),
                                 ("liquidation_fee_pct", liquidation_fee_pct, 100)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 <= value <= top:
                raise InvalidInput(f"{name} must be a number from 0 to {top}, got {value!r}")
        if adl_price not in ("bankruptcy", "mark"):
            raise InvalidInput(f"adl_price must be 'bankruptcy' or 'mark', got {adl_price!r}")
        if maintenance_basis not in MM_BASES:
            raise InvalidInput(f"maintenance_basis must be one of {', '.join(MM_BASES)}, got "
                               f"{maintenance_basis!r}")
        if tier_step_to not in ("next", "lowest"):
            raise InvalidInput(f"tier_step_to must be 'next' or 'lowest', got {tier_step_to!r}")
        if clearance_fee not in ("none", "instrument"):
            raise InvalidInput(f"clearance_fee must be 'none' or 'instrument', got "
                               f"{clearance_fee!r}")
        if tier3 not in ("adl", "socialize"):
            raise InvalidInput(f"tier3 must be 'adl' or 'socialize', got {tier3!r}")
        if adl_lights not in ("count", "quantity"):
            raise InvalidInput(f"adl_lights must be 'count' or 'quantity', got {adl_lights!r}")
        for name, value, top in (("partial_slice_pct", partial_slice_pct, 100),
                                 ("backstop_pct", backstop_pct, 100)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 <= value <= top:
                raise InvalidInput(f"{name} must be a number from 0 to {top}, got {value!r}")
        if type(partial_cooldown_seconds) is not int or not 0 <= partial_cooldown_seconds <= 3600:
            raise InvalidInput(f"partial_cooldown_seconds must be 0..3600, got "
                               f"{partial_cooldown_seconds!r}")
        slice_min = usd_to_money(partial_min_usd, "partial_min_usd", allow_zero=True)
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
        self.stop_trigger = stop_trigger
        self.adl_lights = adl_lights
        self.slice_ppm = round(partial_slice_pct * 10_000)
        self.slice_min = slice_min
        self.slice_cooldown = partial_cooldown_seconds
        self.backstop_ppm = round(backstop_pct * 10_000)
        self.adl_at_mark = adl_price == "mark"
        if type(tier_step_down) is not bool:
            raise InvalidInput(f"tier_step_down must be true or false, got {tier_step_down!r}")
        self.tier_step_down = tier_step_down
        self.clearance_fee = clearance_fee == "instrument"
        self.step_to_lowest = tier_step_to == "lowest"
        self.socialize = tier3 == "socialize"
        self.mm_basis = maintenance_basis
        fillable = liquidation_limit == "fillable"
        self.fillable_smmr_ppm = round(fillable_spread_x_mmr * 1_000_000) if fillable else 0
        self.liquidation_fee_cap_ppm = round(liquidation_fee_pct * 10_000) if fillable else 0

    # --- halts -----------------------------------------------------------------------------------
    def halted(self, s: int) -> bool:
        return self.halted_until[s] > self.journal.t

    def check_halted(self, s: int) -> None:
        """``TradingHalted`` while contract s is halted."""
        t = self.journal.t
        if self.halted_until[s] > t:
            left = self.halted_until[s] - t
            raise TradingHalted(f"{self.symbols[s]} trading is halted for another {left} s "
                                f"(a fall of {self.halt_drop_ppm / 10_000:g}% within "
                                f"{self.halt_window // 60} min); orders can be cancelled")

    def update_halts(self, marks: list[int | None]) -> None:
        """Start and end trading halts from the marks (each settle)."""
        if not self.halt_drop_ppm:
            return
        t = self.journal.t
        for s, mark in enumerate(marks):
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
                self.journal.emit(News(t, f"{self.symbols[s]} trading halted for "
                                          f"{self.halt_seconds // 60} min: the mark fell "
                                          f"{(1 - mark / high) * 100:.1f}% in "
                                          f"{self.halt_window // 60} min"))

    # --- the ADL breaker -------------------------------------------------------------------------
    def adl_allowance(self, s: int, price: int, unit: int) -> int | None:
        """Lots of s the breaker still lets through this minute at ``price`` (None: no breaker)."""
        if not self.adl_breaker:
            return None
        minute = self.journal.t // 60
        if self.adl_minute[s] != minute:
            self.adl_minute[s], self.adl_used[s] = minute, 0
        return max(0, self.adl_breaker - self.adl_used[s]) // max(price * unit, 1)

    def note_adl(self, s: int, lots: int, price: int, unit: int) -> None:
        if self.adl_breaker:
            self.adl_used[s] += abs(lots) * price * unit

    def digest(self) -> tuple:
        """The rules' state for the exchange checksum."""
        base = (self.adl_minute, self.adl_used, self.halted_until, self.halt_highs, self.halts)
        if not self.slice_ppm:
            return base
        return (*base, sorted(self.cooldown_until.items()))
