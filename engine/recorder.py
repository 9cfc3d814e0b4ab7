"""What a run measured: prices, depth, liquidations, the funds, ADL, open interest, the hedger.

A simulation listener: it reads each step's events and the exchange's state and keeps per-minute
series and running extremes. It never changes the simulation. ``summary()`` is the JSON object of
``crashfloor run --json``; every money figure is USD, every time HKT.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .clock import fmt_hhmm
from .events import (AdlFill, InsuranceTakeover, LiquidationStarted,
                     MakerStateChange, News)
from .units import MONEY_PER_USD


def _usd(units) -> float:
    return round(int(units) / MONEY_PER_USD, 2)


class Recorder:
    def __init__(self, sim, *, tracked: int, crowd_ids: np.ndarray, hedger: int | None,
                 groups: dict[str, np.ndarray] | None = None, role: str = "hedger",
                 desk=None):
        ex = sim.exchange
        self.groups = groups or {}
        self.group_start = {name: int(ex.pools.equity_vector(ids).sum())
                            for name, ids in self.groups.items()}
        self.role = role
        self.desk = desk
        self.liquidated: set[int] = set()
        self.socialized = 0
        self.player_adl_hits = 0
        self.player_adl_notional = 0
        self.player_liquidations = 0
        self.player_peak = ex.equity_units(hedger) if hedger is not None else 0
        self.player_max_dd = 0.0
        self.tracked = tracked
        self.crowd_ids = crowd_ids
        self.hedger = hedger
        self.S = len(ex.symbols)
        first = [ex.books[s].last_trade_price or ex.marks.index[s] for s in range(self.S)]
        self.open = list(first)
        self.close = list(first)
        self.low = list(first)
        self.low_at = [sim.clock] * self.S
        self.peak = list(first)
        self.max_dd = [0.0] * self.S
        self.depth_start = self._depth(ex)
        self.depth_min = (self.depth_start, sim.clock)
        self.depth_series: list[tuple[int, int]] = [(sim.clock, self.depth_start)]
        self.depth_sum = 0
        self.depth_n = 0
        self.minute = sim.clock // 60
        self.liq_count = 0
        self.liq_notional = 0
        self.liq_long = 0
        self.liq_per_minute: dict[int, int] = defaultdict(int)
        self.liq_per_symbol = [0] * self.S
        self.fund_start = [int(ex.acc.w[f]) for f in ex.funds.ids]
        self.fund_min = list(self.fund_start)
        self.fund_exhausted: list[int | None] = [None] * len(ex.funds.ids)
        self.adl_count = 0
        self.adl_notional = 0
        self.adl_first: int | None = None
        self.adl_accounts: set[int] = set()
        self.adl_per_symbol = [0] * self.S
        self.oi_start = self._open_interest(ex)
        q = ex.acc.qty[:, crowd_ids]
        held = q != 0
        self.long_share_start = float((q > 0).sum() / max(held.sum(), 1))
        self.hedger_adl_at = self.hedger_liq_at = None
        self.hedger_equity_start = ex.equity_units(hedger) if hedger is not None else None
        self.equity_curve: list[tuple[int, int]] = []
        self.maker_events: list[tuple[int, str, str]] = []
        self.news: list[tuple[int, str]] = []
        self.prices: list[list[tuple[int, int, int]]] = [[] for _ in range(self.S)]

    # --- measurements --------------------------------------------------------------------------
    def _depth(self, ex) -> int:
        return ex.depth_units(self.tracked)

    @staticmethod
    def _open_interest(ex) -> int:
        """Long-side notional at mark over every account (= short-side notional)."""
        n = ex.acc.n
        total = 0
        for s in range(len(ex.symbols)):
            q = ex.acc.qty[s, :n]
            total += int(q[q > 0].sum()) * (ex.marks.mark[s] or 0) * ex.units[s]
        return total

    def __call__(self, sim, events) -> None:
        ex = sim.exchange
        clock = sim.clock
        for s in range(self.S):
            last = ex.books[s].last_trade_price
            if last is None:
                continue
            self.close[s] = last
            if last < self.low[s]:
                self.low[s], self.low_at[s] = last, clock
            self.peak[s] = max(self.peak[s], last)
            self.max_dd[s] = max(self.max_dd[s], 1 - last / self.peak[s])
        for e in events:
            kind = type(e)
            if kind is LiquidationStarted:
                self._liquidation(ex, e, clock)
            elif kind is AdlFill:
                self._adl(ex, e, clock)
            elif kind is InsuranceTakeover:
                pass
            elif kind is MakerStateChange:
                self.maker_events.append((clock, e.name, e.state))
            elif kind is News:
                self.news.append((clock, e.headline))
        for k, f in enumerate(ex.funds.ids):
            self.fund_min[k] = min(self.fund_min[k], int(ex.acc.w[f]))
        if self.hedger is not None:
            eq = ex.equity_units(self.hedger)
            self.player_peak = max(self.player_peak, eq)
            if self.player_peak > 0:
                self.player_max_dd = max(self.player_max_dd, 1 - eq / self.player_peak)
        self.depth_sum += self._depth(ex)
        self.depth_n += 1
        if clock // 60 != self.minute:  # a minute boundary was crossed in this step
            self.minute = clock // 60
            self._minute(ex, clock // 60 * 60)

    def _liquidation(self, ex, e, clock) -> None:
        s = ex.index_of(e.symbol)
        notional = e.qty * e.mark * ex.units[s]
        self.liq_count += 1
        self.liq_notional += notional
        if e.side > 0:
            self.liq_long += notional
        self.liq_per_minute[clock // 60 * 60] += notional
        self.liq_per_symbol[s] += notional
        self.liquidated.add(e.account)
        if e.account == self.hedger:
            self.player_liquidations += 1
            if self.hedger_liq_at is None:
                self.hedger_liq_at = clock

    def _adl(self, ex, e, clock) -> None:
        s = ex.index_of(e.symbol)
        self.adl_count += 1
        self.adl_notional += e.qty * e.price * ex.units[s]
        self.adl_per_symbol[s] += 1
        self.adl_accounts.add(e.counterparty)
        self.socialized += abs(ex.marks.mark[s] - e.price) * e.qty * ex.units[s]
        if self.adl_first is None:
            self.adl_first = clock
        if e.counterparty == self.hedger:
            self.player_adl_hits += 1
            self.player_adl_notional += e.qty * e.price * ex.units[s]
            if self.hedger_adl_at is None:
                self.hedger_adl_at = clock
        k = ex.funds.ids.index(ex.funds.fund_of[s])
        if self.fund_exhausted[k] is None:  # tier 3 reached: the fund could not carry it
            self.fund_exhausted[k] = clock

    def _minute(self, ex, clock) -> None:
        """Close a minute: the tracked depth is the minute's average over every step (a single
        snapshot would catch the book between a fill and the refill)."""
        depth = self.depth_sum // max(self.depth_n, 1)
        self.depth_sum = self.depth_n = 0
        self.depth_series.append((clock, depth))
        if depth < self.depth_min[0]:
            self.depth_min = (depth, clock)
        for s in range(self.S):
            self.prices[s].append((clock, ex.books[s].last_trade_price or 0,
                                   ex.marks.index[s] or 0))
        if self.hedger is not None:
            self.equity_curve.append((clock, ex.equity_units(self.hedger)))

    # --- the summary ---------------------------------------------------------------------------
    def _player_summary(self, ex) -> dict | None:
        """The player's account, for the debrief and the objectives (None without a player)."""
        if self.hedger is None:
            return None
        start = self.hedger_equity_start
        end = ex.equity_units(self.hedger)
        out = {"role": self.role, "account": self.hedger, "equity_start": _usd(start),
               "equity_end": _usd(end), "pnl_usd": _usd(end - start),
               "pnl_pct": round((end - start) / start * 100, 2) if start else None,
               "max_drawdown_pct": round(self.player_max_dd * 100, 2),
               "survived": self.player_liquidations == 0, "liquidations": self.player_liquidations,
               "adl_hits": self.player_adl_hits, "adl_notional_usd": _usd(self.player_adl_notional),
               "maker": None}
        desk = self.desk
        if desk is not None:
            out["maker"] = {
                "uptime_pct": round(100 * desk.uptime_seconds / max(desk.session_seconds, 1), 2),
                "spread_earned_usd": _usd(desk.spread_earned), "volume_usd": _usd(desk.volume),
                "rebates_usd": _usd(desk.rebates), "penalties_usd": _usd(desk.penalties),
                "obligated": desk.obligations is not None,
                "compliant_pct": round(100 * desk.compliant_seconds
                                       / max(desk.session_seconds, 1), 2)
                if desk.obligations is not None else None,
                "minutes_missed": desk.minutes_missed,
                "inventory_pnl_usd": _usd(end - start - desk.spread_earned - desk.rebates
                                          + desk.penalties),
                "obligations_met": desk.obligations_met()}
        return out

    @staticmethod
    def _with_times(player: dict | None, times: dict | None) -> dict | None:
        """The player's section with when it was first ADL'd and liquidated (from the old
        ``hedger`` section, which carries the same account)."""
        if player is not None and times is not None:
            player["adl_at"], player["liquidated_at"] = times["adl_at"], times["liquidated_at"]
        return player

    def summary(self, sim) -> dict:
        ex = sim.exchange
        t = fmt_hhmm
        symbols = {}
        for s, sym in enumerate(ex.symbols):
            grid = ex.price_grid[s]
            symbols[sym] = {"open": float(grid.value(self.open[s])),
                            "low": float(grid.value(self.low[s])), "low_at": t(self.low_at[s]),
                            "close": float(grid.value(self.close[s])),
                            "max_drawdown_pct": round(self.max_dd[s] * 100, 2),
                            "adl_fills": self.adl_per_symbol[s]}
        peak = max(self.liq_per_minute.items(), key=lambda kv: kv[1], default=(None, 0))[0]
        funds = {}
        for k, name in enumerate(ex.funds.names):
            exhausted = self.fund_exhausted[k]
            funds[name] = {"start_usd": _usd(self.fund_start[k]), "min_usd": _usd(self.fund_min[k]),
                           "end_usd": _usd(ex.acc.w[ex.funds.ids[k]]),
                           "exhausted_at": None if exhausted is None else t(exhausted)}
        oi_end = self._open_interest(ex)
        bad_debt = ex.bad_debt_units()
        groups = {}
        for name, ids in self.groups.items():
            end = int(ex.pools.equity_vector(ids).sum())
            groups[name] = {"accounts": int(len(ids)), "pnl_usd": _usd(end - self.group_start[name])}
        hedger = None
        if self.hedger is not None:
            hedger = {"adl_at": self.hedger_adl_at and t(self.hedger_adl_at),
                      "liquidated_at": self.hedger_liq_at and t(self.hedger_liq_at),
                      "equity_start": _usd(self.hedger_equity_start),
                      "equity_end": _usd(ex.equity_units(self.hedger))}
        return {
            "sim_start": t(sim.start), "sim_end": t(sim.clock), "symbols": symbols,
            "tracked_depth": {
                "symbol": ex.symbols[self.tracked], "pct": 1.0,
                "start_usd": _usd(self.depth_start), "min_usd": _usd(self.depth_min[0]),
                "min_at": t(self.depth_min[1]),
                "series": [[t(c), _usd(d)] for c, d in self.depth_series]},
            "liquidations": {
                "count": self.liq_count, "notional_usd": _usd(self.liq_notional),
                "accounts": len(self.liquidated),
                "long_share": round(self.liq_long / self.liq_notional, 4) if self.liq_notional
                else None,
                "peak_minute": None if peak is None else t(peak),
                "per_symbol_usd": {sym: _usd(v) for sym, v in zip(ex.symbols,
                                                                  self.liq_per_symbol, strict=False)},
                "per_minute": [[t(c), _usd(v)] for c, v in sorted(self.liq_per_minute.items())]},
            "insurance_fund": funds,
            "adl": {"count": self.adl_count, "notional_usd": _usd(self.adl_notional),
                    "socialized_usd": _usd(self.socialized),
                    "by_group": {name: int(np.isin(ids, np.fromiter(
                        sorted(self.adl_accounts), np.int64, len(self.adl_accounts))).sum())
                        for name, ids in self.groups.items()},
                    "first_at": self.adl_first and t(self.adl_first),
                    "accounts": len(self.adl_accounts)},
            "open_interest": {"start_usd": _usd(self.oi_start), "end_usd": _usd(oi_end),
                              "change_pct": round((oi_end / self.oi_start - 1) * 100, 2)
                              if self.oi_start else None},
            "long_share_start": round(self.long_share_start, 4),
            "hedger": hedger,  # the player under its first name: kept one format version more
            "player": self._with_times(self._player_summary(ex), hedger),
            "groups": groups,
            "bad_debt_usd": _usd(bad_debt),
            "halts": [{"symbol": ex.symbols[s], "from": t(sim.start + a), "to": t(sim.start + b)}
                      for s, a, b in ex.rules.halts],
            "market_makers": [[t(c), name, state] for c, name, state in self.maker_events],
            "conservation_error": ex.total_money() - ex.net_deposits,
        }
