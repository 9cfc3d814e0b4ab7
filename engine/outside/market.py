"""The outside market: the other venues, in aggregate, moved by flow — the index the local
exchange marks against.

Per symbol, each simulated second::

    index = fundamental × exp(−x)

**Fundamental.** The news moves value a few per cent, not a crash: the headline at
``index.shock_at`` by ``shock_pct`` (approached with time constant ``shock_minutes``) and the
second leg at ``index.open_at`` by ``open_pct`` (``open_minutes``), both × the symbol's ``beta``
× ``shock_scale`` × a seeded size (``1 + shock_jitter·N(0, 1)``), plus mean-reverting noise
(``noise_bps`` per √second, a common factor ``noise_common`` across symbols). With
``index.mode = "scripted"`` the fundamental is the level's waypoints instead, and nothing below
moves it (no map, no impact).

**Forced flow.** The rest of the market's leveraged crowd is a liquidation map
(``engine.outside.liqmap``). When the index makes a new low (high) it crosses buckets; their long
(short) notional joins a backlog that the venues' liquidation engines sell (buy) off with an
e-time of ``liq_exec_seconds``. Losing longs also cut (``crowd.panic_rate`` per minute per 1%
drawdown), and the arbitrageurs carry the local exchange's net forced flow out
(``local_passthrough``).

**Impact, against the same firms' depth.** The firms quote on every venue with one stance
(``engine.agents.stance``): the outside depth per 1% move on one side is
``D = depth_usd/2 × (depth_floor + φ + latent·100·x⁺)`` — non-maker resting liquidity, the firms'
mean depth factor ``φ``, and latent buyers who appear as the price runs away from value (what
makes impact concave and bounds the wicks). The flow moves ``x`` by ``0.01·flow/D``; impact decays
with half-life ``half_life_seconds / (resilience_floor + φ)``: fast while firms quote, slow when
they have gone, so the price comes back as depth does.

What the firms see (drawdown, liquidations local and market-wide, volatility, what they absorbed)
sets their stance for the next second; their withdrawal lowers ``D`` and the resilience, so the
same liquidations move the price further into the map: with the firms in, the loop settles a
little under value; with them out it runs until leverage is flushed or latent buyers absorb it.
That is the causal claim the game teaches, and the counterfactual switches (withdrawal
``never``, half the shock, a balanced crowd) test it.
"""

from __future__ import annotations

import math

import numpy as np

from .. import portable
from ..agents.base import AgentState
from ..agents.stance import FirmStance
from ..events import LiquidationFill, MarketLiquidations, News
from ..units import MONEY_PER_USD
from .liqmap import LiquidationMap


