"""Perpetual contracts: grid, margin brackets, fees, and the shipped presets."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from .errors import InvalidInput, LeverageError, UnknownSymbol
from .units import MONEY_PER_USD, ceil_div

PPM = 1_000_000
"""Rates (MMR, fees) are integer parts per million: 0.4% is 4_000 ppm."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """One maintenance-margin bracket, Binance-style.

    Applies to a position whose notional is at most ``notional_cap`` (money units).
    ``MM = notional × mmr_ppm / 1e6 − maintenance_amount``, where ``maintenance_amount`` makes MM
    continuous across bracket edges. Leverage above ``max_leverage`` is refused.
    """

    notional_cap: int
    mmr_ppm: int
    max_leverage: int
    maintenance_amount: int


def _stepped(rows: list[tuple[float, float, int]]) -> tuple[Bracket, ...]:
    """Brackets from (cap USD, MMR %, max leverage) rows taken as steps: the whole position at its
    row's rate, no maintenance amount (BitMEX's risk limits)."""
    return tuple(Bracket(round(cap * MONEY_PER_USD), round(mmr * 10_000), lev, 0)
                 for cap, mmr, lev in rows)


def _brackets(rows: list[tuple[float, float, int]]) -> tuple[Bracket, ...]:
    """Brackets from (cap USD, MMR %, max leverage) rows, with continuous maintenance amounts."""
    out: list[Bracket] = []
    prev_cap, prev_mmr, amount = 0, 0, 0
    for cap_usd, mmr_pct, max_lev in rows:
        mmr_ppm = round(mmr_pct * 10_000)
        # continuity at prev_cap: prev_cap*prev_mmr - prev_amount == prev_cap*mmr - amount
        amount = amount + prev_cap * (mmr_ppm - prev_mmr) // PPM
        cap = round(cap_usd * MONEY_PER_USD)
        out.append(Bracket(cap, mmr_ppm, max_lev, amount))
        prev_cap, prev_mmr = cap, mmr_ppm
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A linear perpetual contract settled in USD.

    Prices are integer ticks of ``tick_size`` USD, sizes integer lots of ``lot_size`` coins, and one
    tick × one lot is ``unit_per_tick_lot`` money units exactly (the grid is refused otherwise).
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    brackets: tuple[Bracket, ...]
    maker_fee_ppm: int = 200
    taker_fee_ppm: int = 500
    liquidation_fee_ppm: int = 5_000
    band_up_ppm: int = 1_000_000
    """Price band: a limit price may be at most this far above the mark (ppm; 100% = 2× mark)."""
    band_down_ppm: int = 900_000
    """Price band: a limit price may be at most this far below the mark (ppm; 90% = 0.1× mark).
    Wide on purpose: the crowd's stink bids sit far below the market and its market orders are
    IOCs limited 50% through the mark; what the band stops is a price no market could mean (a
    sell at 1e15, a buy at 2⁶³ ticks) and the order margin such a price would reserve."""
    unit_per_tick_lot: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.symbol or not self.symbol.isalnum() or not self.symbol.isupper():
            raise InvalidInput(f"symbol must be upper-case letters/digits, got {self.symbol!r}")
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise InvalidInput(f"{self.symbol}: {name} must be a positive Decimal, got {value!r}")
        per = self.tick_size * self.lot_size * MONEY_PER_USD
        if per != per.to_integral_value():
            raise InvalidInput(
                f"{self.symbol}: tick_size × lot_size = {self.tick_size * self.lot_size} USD is not a "
                f"whole number of money units (1e-6 USD)")
        object.__setattr__(self, "unit_per_tick_lot", int(per))
        if not self.brackets:
            raise InvalidInput(f"{self.symbol}: at least one margin bracket is needed")
        if not (0 < self.band_up_ppm <= 10 * PPM and 0 < self.band_down_ppm < PPM):
            raise InvalidInput(f"{self.symbol}: price band must be 0 < up ≤ 1000% and "
                               f"0 < down < 100%, got up {self.band_up_ppm} ppm, down "
                               f"{self.band_down_ppm} ppm")
        caps = [b.notional_cap for b in self.brackets]
        if caps != sorted(caps) or len(set(caps)) != len(caps):
            raise InvalidInput(f"{self.symbol}: bracket caps must increase, got {caps}")

    # --- margin -------------------------------------------------------------------------------
    def bracket(self, notional: int) -> Bracket:
        """The bracket for a notional (money units); the last bracket beyond the last cap."""
        for b in self.brackets:
            if notional <= b.notional_cap:
                return b
        return self.brackets[-1]

    def maintenance_margin(self, notional: int) -> int:
        """Maintenance margin in money units for |notional|, rounded up."""
        b = self.bracket(notional)
        return max(0, ceil_div(notional * b.mmr_ppm, PPM) - b.maintenance_amount)

    @property
    def max_leverage(self) -> int:
        return self.brackets[0].max_leverage

    def check_leverage(self, leverage: int, notional: int) -> None:
        """``LeverageError`` unless 1 ≤ leverage ≤ the bracket maximum for this notional."""
        cap = self.bracket(notional).max_leverage
        if not 1 <= leverage <= cap:
            raise LeverageError(
                f"{self.symbol}: leverage {leverage}× is not allowed for a notional of "
                f"{notional / MONEY_PER_USD:,.0f} USD; allowed 1× to {cap}×")

    def band(self, mark: int) -> tuple[int, int]:
        """The lowest and highest limit price (ticks) the band allows around ``mark``."""
        return (max(1, ceil_div(mark * (PPM - self.band_down_ppm), PPM)),
                mark * (PPM + self.band_up_ppm) // PPM)

    def with_tiers(self, venue: str, preset: str, price: float) -> Instrument:
        """This contract with ``venue``'s maintenance tiers for the ``preset`` symbol (itself when
        the venue publishes none for it); ``price`` (USD) converts tiers a venue gives in the coin
        (BitMEX's XBT risk limits) into USD caps. ``VENUE_TIERS`` says where each comes from."""
        if venue not in VENUE_TIERS:
            raise InvalidInput(f"no maintenance tiers for venue {venue!r}; venues with tiers: "
                               f"{', '.join(VENUE_TIERS)}")
        rows = VENUE_TIERS[venue].get(preset)
        if rows is None:
            return self
        in_coin, stepped, table = rows
        if in_coin and (isinstance(price, bool) or not isinstance(price, (int, float))
                        or not 0 < price < float("inf")):
            raise InvalidInput(f"{self.symbol}: {venue}'s tiers are in the coin and need the "
                               f"price to turn them into USD: a number > 0, got {price!r}")
        scale = price if in_coin else 1.0
        usd_rows = [(cap * scale, mmr, lev) for cap, mmr, lev in table]
        return replace(self, brackets=(_stepped if stepped else _brackets)(usd_rows))

    @staticmethod
    def preset(symbol: str) -> Instrument:
        """The shipped contract for BTC, ETH, DOGE or ALT (a thin altcoin)."""
        try:
            return _PRESETS[symbol]()
        except KeyError:
            raise UnknownSymbol(
                f"no preset instrument {symbol!r}; presets: {', '.join(_PRESETS)}") from None


def _btc() -> Instrument:
    return Instrument("BTC", Decimal("0.1"), Decimal("0.001"), _brackets([
        (50_000, 0.4, 125), (600_000, 0.5, 100), (3_000_000, 0.65, 75), (12_000_000, 1.0, 50),
        (70_000_000, 2.0, 25), (100_000_000, 2.5, 20), (230_000_000, 5.0, 10),
        (480_000_000, 10.0, 5), (600_000_000, 12.5, 4), (800_000_000, 15.0, 3),
        (1_200_000_000, 25.0, 2), (1_800_000_000, 50.0, 1)]))


def _eth() -> Instrument:
    return Instrument("ETH", Decimal("0.01"), Decimal("0.001"), _brackets([
        (50_000, 0.5, 100), (600_000, 0.65, 75), (3_000_000, 1.0, 50), (12_000_000, 2.0, 25),
        (50_000_000, 2.5, 20), (65_000_000, 5.0, 10), (150_000_000, 10.0, 5),
        (320_000_000, 12.5, 4), (400_000_000, 15.0, 3), (530_000_000, 25.0, 2),
        (800_000_000, 50.0, 1)]))


def _doge() -> Instrument:
    return Instrument("DOGE", Decimal("0.00001"), Decimal("1"), _brackets([
        (10_000, 0.5, 75), (50_000, 1.0, 50), (750_000, 2.0, 25), (2_000_000, 5.0, 10),
        (4_000_000, 10.0, 5), (10_000_000, 12.5, 4), (20_000_000, 15.0, 3),
        (30_000_000, 25.0, 2), (50_000_000, 50.0, 1)]))


def _alt() -> Instrument:
    return Instrument("ALT", Decimal("0.0001"), Decimal("0.1"), _brackets([
        (5_000, 1.0, 50), (25_000, 2.5, 20), (100_000, 5.0, 10), (250_000, 10.0, 5),
        (1_000_000, 12.5, 4), (3_000_000, 25.0, 2), (5_000_000, 50.0, 1)]),
        maker_fee_ppm=200, taker_fee_ppm=500, liquidation_fee_ppm=10_000)


_PRESETS = {"BTC": _btc, "ETH": _eth, "DOGE": _doge, "ALT": _alt}
PRESET_SYMBOLS = tuple(_PRESETS)


_TOP = 100_000_000_000
"""A last tier's cap: beyond it the last tier applies anyway (``Instrument.bracket``)."""


def _bitmex_steps() -> tuple[tuple[float, float, int], ...]:
    """BitMEX's XBTUSD risk-limit steps in XBT: 200 XBT base, 150 XBT a step, maintenance 0.50%
    and initial 1.00% at the base, both +0.50% a step (to a maintenance of 10%); the maximum
    leverage is 1 / initial margin, rounded down."""
    return tuple((200 + 150 * k if k < 19 else 1_000_000, 0.5 + 0.5 * k,
                  int(100 // (1 + 0.5 * k))) for k in range(20))


VENUE_TIERS: dict[str, dict[str, tuple[bool, bool, tuple[tuple[float, float, int], ...]]]] = {
    "hyperliquid": {
        # "Margin tiers" (hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers): BTC
        # 0–150M 40x, above 20x; ETH 0–100M 25x, above 15x; DOGE 0–20M 10x, above 5x; smaller
        # coins (OP, ARB, ... 0–3M 10x, above 5x) for ALT; the maintenance rate is half the
        # initial margin at the tier's maximum leverage ("at 20x max leverage,
        # maintenance_margin_rate = 2.5%"), the deductions continuous (rows: cap USD, %, max x)
        "BTC": (False, False, ((150_000_000, 1.25, 40), (_TOP, 2.5, 20))),
        "ETH": (False, False, ((100_000_000, 2.0, 25), (_TOP, 100 / 30, 15))),
        "DOGE": (False, False, ((20_000_000, 5.0, 10), (_TOP, 10.0, 5))),
        "ALT": (False, False, ((3_000_000, 5.0, 10), (_TOP, 10.0, 5))),
    },
    "bitmex": {
        # "Risk Limits Examples" (www.bitmex.com/app/riskLimitsExamples), XBTUSD; in XBT, whole
        # position at its step's rate. BitMEX publishes no table for the other presets here.
        "BTC": (True, True, _bitmex_steps()),
    },
}
"""Each venue's published maintenance tiers per preset symbol: (caps in the coin, stepped, rows of
(cap, maintenance %, maximum leverage)). A venue not listed, or a symbol a venue does not list,
keeps the preset's (Binance's) tiers."""
