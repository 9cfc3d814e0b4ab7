"""What a run did, as a typed record: ``CrashRun.report()`` returns a ``RunReport``;
``RunReport.to_json()`` is the object ``crashfloor run --json`` prints (``CrashRun.summary()``).

Every section is a frozen dataclass whose fields are the JSON keys (a key that is a Python
keyword gets a ``_``: a halt's ``from`` is ``from_``). Money is USD (floats, exact to the cent at
these sizes), times are "HH:MM" (HKT), shares are fractions and ``*_pct`` fields per cent.
"""

from __future__ import annotations

import dataclasses
import keyword
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SymbolReport:
    open: float
    low: float
    low_at: str
    close: float
    max_drawdown_pct: float
    adl_fills: int


@dataclass(frozen=True, slots=True)
class DepthReport:
    """The tracked symbol's book depth within ±``pct``% of the mark, both sides."""
    symbol: str
    pct: float
    start_usd: float
    min_usd: float
    min_at: str
    series: list[list[Any]]
    """``[["HH:MM", usd], ...]`` a point a minute."""


@dataclass(frozen=True, slots=True)
class LiquidationReport:
    count: int
    notional_usd: float
    accounts: int
    long_share: float | None
    peak_minute: str | None
    per_symbol_usd: dict[str, float]
    per_minute: list[list[Any]]


@dataclass(frozen=True, slots=True)
class FundReport:
    start_usd: float
    min_usd: float
    end_usd: float
    exhausted_at: str | None
    min_equity_usd: float | None = None
    """The fund's lowest equity (cash and its taken-over positions at the mark) at a step."""


@dataclass(frozen=True, slots=True)
class HedgedThenLiquidated:
    """Crowd accounts that held a hedge and lost a leg to ADL (``adl_hit``), and of those the
    ones liquidated afterwards on another leg before the session's end."""
    adl_hit: int
    liquidated_after: int
    share: float | None


@dataclass(frozen=True, slots=True)
class AdlReport:
    count: int
    notional_usd: float
    socialized_usd: float
    """What ADL'd traders gave up against the mark, plus any loss socialized over every open
    position (``tier3 = "socialize"``)."""
    by_group: dict[str, int]
    first_at: str | None
    accounts: int
    hedged_then_liquidated: HedgedThenLiquidated | None = None
    max_second_share: float | None = None
    """The largest share of the run's ADL notional that fell in one second."""
    symbols: dict[str, float] = dataclasses.field(default_factory=dict)
    research: dict | None = None
    """ADL as the research measures it (``engine/adl_research.py``): profit taken, needed budget
    (when a no-ADL pass was made), overshoot, concentration, per wave."""
    """ADL notional (USD) by symbol, for the symbols that saw any."""


@dataclass(frozen=True, slots=True)
class MarketReport:
    """The rest of the market (every venue, ``engine/outside``): what its leveraged crowd had
    liquidated, at the real event's scale, in the session (``liquidated_usd``, peak minute) and
    through the epilogue (``liquidated_total_usd``)."""
    liquidated_usd: float
    peak_minute: str | None
    peak_minute_usd: float
    liquidated_total_usd: float


@dataclass(frozen=True, slots=True)
class OpenInterestReport:
    start_usd: float
    end_usd: float
    change_pct: float | None


@dataclass(frozen=True, slots=True)
class HedgerTimes:
    """The player's section under its first name (``hedger``): kept one format version more."""
    adl_at: str | None
    """When ADL first closed a position of the player's, HH:MM:SS."""
    liquidated_at: str | None
    """When the player was first liquidated, HH:MM:SS."""
    equity_start: float
    equity_end: float


@dataclass(frozen=True, slots=True)
class MakerReport:
    """The player's market-making desk (a maker level)."""
    uptime_pct: float
    spread_earned_usd: float
    volume_usd: float
    rebates_usd: float
    penalties_usd: float
    obligated: bool
    compliant_pct: float | None
    minutes_missed: int
    inventory_pnl_usd: float
    obligations_met: bool | None


@dataclass(frozen=True, slots=True)
class PlayerReport:
    role: str
    account: int
    equity_start: float
    equity_end: float
    pnl_usd: float
    pnl_pct: float | None
    max_drawdown_pct: float
    survived: bool
    liquidations: int
    adl_hits: int
    adl_notional_usd: float
    maker: MakerReport | None
    adl_at: str | None = None
    liquidated_at: str | None = None
    spot_start_usd: float = 0.0
    """The spot wallet at the start (``player.spot_usd``): money outside the futures account."""
    spot_end_usd: float = 0.0
    """The spot wallet at the end; ``pnl_usd`` counts both wallets, so a transfer is no profit."""


@dataclass(frozen=True, slots=True)
class GroupReport:
    accounts: int
    pnl_usd: float


@dataclass(frozen=True, slots=True)
class HaltReport:
    symbol: str
    from_: str
    to: str


@dataclass(frozen=True, slots=True)
class RunReport:
    """One run, end to end: the level and seed, what the market did, and how the player did."""
    level: str
    seed: int
    checksum: str
    sim_start: str
    sim_end: str
    symbols: dict[str, SymbolReport]
    tracked_depth: DepthReport
    liquidations: LiquidationReport
    insurance_fund: dict[str, FundReport]
    adl: AdlReport
    open_interest: OpenInterestReport
    long_share_start: float
    hedger: HedgerTimes | None
    player: PlayerReport | None
    groups: dict[str, GroupReport]
    bad_debt_usd: float
    halts: list[HaltReport]
    market_makers: list[list[Any]]
    """``[["HH:MM", firm, stance], ...]`` every change of a firm's stance."""
    conservation_error: int
    """Money units created or destroyed (0: every unit is accounted for)."""
    market: MarketReport | None = None
    """The outside market's figures (an emergent index), or None (a scripted one)."""
    finished: bool = False
    """The session reached its end (not a save or a run stopped early)."""
    rules: list[str] = dataclasses.field(default_factory=list)
    """The level fields this run changed (``--variant``, ``--set``), the player's role aside."""
    objectives: dict[str, Any] = dataclasses.field(default_factory=dict)
    """How the player scored against the level's objectives (``engine.objectives.score``)."""
    modified_reason: str | None = None
    """Why the run is marked modified (a save from another engine build, ...), or None."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``crashfloor run --json`` (``modified`` and ``modified_reason``
        appear only for a modified run)."""
        out = _plain(self)
        reason = out.pop("modified_reason")
        if reason:
            out["modified"] = True
            out["modified_reason"] = reason
        return out


def _key(name: str) -> str:
    return name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_key(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
