"""The player's order ticket and quote settings: what a key press means, as an engine command.

UI input state only (the size preset chosen, the limit offset, which side of the quotes is being
edited); everything the game is about lives in the engine. Each builder returns a command, or a
``str`` saying why there is none (shown as a notification). Pure Python: no textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from engine.book import Side
from engine.commands import AmendOrder, Command, PlaceOrder, SetQuotes

from . import fmt

SIZE_PRESETS_USD = (10_000, 50_000, 250_000, 1_000_000, 5_000_000)
"""Order sizes of the keys 1–5, as USD notional at the mark."""
LIMIT_OFFSETS_BPS = (0, 10, 25, 50, 100, 250, 500, 1_000)
"""How far behind the touch a limit order rests: 0 joins the best bid (buy) or ask (sell)."""
MARGIN_STEPS_USD = (10_000, 50_000, 250_000)
REDUCE_FRACTIONS = ("0.25", "0.5", "1")
QUOTE_SPREADS_BPS = (1, 2, 3, 5, 8, 12, 20, 35, 50, 100, 200, 500)
QUOTE_SIZES_USD = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
QUOTE_SIDES = ("both", "bid", "ask")


def _snap(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``value`` on the grid of ``step``, rounded down (ROUND_FLOOR) or up (ROUND_CEILING)."""
    return ((value / step).to_integral_value(rounding=rounding) * step).quantize(step)


@dataclass
class Ticket:
    """The hedger's order ticket: a size preset and a limit offset."""

    size_index: int = 1
    offset_index: int = 0

    @property
    def size_usd(self) -> int:
        return SIZE_PRESETS_USD[self.size_index]

    @property
    def offset_bps(self) -> int:
        return LIMIT_OFFSETS_BPS[self.offset_index]

    def choose_size(self, index: int) -> None:
        self.size_index = max(0, min(len(SIZE_PRESETS_USD) - 1, index))

    def shift_offset(self, by: int) -> None:
        self.offset_index = max(0, min(len(LIMIT_OFFSETS_BPS) - 1, self.offset_index + by))

    def describe(self) -> str:
        return f"size {fmt.usd_short(self.size_usd)} · limit {self.offset_bps} bps off touch"

    # --- prices and sizes ----------------------------------------------------------------------
    def quantity(self, quote) -> Decimal | str:
        """The preset's USD at the mark, in coins on the lot grid."""
        ref = quote.mark or quote.last or quote.index
        if not ref:
            return f"{quote.symbol} has no price yet"
        lots = _snap(Decimal(self.size_usd) / Decimal(str(ref)), quote.lot, ROUND_FLOOR)
        if lots <= 0:
            return f"{fmt.usd_short(self.size_usd)} is less than one lot of {quote.symbol}"
        return lots

    def limit_price(self, quote, side: Side | str) -> Decimal | str:
        """Join the touch on ``side`` (or the mark when that side is empty), ``offset_bps`` back."""
        buy = Side.parse(side) is Side.BUY
        touch = quote.best_bid if buy else quote.best_ask
        ref = touch if touch is not None else quote.mark
        if ref is None:
            return f"{quote.symbol} has no price to rest a limit order at"
        factor = Decimal(1) - Decimal(self.offset_bps) / 10_000 * (1 if buy else -1)
        rounding = ROUND_FLOOR if buy else ROUND_CEILING
        price = _snap(Decimal(str(ref)) * factor, quote.tick, rounding)
        return price if price > 0 else f"a {self.offset_bps} bps offset leaves no price"

    # --- commands ------------------------------------------------------------------------------
    # The size travels as the preset's whole dollars: the engine sizes it onto the lot grid at
    # the mark (market) or the limit price, exactly; ``quantity`` is the screen's preview of it.
    def market(self, account: int, quote, side: Side | str) -> Command | str:
        qty = self.quantity(quote)
        if isinstance(qty, str):
            return qty
        return PlaceOrder(account, quote.symbol, Side.parse(side), tif="ioc", usd=self.size_usd)

    def limit(self, account: int, quote, side: Side | str) -> Command | str:
        qty, price = self.quantity(quote), self.limit_price(quote, side)
        for problem in (qty, price):
            if isinstance(problem, str):
                return problem
        return PlaceOrder(account, quote.symbol, Side.parse(side), price=str(price), tif="gtc",
                          usd=self.size_usd)

    def amend(self, account: int, quote, order) -> Command | str:
        """Move a resting order to the ticket's current price and size for its side."""
        qty, price = self.quantity(quote), self.limit_price(quote, order.side)
        for problem in (qty, price):
            if isinstance(problem, str):
                return problem
        return AmendOrder(account, order.oid, str(price), usd=self.size_usd)


@dataclass
class QuoteTicket:
    """The maker's quote editor: which side ``[``/``]`` and ``,``/``.`` change."""

    side_index: int = 0

    @property
    def side(self) -> str:
        return QUOTE_SIDES[self.side_index]

    def next_side(self) -> str:
        self.side_index = (self.side_index + 1) % len(QUOTE_SIDES)
        return self.side

    def _sides(self) -> tuple[str, ...]:
        return ("bid", "ask") if self.side == "both" else (self.side,)

    def spread(self, account: int, settings, by: int) -> SetQuotes:
        changes = {f"{s}_spread_bps": float(_step(QUOTE_SPREADS_BPS,
                                                  getattr(settings, f"{s}_spread_bps"), by))
                   for s in self._sides()}
        return SetQuotes(account, **changes)

    def size(self, account: int, settings, by: int) -> SetQuotes:
        changes = {f"{s}_size_usd": float(_step(QUOTE_SIZES_USD,
                                                getattr(settings, f"{s}_size_usd"), by))
                   for s in self._sides()}
        return SetQuotes(account, **changes)


def _step(ladder: tuple[float, ...], value: float, by: int) -> float:
    """The next rung above (by > 0) or below (by < 0) ``value``; the end rung stays."""
    if by > 0:
        return next((x for x in ladder if x > value), ladder[-1])
    return next((x for x in reversed(ladder) if x < value), ladder[0])
