"""The player's market-making desk: a quoting ladder on one symbol, steered by commands.

The desk quotes ``levels`` post-only orders per side around the mark: the bid ladder starts
``bid_spread_bps`` below it and the ask ladder ``ask_spread_bps`` above, ``level_step_bps`` apart,
each level ``bid_size_usd`` / ``ask_size_usd``. With ``skew`` on, both ladders shift against the
desk's inventory (up to ``skew_bps`` at ``inventory_limit_usd``) so fills pull inventory back to
flat. It re-centres when the mark moves half a level step, when a quote has filled, or when a
setting changes; "pull" cancels everything at once and stops quoting.

What the desk measures for the UI and the scoring: inventory, spread earned (each fill's distance
from the mid it was quoted around, times its size), mark-to-market PnL (equity change), and uptime
(seconds with quotes on both sides within ±1% of mid).

**Rebates and obligations.** With ``rebate_bps`` the exchange pays the desk a rebate on its maker
volume at the end of every minute, out of the fee pool. A designated market maker
(``obligations``) must, for at least ``min_uptime_pct`` of each minute, quote both sides with its
best bid and ask at most ``max_spread_bps`` apart and at least ``min_depth_usd`` of its own quotes
within ±1% of the mark; a minute that misses forfeits its rebate and costs
``penalty_usd_per_minute`` (paid into the fee pool). The session's obligations are met when the
compliant share of the whole session reaches ``min_uptime_pct``. The settlement runs in
``observe`` at each minute's close (and at the end), so the money moves inside the step that
closes the minute, identically on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..book import BUY, SELL
from ..errors import CrashfloorError, InvalidInput
from ..events import DeskStopped, Trade
from ..level.config import PlayerObligationsConfig
from .base import AgentState
from ..units import MONEY_PER_USD


@dataclass(slots=True)
class QuoteSettings:
    quoting: bool = False
    bid_spread_bps: float = 5.0
    ask_spread_bps: float = 5.0
    bid_size_usd: float = 50_000.0
    ask_size_usd: float = 50_000.0
    skew: bool = True
    levels: int = 3
    level_step_bps: float = 10.0
    skew_bps: float = 30.0
    inventory_limit_usd: float = 2_000_000.0

    LIMITS = {"bid_spread_bps": (0.5, 2_000.0), "ask_spread_bps": (0.5, 2_000.0),
              "bid_size_usd": (0.0, 50_000_000.0), "ask_size_usd": (0.0, 50_000_000.0)}

    def update(self, **changes) -> None:
        """Apply changes after checking them all (nothing changes if one is bad)."""
        for name, value in changes.items():
            if value is None:
                continue
            if name not in self.LIMITS and name not in ("quoting", "skew"):
                raise InvalidInput(f"no quote setting {name!r}; settings: "
                                   f"{', '.join([*self.LIMITS, 'quoting', 'skew'])}")
            if name in self.LIMITS:
                lo, hi = self.LIMITS[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)) \
                        or not lo <= value <= hi:
                    raise InvalidInput(f"{name} must be a number from {lo:g} to {hi:g}, "
                                       f"got {value!r}")
        for name, value in changes.items():
            if value is not None:
                setattr(self, name, type(getattr(self, name))(value))


@dataclass(frozen=True, slots=True)
class DeskView:
    """What the desk looks like at one moment, for the screen and the debrief (the UI reads this
    snapshot, never the live desk): its settings, inventory and takings so far."""

    symbol: str
    quoting: bool
    bid_spread_bps: float
    ask_spread_bps: float
    bid_size_usd: float
    ask_size_usd: float
    skew: bool
    inventory: float
    """Signed coins."""
    inventory_usd: float
    spread_earned_usd: float
    mtm_pnl_usd: float
    uptime_pct: float
    quotes: int
    """Orders of the desk resting in the book."""
    rebates_usd: float
    penalties_usd: float
    obligated: bool
    compliant_pct: float | None
    minutes_missed: int


class PlayerDesk(AgentState):
    """One account quoting one symbol. Registered on the simulation (``sim.desks[account]``)
    so that quote commands reach it."""

    __slots__ = ("account", "s", "rebate_ppm", "obligations", "minute_volume", "minute_seconds",
                 "minute_compliant", "compliant_seconds", "volume", "rebates", "penalties",
                 "minutes_missed", "minutes_settled", "settings", "center", "dirty",
                 "spread_earned", "uptime_seconds", "session_seconds", "start_equity", "placed",
                 "quoted_mid")
    _wiring = ("obligations",)

    def __init__(self, sim, account: int, s: int, rebate_bps: float = 0.0,
                 obligations: PlayerObligationsConfig | None = None):
        self.account = account
        self.s = s
        self.rebate_ppm = round(rebate_bps * 100)
        self.obligations = obligations if obligations is not None and obligations.enabled \
            else None
        self.minute_volume = 0
        self.minute_seconds = 0
        self.minute_compliant = 0
        self.compliant_seconds = 0
        self.volume = 0
        self.rebates = 0
        self.penalties = 0
        self.minutes_missed = 0
        self.minutes_settled = 0
        self.settings = QuoteSettings()
        self.center = 0
        self.dirty = True
        self.spread_earned = 0
        self.uptime_seconds = 0
        self.session_seconds = 0
        self.start_equity = sim.exchange.equity_units(account)
        self.placed = 0
        self.quoted_mid: int | None = None

    # --- commands -------------------------------------------------------------------------------
    def configure(self, ex, **changes) -> None:
        """Change settings; the ladder is re-quoted at once (in the step that applies the
        command), or pulled when quoting stops."""
        self.settings.update(**changes)
        self.dirty = True
        if changes.get("quoting") is False:
            self.pull(ex)
        else:
            self._requote(ex)

    def pull(self, ex) -> None:
        """Cancel every quote now and stop quoting."""
        self.settings.quoting = False
        for oid in ex.books[self.s].orders_of(self.account):
            ex.ledger.cancel(oid, "pulled")
        self.placed = 0

    # --- each step ------------------------------------------------------------------------------
    def observe(self, sim, events) -> None:
        ex = sim.exchange
        unit = ex.units[self.s]
        mid = self.quoted_mid
        for e in events:
            if type(e) is Trade and e.maker == self.account:
                notional = e.price * e.qty * unit
                self.volume += notional
                self.minute_volume += notional
                if mid is not None:
                    self.spread_earned += abs(e.price - mid) * e.qty * unit
                self.dirty = True
        self.session_seconds += sim.dt
        self.minute_seconds += sim.dt
        if self._two_sided(ex):
            self.uptime_seconds += sim.dt
        if self.obligations is not None and self._compliant(ex):
            self.compliant_seconds += sim.dt
            self.minute_compliant += sim.dt
        if sim.t % 60 < sim.dt or sim.finished:
            self._settle_minute(ex)

    def _compliant(self, ex) -> bool:
        """Quoting as obligated right now: both sides, tight enough, deep enough."""
        ob = self.obligations
        book = ex.books[self.s]
        mark = ex.marks.mark[self.s]
        best = {BUY: None, SELL: None}
        depth = 0
        for oid in book.orders_of(self.account):
            _, side, price, qty = book.order(oid)
            if best[side] is None or (price > best[side] if side == BUY else price < best[side]):
                best[side] = price
            if abs(price - mark) * 100 <= mark:
                depth += price * qty
        bid, ask = best[BUY], best[SELL]
        if bid is None or ask is None:
            return False
        if (ask - bid) * 10_000 > ob.max_spread_bps * mark:
            return False
        return depth * ex.units[self.s] >= ob.min_depth_usd * MONEY_PER_USD

    def _settle_minute(self, ex) -> None:
        """Pay the minute's rebate, or (a designated maker that missed) charge the penalty."""
        ok = True
        if self.obligations is not None:
            need = self.obligations.min_uptime_pct / 100 * self.minute_seconds
            ok = self.minute_compliant >= need
        if self.minute_seconds:
            self.minutes_settled += 1
        if ok:
            rebate = self.minute_volume * self.rebate_ppm // 1_000_000
            if rebate:
                ex.ledger.fee_pool -= rebate
                ex.acc.w[self.account] += rebate
                ex.acc.touch(self.account)
                self.rebates += rebate
        elif self.minute_seconds:
            assert self.obligations is not None  # only obligations can make the minute fail
            penalty = round(self.obligations.penalty_usd_per_minute * MONEY_PER_USD)
            # no more than the wallet holds above the cross pool's maintenance: a penalty never
            # liquidates the desk or leaves a deficit for the insurance funds to cover (the
            # exchange cannot collect from nothing); margin its resting orders hold does not
            # shield it
            equity, _, mms = ex.pools.pool(self.account, None)
            penalty = min(penalty, max(0, min(ex.acc.w[self.account], equity - sum(mms))))
            ex.ledger.fee_pool += penalty
            ex.acc.w[self.account] -= penalty
            ex.acc.touch(self.account)
            self.penalties += penalty
            self.minutes_missed += 1
        self.minute_volume = self.minute_seconds = self.minute_compliant = 0

    def obligations_met(self) -> bool | None:
        if self.obligations is None:
            return None
        need = self.obligations.min_uptime_pct / 100 * self.session_seconds
        return self.compliant_seconds >= need

    def _two_sided(self, ex) -> bool:
        book = ex.books[self.s]
        mark = ex.marks.mark[self.s]
        sides = set()
        for oid in book.orders_of(self.account):
            _, side, price, _ = book.order(oid)
            if abs(price - mark) * 100 <= mark:
                sides.add(side)
        return len(sides) == 2

    def act(self, sim) -> None:
        self._requote(sim.exchange)

    def _requote(self, ex) -> None:
        """Re-post the ladder when the mark moved half a level step, a quote filled or a
        setting changed."""
        st = self.settings
        if not st.quoting:
            return
        mark = ex.marks.mark[self.s]
        step = st.level_step_bps * 1e-4 * mark
        resting = ex.books[self.s].orders_of(self.account)
        moved = abs(mark - self.center) > step / 2
        if not (moved or self.dirty or len(resting) < self.placed):
            return
        for oid in resting:
            ex.ledger.cancel(oid, "requote")
        unit = ex.units[self.s]
        inventory = ex.acc.q[self.s, self.account] * mark * unit
        limit = st.inventory_limit_usd * MONEY_PER_USD
        shift = st.skew_bps * 1e-4 * max(-1.0, min(1.0, inventory / limit)) if st.skew else 0.0
        fair = mark * (1 - shift)
        quotes = []
        for side, spread, size in ((BUY, st.bid_spread_bps, st.bid_size_usd),
                                   (SELL, st.ask_spread_bps, st.ask_size_usd)):
            lots = int(size * MONEY_PER_USD / (mark * unit))
            if lots <= 0:
                continue
            for k in range(st.levels):
                off = (spread + k * st.level_step_bps) * 1e-4
                quotes.append((side, lots, max(1, round(fair * (1 - side * off)))))
        try:
            self.placed = len(ex.place_ladder(self.account, self.s, quotes))
        except CrashfloorError as exc:
            self.placed = 0
            st.quoting = False
            ex.journal.emit(_desk_stopped(ex, self, str(exc)))
        self.center = mark
        self.quoted_mid = mark
        self.dirty = False

    # --- what the UI shows ----------------------------------------------------------------------
    def view(self, ex) -> DeskView:
        st, unit, mark = self.settings, ex.units[self.s], ex.marks.mark[self.s]
        return DeskView(
            ex.symbols[self.s], st.quoting, st.bid_spread_bps, st.ask_spread_bps, st.bid_size_usd,
            st.ask_size_usd, st.skew,
            float(ex.qty_grid[self.s].value(ex.acc.q[self.s, self.account])),
            ex.acc.q[self.s, self.account] * mark * unit / MONEY_PER_USD,
            self.spread_earned / MONEY_PER_USD,
            (ex.equity_units(self.account) - self.start_equity) / MONEY_PER_USD,
            100 * self.uptime_seconds / max(self.session_seconds, 1),
            len(ex.books[self.s].orders_of(self.account)), self.rebates / MONEY_PER_USD,
            self.penalties / MONEY_PER_USD, self.obligations is not None,
            100 * self.compliant_seconds / max(self.session_seconds, 1)
            if self.obligations is not None else None, self.minutes_missed)


def _desk_stopped(ex, desk: PlayerDesk, why: str) -> DeskStopped:
    return DeskStopped(ex.t, desk.account, ex.symbols[desk.s], why)