class OutsideMarket(AgentState):
    """A simulation ``scenario`` hook: moves every index once per simulated second and
    publishes the news; keeps the market-wide liquidation tally."""

    __slots__ = ("p", "mode", "S", "ticks", "logp0", "beta", "sigma", "shock_size",
                 "waypoints", "noise", "lmap", "lo_idx", "hi_idx", "long_left", "backlog_sell",
                 "backlog_buy", "x", "eaten", "stance", "news", "_next_news", "start",
                 "shock_at", "open_at", "liq_minutes", "local_flow", "local_liq",
                 "tracked", "d_side", "floor", "latent")
    _wiring = ("p", "waypoints", "news", "stance")
    _dropped_fields = ("paths", "last_log", "second")
    """A format-2 save's scenario paths (the fresh run rebuilds the waypoints from the level),
    and two fields early format-3 saves kept that nothing read."""

    def __init__(self, cfg, rng: np.random.Generator, stance: FirmStance, *,
                 prices: list[float], ticks: list[float], maint_rate: list[float],
                 start: int, tracked: int):
        """``cfg``: the level's records (``Level.config``); ``prices`` the start prices (USD),
        ``ticks`` the tick sizes, ``maint_rate`` each instrument's first maintenance rate,
        ``start`` the session start (seconds since midnight)."""
        ix, out, crowd = cfg.index, cfg.outside, cfg.crowd
        symbols = list(cfg.symbols)
        self.p = cfg
        self.mode = ix.mode
        self.S = len(symbols)
        self.start = start
        self.tracked = tracked
        self.ticks = np.asarray(ticks, dtype=float)
        self.logp0 = portable.log(prices)
        self.beta = np.asarray([cfg.symbols[s].beta for s in symbols], dtype=float)
        self.sigma = np.asarray([cfg.symbols[s].noise_bps for s in symbols]) * 1e-4
        self.shock_at, self.open_at = ix.shock_at, ix.open_at
        self.shock_size = ix.shock_scale * (1 + ix.shock_jitter * float(rng.standard_normal()))
        self.waypoints = [(np.array([start] + [t for t, _ in cfg.symbols[s].waypoints
                                               if t > start], dtype=float),
                           np.array([cfg.symbols[s].price] + [p for t, p in
                                                               cfg.symbols[s].waypoints
                                                               if t > start], dtype=float))
                          for s in symbols]
        self.noise = np.zeros(self.S)
        self.stance = stance
        emergent = self.mode == "emergent"
        self.lmap = LiquidationMap(
            rng, crowd_usd=[out.open_interest_usd[s] * out.crowd_share if emergent else 0.0
                            for s in symbols],
            long_share=crowd.long_share, leverage_min=crowd.leverage_min,
            leverage_tail=crowd.leverage_tail,
            leverage_max=[min(crowd.leverage_max, out.leverage_max[s]) for s in symbols],
            margin_buffer=crowd.margin_buffer, entry_spread_pct=crowd.entry_spread_pct,
            maint_rate=maint_rate, survived_pct=out.survived_pct,
            positions=out.map_positions if emergent else 1)
        here = self.lmap.bucket(np.zeros(self.S))
        self.lo_idx = here.copy()          # long buckets ≥ lo_idx have been liquidated
        self.hi_idx = here + 1             # short buckets < hi_idx have been liquidated
        self.long_left = np.ones(self.S)   # the share of the long crowd not cut in panic
        self.backlog_sell = np.zeros(self.S)
        self.backlog_buy = np.zeros(self.S)
        self.x = np.zeros(self.S)
        self.eaten = np.zeros(self.S)
        self.d_side = np.asarray([out.depth_usd[s] for s in symbols], dtype=float) / 2
        self.floor = np.asarray([out.depth_floor[s] for s in symbols], dtype=float)
        self.latent = np.asarray([out.latent[s] for s in symbols], dtype=float)
        self.news = sorted((n.at, n.headline) for n in cfg.news)
        self._next_news = 0
        self.liq_minutes: dict[int, float] = {}
        """Market-wide liquidated USD per minute (minute of the session → USD)."""
        self.local_flow = np.zeros(self.S)
        """The local exchange's net forced selling (USD) since the last second, per symbol."""
        self.local_liq = 0.0

    # --- the local venue's liquidations (the arbitrageurs carry its flow out) --------------------
    def observe(self, sim, events) -> None:
        """A simulation listener: this exchange's liquidation fills join the next second's flow
        (a long's liquidation sells) and the firms' liquidation count."""
        ex = sim.exchange
        for e in events:
            if type(e) is LiquidationFill:
                s = ex.index_of(e.symbol)
                usd = e.qty * e.price * ex.units[s] / MONEY_PER_USD
                self.local_flow[s] += usd if e.side > 0 else -usd
                self.local_liq += usd

    # --- the clock ---------------------------------------------------------------------------------
    def start_run(self, sim) -> None:
        """Set the opening index before the first step; news before the start is history."""
        for s in range(self.S):
            sim.exchange.set_index_ticks(s, max(1, round(math.exp(self.logp0[s]) / self.ticks[s])))
        while self._next_news < len(self.news) and self.news[self._next_news][0] <= sim.clock:
            self._next_news += 1

    def __call__(self, sim) -> None:
        ex = sim.exchange
        clock0 = sim.clock - sim.dt
        for k in range(sim.dt):
            logi = self._second(sim.rng, clock0 + k + 1)
        for s in range(self.S):
            ex.set_index_ticks(s, max(1, round(math.exp(logi[s]) / self.ticks[s])))
        while self._next_news < len(self.news) and self.news[self._next_news][0] <= sim.clock:
            ex.journal.emit(News(sim.t, self.news[self._next_news][1]))
            self._next_news += 1
        minute = (sim.clock - self.start) // 60
        if (sim.clock - self.start) % 60 < sim.dt and minute - 1 in self.liq_minutes:
            ex.journal.emit(MarketLiquidations(
                sim.t, self.start + 60 * (minute - 1),
                round(self.liq_minutes[minute - 1] * MONEY_PER_USD)))

    def _fundamental(self, rng: np.random.Generator, clock: int) -> np.ndarray:
        ix = self.p.index
        z = rng.standard_normal(self.S + 1)
        c = ix.noise_common
        shocks = self.sigma * (math.sqrt(c) * z[0] + math.sqrt(1 - c) * z[1:])
        self.noise += shocks - self.noise / (ix.noise_reversion_minutes * 60)
        if self.mode == "scripted":
            base = portable.log([float(np.interp(clock, t, p)) for t, p in self.waypoints])
            return base + self.noise
        move = 0.0
        if clock >= self.shock_at:
            move += ix.shock_pct / 100 * -math.expm1(-(clock - self.shock_at)
                                                     / (ix.shock_minutes * 60))
        if clock >= self.open_at:
            move += ix.open_pct / 100 * -math.expm1(-(clock - self.open_at)
                                                    / (ix.open_minutes * 60))
        moved = np.minimum(move * self.shock_size * self.beta, 0.95)
        return self.logp0 + portable.log1p(-moved) + self.noise

    def _second(self, rng: np.random.Generator, clock: int) -> np.ndarray:
        """Advance one second; the new log index per symbol."""
        out, crowd = self.p.outside, self.p.crowd
        logi = self._fundamental(rng, clock) - self.x
        phi = self.stance.mean_factor(self.p.market_makers.token_presence)
        rel = portable.exp(logi - self.logp0)
        sell = buy = np.zeros(self.S)
        if self.mode == "emergent":
            new_long, new_short = self._cross(logi, rel)
            self.backlog_sell += new_long
            self.backlog_buy += new_short
            high = self.stance.high if self.stance.high is not None else rel  # the first second
            dd = np.maximum(0.0, 1 - rel / high)
            cut_share = crowd.panic_rate / 60 * 100 * dd
            remaining = self.lmap.long_cum[:, 0] - self.lmap.long_cum[np.arange(self.S),
                                                                      self.lo_idx]
            cut = cut_share * self.long_left * remaining * rel
            self.long_left *= 1 - cut_share
            e = -math.expm1(-1 / out.liq_exec_seconds)
            sell, buy = self.backlog_sell * e, self.backlog_buy * e
            self.backlog_sell -= sell
            self.backlog_buy -= buy
            flow = sell - buy + cut + out.local_passthrough * self.local_flow
            d_eff = self.d_side * (self.floor + phi + self.latent * 100 * np.maximum(self.x, 0))
            dx = 0.01 * flow / d_eff
            self.x += dx - self.x * math.log(2) / out.half_life_seconds \
                * (out.resilience_floor + phi)
            self.eaten += np.abs(flow) - self.eaten * math.log(2) / out.refill_half_life_seconds \
                * (out.resilience_floor + phi)
            absorbed = portable.fsum(flow) * phi
        else:
            absorbed = 0.0
        liquidated = portable.fsum(sell + buy)
        minute = (clock - 1 - self.start) // 60
        self.liq_minutes[minute] = self.liq_minutes.get(minute, 0.0) + liquidated
        self.stance.step(rel, float(logi[self.tracked]), liquidated + self.local_liq, absorbed)
        self.local_flow[:] = 0.0
        self.local_liq = 0.0
        return logi

    def _cross(self, logi: np.ndarray, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New liquidations (long, short) in USD at the current price: the map's buckets the
        index crossed since the last second."""
        m, rows = self.lmap, np.arange(self.S)
        k = m.bucket(logi - self.logp0)
        lo, hi = np.minimum(self.lo_idx, k), np.maximum(self.hi_idx, k + 1)
        gone_long = m.long_cum[rows, lo] - m.long_cum[rows, self.lo_idx]
        gone_short = m.short_cum[rows, hi] - m.short_cum[rows, self.hi_idx]
        self.lo_idx, self.hi_idx = lo, hi
        return gone_long * self.long_left * rel, gone_short * rel
