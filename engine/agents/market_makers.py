"""Market-making firms: quoting ladders around a fair value, widening, thinning, pulling, returning.

Every firm quotes ``levels`` post-only orders per side on every symbol, around a fair value (halfway
between the index and the local mark, skewed against its inventory, Avellaneda–Stoikov style): level ``i`` sits at
``half_spread × spread_mult + i × level_step`` basis points from fair, and the calm-market sizes add
up, over all firms and both sides, to the level's ``depth_usd`` within ±1% of mid.

A firm's stance is a *depth factor* (1 = full size, 0 = pulled) and a *spread multiple*:

* **scripted**: spreads widen at ``widen_at``; depth thins linearly from ``thin_from`` to ``pull_at``,
  where the firm pulls everything; it returns at ``return_at``. Each firm's times are shifted by up
  to ``stagger_seconds``.
* **emergent**: from a *risk signal* the firms all see: the mean drawdown of the indices from their
  60-minute highs (10% counts 1.0) plus the liquidation flow of the last minute relative to the
  calm depth. Depth thins as risk passes ``risk_thin`` and the firm pulls at ``risk_pull`` (each
  firm's thresholds jittered a little). It comes back once re-entry is attractive: every index at
  least ``rebound_pct`` off its 30-minute low and the liquidation flow calm for a minute (plus the
  firm's stagger); then it ramps its depth back up over five minutes.

A pulled firm keeps a token presence (``token_presence`` of its normal size) at twice its spread:
the thin "defence line" that is all an abandoned book has left. Spreads widen as depth thins, from
1× at full depth to 2× when pulled.

**Designated market makers** (``obligated_firms``, the first firms) are under quoting
obligations: their depth factor never falls below ``obligation_depth`` and their inside quotes stay
within ``obligation_spread_bps`` of fair value, however high the risk signal goes.

Firms hedge what they buy or sell here on the outside venues, closing half the gap every
``inventory_half_life_s`` (the risk desk's pace, ``engine.agents.stance``); quotes on the side that
would grow the unhedged rest beyond ``inventory_limit_x`` times the firm's calm quoted depth are
dropped, and the skew reads the same unhedged rest. Firms run at 2× leverage: well capitalised, inside every bracket.
"""

from __future__ import annotations

import enum

from dataclasses import dataclass

import numpy as np

from .base import AgentState
from .stance import FirmStance
from ..level.config import MarketMakersConfig
from ..book import BUY, SELL
from ..errors import CrashfloorError
from ..events import MakerStateChange
from ..units import MONEY_PER_USD

FIRM_NAMES = ("Jumpline", "Wintrade", "GSR-9", "Amberline", "Flowtide", "Citrine", "Kairos",
              "Auros-X", "Cumbria", "Tessellate")


class Stance(enum.StrEnum):
    """What a market-making firm is doing (``MarketMakers.stance``, ``MakerStateChange.state``)."""

    NORMAL = "normal"
    """Quoting its full ladder at its calm spread."""
    WIDENED = "widened"
    """Quoting full size at a wider spread (the news made it careful)."""
    THINNING = "thinning"
    """Quoting less size than calm (its risk is past its thinning threshold)."""
    PULLED = "pulled"
    """Quoting nothing: it has withdrawn from the book."""
    RETURNING = "returning"
    """Back after a withdrawal, size ramping up to calm."""


@dataclass(frozen=True, slots=True)
class FirmView:
    """One firm as the screen shows it: its stance and its quotes in one symbol."""

    name: str
    stance: Stance
    depth_usd: float
    """Its resting notional within ±1% of mid, USD."""
    pulled_at: int | None
    """When it last withdrew (seconds since midnight HKT), or None."""
    calm_usd: float
    """Its share of the level's calm quoted depth in the symbol, USD."""


