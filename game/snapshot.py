"""What the floor draws: frozen display snapshots of a running crash, in human units.

``FloorModel.snapshot`` builds one ``FloorSnapshot`` a tick — plain numbers, no engine objects
beyond the engine's own read-only views — and every widget renders from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.agents.player_maker import DeskView
from engine.exchange import AccountView, OrderView, PositionView

from .story import TapeEntry


@dataclass(frozen=True, slots=True)
class ClockInfo:
    clock: int
    start: int
    end: int
    finished: bool
    next_news: tuple[int, str] | None
    replay_ended: bool = False
    """A replay being watched has reached the end of its recording: the clock stops here."""


@dataclass(frozen=True, slots=True)
class SymbolQuote:
    symbol: str
    tick: Decimal
    lot: Decimal
    decimals: int
    qty_decimals: int
    open: float
    last: float | None
    mark: float | None
    index: float | None
    best_bid: float | None
    best_ask: float | None

    @property
    def change(self) -> float | None:
        now = self.last or self.mark
        return None if now is None or not self.open else now / self.open - 1

    @property
    def gap(self) -> float | None:
        """Local last trade against the outside index."""
        if self.last is None or not self.index:
            return None
        return self.last / self.index - 1


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: float
    qty: float
    usd: float
    mine: str = ""     # "" or the player's order marker, e.g. "◆" (selected) or "●"


@dataclass(frozen=True, slots=True)
class BookInfo:
    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    scale_usd: float           # a full size bar: a calm market maker's price level, roughly


@dataclass(frozen=True, slots=True)
class DepthInfo:
    symbol: str
    start_usd: float
    now_usd: float
    series: tuple[float, ...]        # per minute, USD


@dataclass(frozen=True, slots=True)
class FundInfo:
    name: str
    start_usd: float
    now_usd: float
    floor_usd: float
    exhausted_at: int | None


@dataclass(frozen=True, slots=True)
class FirmInfo:
    name: str
    state: str
    depth_usd: float
    pulled_at: int | None
    calm_usd: float = 0.0          # the firm's share of the level's calm quoted depth
    mine: bool = False


@dataclass(frozen=True, slots=True)
class FloorSnapshot:
    level_title: str
    role: str
    policy: str
    clock: ClockInfo
    selected: str
    quotes: tuple[SymbolQuote, ...]
    history: tuple[tuple[int, float | None, float | None], ...]   # (clock, last, index)
    book: BookInfo
    tracked_depth: DepthInfo
    selected_depth: DepthInfo
    positions: tuple[PositionView, ...]
    account: AccountView | None
    equity_start: float
    orders: tuple[OrderView, ...]
    selected_order: int | None
    funds: tuple[FundInfo, ...]
    firms: tuple[FirmInfo, ...]
    tape: tuple[TapeEntry, ...]
    news: tuple[tuple[int, str], ...]
    desk: DeskView | None
    """The player's market-making desk as the engine sees it now (a maker level)."""
    triggers: tuple = ()
    """The player's stop and take-profit orders waiting for their trigger (``TriggerView``)."""
    spot_usd: float | None = None
    """The player's spot wallet (money outside the futures account), or None without one."""
    tape_filter: str = "all"
    """Which forced closes the tape shows (``TAPE_FILTERS``)."""
    crowd_long_share: float | None = None
    """The share of the crowd's open positions that are long, now: what the market makers
    could see (their information edge), shown on the makers panel."""
    rules: tuple[str, ...] = ()
    """The level fields this session changes (``--variant``, ``--set``, a picker's choice)."""
    equity_history: tuple[tuple[int, float], ...] = ()
    """(clock, the player's futures equity USD) at the start, every sim-minute, and now."""
    forced: tuple[tuple[int, str], ...] = ()
    """(clock, what) of every ADL and liquidation that hit the player so far."""

    def quote(self, symbol: str) -> SymbolQuote:
        return next(q for q in self.quotes if q.symbol == symbol)

    def position(self, symbol: str) -> PositionView | None:
        return next((p for p in self.positions if p.symbol == symbol), None)


