"""What a run measured: prices, depth, liquidations, the funds, ADL, open interest, the hedger.

A simulation listener: it reads each step's events and the exchange's state and keeps per-minute
series and running extremes. It never changes the simulation. ``summary()`` is the JSON object of
``crashfloor run --json``; every money figure is USD, every time HKT.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .adl_research import AdlLedger, fill_columns
from .clock import fmt_hhmm
from .events import (AdlFill, InsuranceTakeover, LiquidationStarted, LossSocialized,
                     MakerStateChange, News)
from .summary import (AdlReport, HedgedThenLiquidated, MarketReport, DepthReport, FundReport, GroupReport, HaltReport, HedgerTimes,
                      LiquidationReport, MakerReport, OpenInterestReport, PlayerReport, RunReport,
                      SymbolReport)
from .units import MONEY_PER_USD


def _usd(units) -> float:
    return round(int(units) / MONEY_PER_USD, 2)


class Recorder:
    def __init__(self, sim, *, tracked: int, crowd_ids: np.ndarray, hedger: int | None,
                 groups: dict[str, np.ndarray] | None = None, role: str = "hedger",
                 desk=None, hedged_ids: np.ndarray | None = None, outside=None,
                 session_end: int | None = None, wallet=None):
        ex = sim.exchange
        self.wallet = wallet
        """The player's spot wallet (``engine/agents/wallet.py``), or None."""
        self.spot_start = wallet.balance if wallet is not None else 0
        self.session_end = sim.end if session_end is None else session_end
        """When the session ends (seconds since midnight); an epilogue runs past it."""
        self.outside = outside
        """The outside market (``engine.outside``), for the market-wide figures, or None."""
        self.hedged = set(np.asarray(hedged_ids if hedged_ids is not None else [],
                                     dtype=np.int64).tolist())
        """Crowd accounts that hold a hedge (a long and a short leg)."""
        self.first_adl_at: dict[int, int] = {}
        self.first_liq_at: dict[int, int] = {}
        self.adl_per_second: dict[int, int] = defaultdict(int)
        self.adl_notional_per_symbol = [0] * len(ex.symbols)
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
        self.fund_min_equity = list(self.fund_start)
        self.adl_ledger = AdlLedger()
        self.needed: int | None = None
        """The budget ADL needed (money units), from a no-ADL pass (``adl_research``), or None."""
        self.needed_lower_bound = False
        """ADL still fired in that pass: ``needed`` is a lower bound."""
        self.needed_series: list[tuple[int, int]] = []
        """(clock, the budget needed up to then), from that pass: each wave's share of it."""
        self.fund_series: list[tuple[int, tuple[int, ...]]] | None = None
        """Each fund's equity whenever it changed (only when a no-ADL pass asks for it)."""
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
        self.hedger_adl_at: int | None = None
        self.hedger_liq_at: int | None = None
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
        adl: list[AdlFill] = []
        for e in events:
            kind = type(e)
            if kind is LiquidationStarted:
                self._liquidation(ex, e, clock)
            elif kind is AdlFill:
                adl.append(e)
            elif kind is InsuranceTakeover:
                pass
            elif kind is LossSocialized:  # Drift: every open position paid, nobody closed
                self.socialized += e.amount
            elif kind is MakerStateChange:
                self.maker_events.append((clock, e.name, e.state))
            elif kind is News:
                self.news.append((clock, e.headline))
        if adl:
            self._adl(ex, adl, clock)
        equities = tuple(ex.funds.equity(f) for f in ex.funds.ids)
        for k, f in enumerate(ex.funds.ids):
            self.fund_min[k] = min(self.fund_min[k], int(ex.acc.w[f]))
            self.fund_min_equity[k] = min(self.fund_min_equity[k], equities[k])
        self.adl_ledger.step(ex.acc.qty, clock)
        if self.fund_series is not None:
            if not self.fund_series or self.fund_series[-1][1] != equities:
                self.fund_series.append((clock, equities))
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
        self.first_liq_at.setdefault(e.account, clock)
        if e.account == self.hedger:
            self.player_liquidations += 1
            if self.hedger_liq_at is None:
                self.hedger_liq_at = clock

    def _adl(self, ex, fills: list[AdlFill], clock: int) -> None:
        """A step's ADL fills, all at once (a pro-rata policy makes thousands a step): every
        figure here is a sum, a count or a first time, so their order within the step does not
        matter."""
        cols = fill_columns(fills)
        symbols = [ex.index_of(e.symbol) for e in fills]
        s_ = np.asarray(symbols, dtype=np.int64)
        c_, qty, price = cols["account"], cols["lots"], cols["price"]
        units = np.asarray(ex.units, dtype=np.int64)[s_]
        value = qty * price * units
        marks = np.asarray([ex.marks.mark[s] or 0 for s in range(self.S)], dtype=np.int64)[s_]
        self.adl_ledger.add_many(clock, cols, s_, units, ex.acc.qty[s_, c_])
        total = int(value.sum())
        self.adl_count += len(fills)
        self.adl_notional += total
        self.adl_per_second[clock] += total
        self.socialized += int((np.abs(marks - price) * qty * units).sum())
        for s in sorted(set(symbols)):
            mine = s_ == s
            self.adl_per_symbol[s] += int(mine.sum())
            self.adl_notional_per_symbol[s] += int(value[mine].sum())
            k = ex.funds.ids.index(ex.funds.fund_of[s])
            if self.fund_exhausted[k] is None:  # tier 3 reached: the fund could not carry it
                self.fund_exhausted[k] = clock
        counterparties = c_.tolist()
        for c in dict.fromkeys(counterparties):
            self.first_adl_at.setdefault(c, clock)
        self.adl_accounts.update(counterparties)
        if self.adl_first is None:
            self.adl_first = clock
        if self.hedger is not None:
            mine = c_ == self.hedger
            if mine.any():
                self.player_adl_hits += int(mine.sum())
                self.player_adl_notional += int(value[mine].sum())
                if self.hedger_adl_at is None:
                    self.hedger_adl_at = clock

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
    def _player_report(self, ex, times: HedgerTimes | None) -> PlayerReport | None:
        """The player's account, for the debrief and the objectives (None without a player),
        with when it was first ADL'd and liquidated."""
        if self.hedger is None:
            return None
        start = self.hedger_equity_start
        assert start is not None  # taken with the player's account, at the start
        end = ex.equity_units(self.hedger)
        spot = self.wallet.balance if self.wallet is not None else 0
        # transfers move money between the two wallets: only the sum of both is profit or loss
        pnl = end + spot - start - self.spot_start
        maker = None
        desk = self.desk
        if desk is not None:
            maker = MakerReport(
                round(100 * desk.uptime_seconds / max(desk.session_seconds, 1), 2),
                _usd(desk.spread_earned), _usd(desk.volume), _usd(desk.rebates),
                _usd(desk.penalties), desk.obligations is not None,
                round(100 * desk.compliant_seconds / max(desk.session_seconds, 1), 2)
                if desk.obligations is not None else None,
                desk.minutes_missed,
                _usd(pnl - desk.spread_earned - desk.rebates + desk.penalties),
                desk.obligations_met())
        return PlayerReport(
            self.role, self.hedger, _usd(start), _usd(end), _usd(pnl),
            round(pnl / (start + self.spot_start) * 100, 2) if start + self.spot_start else None,
            round(self.player_max_dd * 100, 2), self.player_liquidations == 0,
            self.player_liquidations, self.player_adl_hits, _usd(self.player_adl_notional), maker,
            times.adl_at if times else None, times.liquidated_at if times else None,
            _usd(self.spot_start), _usd(spot))

    def report(self, sim, *, level: str, seed: int, checksum: str) -> RunReport:
        """The run so far as a typed record (``engine.summary``), objectives not yet scored."""
        ex = sim.exchange
        t = fmt_hhmm
        symbols = {}
        for s, sym in enumerate(ex.symbols):
            grid = ex.price_grid[s]
            symbols[sym] = SymbolReport(float(grid.value(self.open[s])),
                                        float(grid.value(self.low[s])), t(self.low_at[s]),
                                        float(grid.value(self.close[s])),
                                        round(self.max_dd[s] * 100, 2), self.adl_per_symbol[s])
        peak = max(self.liq_per_minute.items(), key=lambda kv: kv[1], default=(None, 0))[0]
        funds = {}
        for k, name in enumerate(ex.funds.names):
            exhausted = self.fund_exhausted[k]
            funds[name] = FundReport(_usd(self.fund_start[k]), _usd(self.fund_min[k]),
                                     _usd(ex.acc.w[ex.funds.ids[k]]),
                                     None if exhausted is None else t(exhausted),
                                     _usd(self.fund_min_equity[k]))
        oi_end = self._open_interest(ex)
        groups = {}
        for name, ids in self.groups.items():
            end = int(ex.pools.equity_vector(ids).sum())
            groups[name] = GroupReport(int(len(ids)), _usd(end - self.group_start[name]))
        hedger = None
        if self.hedger is not None:
            hedger = HedgerTimes(_to_the_second(self.hedger_adl_at),
                                 _to_the_second(self.hedger_liq_at),
                                 _usd(self.hedger_equity_start),
                                 _usd(ex.equity_units(self.hedger)))
        adl_ids = np.fromiter(sorted(self.adl_accounts), np.int64, len(self.adl_accounts))
        return RunReport(
            level, seed, checksum, t(sim.start), t(sim.clock), symbols,
            DepthReport(ex.symbols[self.tracked], 1.0, _usd(self.depth_start),
                        _usd(self.depth_min[0]), t(self.depth_min[1]),
                        [[t(c), _usd(d)] for c, d in self.depth_series]),
            LiquidationReport(
                self.liq_count, _usd(self.liq_notional), len(self.liquidated),
                round(self.liq_long / self.liq_notional, 4) if self.liq_notional else None,
                None if peak is None else t(peak),
                {sym: _usd(v) for sym, v in zip(ex.symbols, self.liq_per_symbol, strict=True)},
                [[t(c), _usd(v)] for c, v in sorted(self.liq_per_minute.items())]),
            funds,
            AdlReport(self.adl_count, _usd(self.adl_notional), _usd(self.socialized),
                      {name: int(np.isin(ids, adl_ids).sum())
                       for name, ids in self.groups.items()},
                      None if self.adl_first is None else t(self.adl_first), len(self.adl_accounts),
                      self._hedged_then_liquidated(self.session_end),
                      round(max(self.adl_per_second.values(), default=0)
                            / self.adl_notional, 4) if self.adl_notional else None,
                      {sym: _usd(v) for sym, v in zip(ex.symbols, self.adl_notional_per_symbol,
                                                      strict=True) if v},
                      self._research()),
            OpenInterestReport(_usd(self.oi_start), _usd(oi_end),
                               round((oi_end / self.oi_start - 1) * 100, 2)
                               if self.oi_start else None),
            round(self.long_share_start, 4), hedger, self._player_report(ex, hedger), groups,
            _usd(ex.bad_debt_units()),
            [HaltReport(ex.symbols[s], t(sim.start + a), t(sim.start + b))
             for s, a, b in ex.rules.halts],
            [[t(c), name, state] for c, name, state in self.maker_events],
            ex.total_money() - ex.net_deposits, market=self._market(sim))

    def _research(self) -> dict:
        out = self.adl_ledger.measure(self.needed, self.needed_series)
        out["needed_lower_bound"] = self.needed_lower_bound
        for w in out["waves"]:
            w["start"], w["end"] = _to_the_second(w["start"]), _to_the_second(w["end"])
        return out

    def _hedged_then_liquidated(self, until: int) -> HedgedThenLiquidated:
        """Crowd accounts that held a hedge, lost a leg to ADL, and were liquidated (on
        another leg) afterwards, before ``until``: the article's "thousands of times"."""
        hit = [a for a in self.hedged if a in self.first_adl_at]
        after = [a for a in hit if self.first_adl_at[a] <= self.first_liq_at.get(a, until + 1)
                 <= until]
        return HedgedThenLiquidated(len(hit), len(after),
                                    round(len(after) / len(hit), 4) if hit else None)

    def _market(self, sim) -> MarketReport | None:
        """The rest of the market's liquidations (``engine.outside``), at real scale."""
        out = self.outside
        if out is None or out.mode != "emergent":
            return None
        minutes = out.liq_minutes
        session = (self.session_end - sim.start + 59) // 60
        window = {m: v for m, v in minutes.items() if m < session}
        peak = max(window.items(), key=lambda kv: kv[1], default=(None, 0.0))
        return MarketReport(round(sum(window.values()), 2),
                            None if peak[0] is None else fmt_hhmm(sim.start + 60 * peak[0]),
                            round(peak[1], 2), round(sum(minutes.values()), 2))


def _to_the_second(clock: int | None) -> str | None:
    """A moment of the player's (ADL, liquidation) as HH:MM:SS: two can share a minute."""
    return None if clock is None else fmt_hhmm(clock, with_seconds=True)