class MarketMakers(AgentState):
    """All the firms as one agent (firm-major arrays)."""

    __slots__ = ("cfg", "F", "S", "names", "accounts", "desk", "level_bps", "level_usd",
                 "inventory_limit", "hedged", "factor", "spread", "stance", "pulled_at", "center",
                 "quoted_factor", "last_quote", "placed", "quotes", "obligated")
    _wiring = ("cfg", "desk")
    _dropped_fields = ("scripted", "delay", "thin_at", "pull_at", "reentry_since", "liq_window",
                       "liq_sum", "highs", "lows", "calm_depth", "risk")
    """Format-2 fields of the firms' old private risk signal (``engine.agents.stance`` has it)."""

    def __init__(self, sim, cfg: MarketMakersConfig, depth_usd: list[float], desk: FirmStance):
        """``desk``: the firms' shared risk desk and stance (``engine.agents.stance``), which
        also sets their depth on the outside venues."""
        ex = sim.exchange
        self.cfg = cfg
        self.F = int(cfg.firms)
        self.S = len(ex.symbols)
        self.names = [FIRM_NAMES[f % len(FIRM_NAMES)] + ("" if f < len(FIRM_NAMES) else f"-{f}")
                      for f in range(self.F)]
        capital = round(cfg.capital_usd * MONEY_PER_USD)
        self.accounts = [ex.open_account(0) for _ in range(self.F)]
        for a in self.accounts:
            if capital:
                ex.deposit(a, capital / MONEY_PER_USD)
            for sym in ex.symbols:
                ex.set_leverage(a, sym, 2)
        self.desk = desk
        self.level_bps = cfg.half_spread_bps + cfg.level_step_bps * np.arange(cfg.levels)
        inside = max(1, int((self.level_bps <= 100).sum()))
        self.level_usd = [d / (max(self.F, 1) * 2 * inside) for d in depth_usd]
        self.inventory_limit = [cfg.inventory_limit_x * d / max(self.F, 1) * MONEY_PER_USD
                                for d in depth_usd]
        self.hedged = np.zeros((self.F, self.S))
        """Lots of each firm's local inventory hedged on the outside venues (an opposite
        position there, which this exchange does not hold): the limits and the skew read the
        unhedged rest."""
        self.factor = np.ones(self.F)
        self.spread = np.ones(self.F)
        self.stance = [Stance.NORMAL] * self.F
        self.pulled_at: list[int | None] = [None] * self.F
        self.center = np.zeros((self.F, self.S), dtype=np.int64)
        self.quoted_factor = np.zeros((self.F, self.S))
        self.last_quote = np.full((self.F, self.S), -10**9, dtype=np.int64)
        self.placed = np.zeros((self.F, self.S), dtype=np.int64)
        self.quotes: list[list[list[int]]] = [[[] for _ in range(self.S)] for _ in range(self.F)]
        """The ids each firm posted per symbol (some may have filled since)."""
        self.obligated = min(self.F, int(cfg.obligated_firms))

    def observe(self, sim, events) -> None:
        """Nothing: the firms' risk reads the liquidations through their desk (the outside
        market's listener). Kept so that a format-2 save, whose listener list names this
        method, restores (``CrashRun._after_restore`` then rewires the listeners)."""

    # --- stance ----------------------------------------------------------------------------------
    def _stance_scripted(self, f: int, clock: int) -> tuple[float, float]:
        c = self.cfg
        now = clock - int(self.desk.delay[f])
        spread = c.widen_factor if now >= c.widen_at else 1.0
        if now >= c.return_at:
            return 1.0, spread
        if now >= c.pull_at:
            return 0.0, spread
        if now >= c.thin_from:
            span = max(1, c.pull_at - c.thin_from)
            return max(0.0, 1.0 - (now - c.thin_from) / span), spread
        return 1.0, spread

    def _stance_shared(self, f: int) -> tuple[float, float]:
        """(depth factor, spread multiple) from the risk desk: spreads widen as risk nears the
        firm's thinning threshold (and again as it thins: ``_quote``)."""
        desk, c = self.desk, self.cfg
        factor = 1.0 if c.withdrawal == "never" else desk.factor(f)
        calm = min(1.0, desk.risk / max(desk.thin_at[f], 1e-9))
        return factor, 1 + (c.widen_factor - 1) * calm

    def _new_state(self, f: int, factor: float, spread: float) -> Stance:
        if factor <= 0.0:
            return Stance.PULLED
        if self.stance[f] in (Stance.PULLED, Stance.RETURNING) and factor < 1.0:
            return Stance.RETURNING
        if factor < 1.0:
            return Stance.THINNING
        return Stance.WIDENED if spread > 1.0 else Stance.NORMAL

    # --- the step ----------------------------------------------------------------------------------
    def act(self, sim) -> None:
        ex = sim.exchange
        states = []
        for f in range(self.F):
            if self.cfg.withdrawal == "scripted":
                factor, spread = self._stance_scripted(f, sim.clock)
            else:
                factor, spread = self._stance_shared(f)
            if f < self.obligated:
                factor = max(factor, self.cfg.obligation_depth)
            states.append(self._new_state(f, factor, spread))
            self.factor[f], self.spread[f] = factor, spread
        due, factors = self._due(sim)
        levels = self.level_bps.tolist()
        for f in range(self.F):
            state = states[f]
            if state != self.stance[f]:
                if state is Stance.PULLED:
                    self.pulled_at[f] = sim.t
                self.stance[f] = state
                ex.journal.emit(MakerStateChange(sim.t, f, self.names[f], state,
                                                 float(self.factor[f])))
            for s, fair, inventory, index in due[f]:
                self._requote(sim, f, s, fair, inventory, index, factors[f], levels)

    def _due(self, sim) -> tuple[list[list[tuple[int, float, float, float]]], list[float]]:
        """Which ladders to re-centre this step, per firm ``[(symbol, fair, inventory, index)]``,
        and each firm's quoted size factor (its depth factor in 5% steps): where
        fair value moved more than ``requote_bps``, the stance's size changed, or a quote filled
        (two seconds after the last re-centre). Fair value is halfway between the outside index
        and the local mark (firms hedge outside, but the local book is where their inventory has
        to go), skewed against the unhedged inventory; the hedge closes its gap here too. All
        firms and symbols at once (the same float operations as one at a time)."""
        ex, c = sim.exchange, self.cfg
        live = [s for s in range(self.S) if not ex.rules.halted(s)]
        due: list[list[tuple[int, float, float, float]]] = [[] for _ in range(self.F)]
        if not live or not self.F:
            return due, []  # quotes rest through a halt; they are re-centred when it ends
        marks = ex.marks
        index = np.array([(marks.index[s] + marks.mark[s]) / 2 for s in live])
        unit = np.array([ex.instruments[s].unit_per_tick_lot for s in live], dtype=np.int64)
        limit = np.array([self.inventory_limit[s] for s in live])
        held = ex.acc.qty[np.ix_(live, self.accounts)].T
        keep = 0.5 ** (sim.dt / c.inventory_half_life_s)
        hedged = held + (self.hedged[:, live] - held) * keep
        self.hedged[:, live] = hedged
        inventory = (held - hedged) * index * unit
        skew = c.skew_bps * 1e-4 * np.clip(inventory / np.maximum(limit, 1), -1.0, 1.0)
        fair = index * (1.0 - skew)
        moved = np.abs(fair - self.center[:, live]) > c.requote_bps * 1e-4 * fair
        factor = np.maximum(np.round(self.factor * 20) / 20, c.token_presence)
        resized = factor[:, None] != self.quoted_factor[:, live]
        changed = (moved | resized).tolist()
        waiting = ((sim.t - self.last_quote[:, live] < 2) | (self.placed[:, live] == 0)).tolist()
        fairs, inventories, indexes = fair.tolist(), inventory.tolist(), index.tolist()
        books = [ex.books[s].records() for s in live]
        for f in range(self.F):
            quotes = self.quotes[f]
            for j, s in enumerate(live):
                if not changed[f][j]:
                    if waiting[f][j] or all(map(books[j].__contains__, quotes[s])):
                        continue  # not yet settled, or nothing filled: the ladder stands
                due[f].append((s, fairs[f][j], inventories[f][j], indexes[j]))
        return due, factor.tolist()

    def _requote(self, sim, f: int, s: int, fair: float, inventory: float, index: float,
                 factor: float, levels: list[float]) -> None:
        """Cancel the firm's ladder in symbol s and post a new one of ``factor`` of its calm size
        around ``fair`` (``index``: halfway between index and mark), its levels ``levels`` basis
        points out (``level_bps``); as ``_due`` worked them out."""
        ex = sim.exchange
        a = self.accounts[f]
        unit = ex.instruments[s].unit_per_tick_lot
        limit = self.inventory_limit[s]
        ex.ledger.cancel_many(s, self.quotes[f][s], "requote")
        self.center[f, s] = round(fair)
        self.quoted_factor[f, s] = factor
        self.last_quote[f, s] = sim.t
        self.placed[f, s] = 0  # the ids stay listed (all gone now) until a ladder replaces them
        lots_per_level = int(self.level_usd[s] * factor * MONEY_PER_USD / (index * unit))
        if lots_per_level <= 0:
            return
        mult = float(self.spread[f]) * (2.0 - min(1.0, float(self.factor[f])))
        if f < self.obligated:
            inside = float(self.level_bps[0])
            if inside > 0:  # (a ladder with no inside spread has nothing to cap)
                mult = min(mult, self.cfg.obligation_spread_bps / inside)
        widen = mult * 1e-4
        quotes = []
        for side in (BUY, SELL):
            if (side == BUY and inventory >= limit) or (side == SELL and inventory <= -limit):
                continue
            for bps in levels:
                price = round(fair * (1 - side * bps * widen))
                if price > 0:
                    quotes.append((side, lots_per_level, price))
        try:
            self.quotes[f][s] = ex.place_ladder(a, s, quotes)
        except CrashfloorError:
            self.quotes[f][s] = []
        self.placed[f, s] = len(self.quotes[f][s])

    # --- transparency ------------------------------------------------------------------------------
    def views(self, sim, s: int) -> tuple[FirmView, ...]:
        """Every firm's snapshot in symbol ``s`` (for the UI: it never reads the agent)."""
        ex = sim.exchange
        calm = self.cfg.depth_usd[ex.symbols[s]] / max(1, self.F)
        return tuple(FirmView(name, self.stance[f], self.quoted_depth_usd(ex, f, s),
                              None if self.pulled_at[f] is None else sim.start + self.pulled_at[f],
                              calm)
                     for f, name in enumerate(self.names))

    def quoted_depth_usd(self, ex, f: int, s: int, pct: float = 1.0) -> float:
        """The firm's resting notional within ±pct% of mid, USD."""
        book = ex.books[s]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None and ask is None:
            return 0.0
        mid = (bid + ask) / 2 if bid is not None and ask is not None else (bid or ask)
        lo, hi = mid * (1 - pct / 100), mid * (1 + pct / 100)
        total = 0
        for oid in self.quotes[f][s]:
            if book.order(oid) is None:
                continue
            owner, side, price, qty = book.order(oid)
            if lo <= price <= hi:
                total += price * qty
        return total * ex.units[s] / MONEY_PER_USD
