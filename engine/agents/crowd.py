"""The leveraged crowd: thousands of accounts, as arrays, with positions carried into the session.

Construction (all draws from the simulation's generator):

* each account trades one symbol, chosen with probability ∝ √(crowd notional of the symbol);
* ``long_share`` of the accounts are long (exactly, by count); a share ``hedged_share`` also holds an
  opposite leg in another symbol (cross margin, the article's hedged trader in small), a short
  worth ``hedge_ratio`` of its long leg (hedge legs take at most 90% of a symbol's short side);
* leverage is Pareto-distributed from ``leverage_min`` with tail ``leverage_tail``, times
  ``hedged_leverage_scale`` for hedged accounts, capped at ``leverage_max`` and at the instrument
  bracket's maximum for the position's size;
* sizes are log-normal, scaled so that the longs' notional per symbol is the level's
  ``notional_usd``; the plain shorts (fewer, larger) are scaled so long and short lots net to zero;
* entries spread log-normally (``entry_spread_pct``) around the start price; margin is the initial
  margin times (1 + an exponential buffer), topped up so that every position starts with at
  least its initial margin at the start price (the ones that could not have survived until the
  session starts are not in the crowd);
* ``isolated_share`` of positions are isolated.

Each step the crowd acts (vectorized draws, a handful of orders):

* **cut / take profit** — every 2 s, each losing trader cuts with probability ``panic_rate`` per
  minute per 1% of drawdown, each winner takes profit at ``take_profit_rate`` per minute per 1%
  (the percentage counted up to 100), at most ``cut_clip_usd`` at a time. The draw is thinned, so
  its cost follows the few who act, not the crowd's size: accounts are first picked with the
  highest chance anyone can have (a Bernoulli process walked by geometric gaps), then each pick is
  kept with its own chance over that one — every account still acts with exactly its own chance;
* **re-hedge after ADL** — a share ``rebalance_share`` of traders whose position was closed by ADL
  re-open part of it at market the next step, limited ``rebalance_slippage_pct`` through the
  mark (the article's extra selling);
* **momentum shorts** — while an index is down more than 1% over five minutes, fresh accounts
  short it with ``chase_leverage`` (``chase_usd_per_min``): they are the shorts the rebound squeezes;
* **dip buyers** — from ``dip_buy_from``, flat cash accounts buy at market;
* **stink bids** — resting bids far below the market, placed at the start, that only a crash fills.

**Transparency** (``sees_withdrawals``): when traders can see the market makers' stance live, the
cut and take-profit rates are multiplied by ``1 + withdrawal_reaction × w``, where ``w`` is the
withdrawn share of the firms' calm depth (1 − their mean depth factor): they de-risk as the makers
leave instead of finding out from the fills. ``makers`` (the MarketMakers agent) is attached by
the level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import portable
from .base import AgentState
from ..level.config import CrowdConfig
from ..book import BUY, SELL, Tif
from ..errors import CrashfloorError, InvalidInput
from ..events import AdlFill
from ..margin import max_leverage_vector
from ..units import MONEY_PER_USD

if TYPE_CHECKING:
    from .market_makers import MarketMakers


STINK_ORDERS = 150
"""Resting stink bids per symbol (``Crowd._stink_bids``)."""


class Crowd(AgentState):
    __slots__ = ("cfg", "S", "n", "ids", "hedged_ids", "symbol", "stink_accounts", "dip_ids",
                 "chaser_ids", "index_minutes", "_rehedge", "makers")
    _wiring = ("cfg", "makers")

    def __init__(self, sim, cfg: CrowdConfig, notional_usd: list[float], stink_usd: list[float],
                 stink_depth_pct: list[float], extra: Sequence[tuple] = ()):
        """``extra``: other accounts' legs seeded together with the crowd (the player's starting
        portfolio), as (account, symbol index, lots, entry ticks, isolated margin, leverage)."""
        ex = sim.exchange
        rng = sim.rng
        self.cfg = cfg
        self.S = len(ex.symbols)
        n = int(cfg.accounts)
        self.n = n
        weights = np.sqrt(np.asarray(notional_usd, dtype=float))
        if not portable.fsum(weights) > 0:  # no symbol has a crowd: spread the accounts evenly
            weights = np.ones(self.S)
        sym = rng.choice(self.S, size=n, p=weights / portable.fsum(weights)) if n \
            else np.zeros(0, int)
        lev = cfg.leverage_min * portable.power(rng.uniform(1e-9, 1.0, n),
                                                -1.0 / cfg.leverage_tail)
        lev = np.minimum(lev, cfg.leverage_max)
        size = np.minimum(rng.lognormal(0.0, 1.0, n), 40.0)
        iso = rng.random(n) < cfg.isolated_share
        buffer = rng.exponential(cfg.margin_buffer, n)
        entry_dev = rng.normal(0.0, cfg.entry_spread_pct / 100, n)
        hedged = np.flatnonzero((rng.random(n) < cfg.hedged_share) & ~iso) if self.S > 1 \
            else np.zeros(0, dtype=np.int64)
        # exactly long_share of all legs long: each hedged account holds one long and one short
        side = np.full(n, SELL, dtype=np.int64)
        side[hedged] = BUY
        plain = np.setdiff1d(np.arange(n), hedged)
        longs = round((n + len(hedged)) * cfg.long_share) - len(hedged)
        side[plain[rng.permutation(len(plain))[: max(0, longs)]]] = BUY
        lev[hedged] = np.minimum(lev[hedged] * cfg.hedged_leverage_scale, cfg.leverage_max)
        hedge_sym = (sym[hedged] + rng.integers(1, self.S, len(hedged))) % self.S \
            if self.S > 1 else np.zeros(0, dtype=np.int64)
        self.ids = np.zeros(0, dtype=np.int64)
        legs = [(np.arange(n), sym, side, size, lev, iso, entry_dev, np.full(n, np.nan))]
        if len(hedged):
            # a hedge leg is hedge_ratio of its account's long leg, in USD (the long legs share
            # their symbol's notional by size)
            long_size = np.bincount(sym[side == BUY], size[side == BUY], minlength=self.S)
            per_size = np.divide(np.asarray(notional_usd, dtype=float) * MONEY_PER_USD, long_size,
                                 out=np.zeros(self.S), where=long_size > 0)
            hedge_usd = size[hedged] * per_size[sym[hedged]] * cfg.hedge_ratio
            legs.append((hedged, hedge_sym, -side[hedged], size[hedged], lev[hedged],
                         np.zeros(len(hedged), bool), entry_dev[hedged], hedge_usd))
        self._build(sim, legs, buffer, notional_usd, list(extra))
        self.hedged_ids = self.ids[hedged] if len(self.ids) else np.zeros(0, dtype=np.int64)
        """The accounts holding a hedge (a long and a short leg in two symbols)."""
        self.symbol = sym
        self._stink_bids(sim, stink_usd, stink_depth_pct)
        self.dip_ids = self._cash_pool(sim, cfg.dip_buyers, cfg.dip_buy_usd_per_min * 60)
        self.chaser_ids = self._cash_pool(sim, 500, cfg.chase_usd_per_min * 30
                                          / cfg.chase_leverage)
        for a in self.chaser_ids.tolist():
            for sym_name in ex.symbols:
                ex.set_leverage(a, sym_name, min(cfg.chase_leverage,
                                                 ex.instrument(sym_name).max_leverage))
        self.index_minutes: list[list[int]] = [[] for _ in range(self.S)]
        self._rehedge: list[tuple[int, int, int, int]] = []
        self.makers: MarketMakers | None = None
        """The market makers whose stance the crowd sees when ``sees_withdrawals``."""

    # --- construction --------------------------------------------------------------------------
    def _build(self, sim, legs, buffer, notional_usd, extra) -> None:
        """Open the accounts, fund them, and seed every leg's position symbol by symbol; the
        crowd's lots absorb the extra legs so that every symbol nets to zero.

        A symbol whose crowd holds only one side (few accounts, or ``long_share`` 0 or 1) is
        left flat, unless the player holds it: then the crowd's largest leg there takes the
        other side of the player's (it may flip to do so), and a symbol with no crowd leg at all
        borrows the crowd's largest account for one. Only a crowd of no accounts cannot stand
        against a player's position."""
        ex = sim.exchange
        n = self.n
        margin = np.zeros(n, dtype=np.int64)
        per_symbol: list[tuple | None] = []
        for s in range(self.S):
            inst = ex.instruments[s]
            unit = inst.unit_per_tick_lot
            p0 = ex.marks.index[s]
            mine = [e for e in extra if e[1] == s]
            rows = []
            for acc_idx, sym, side, size, lev, iso, dev, fixed in legs:
                m = sym == s
                rows.append((acc_idx[m], side[m], size[m], lev[m], iso[m], dev[m], fixed[m]))
            if mine and not any(r[0].size for r in rows) and n:
                rows.append(self._counterparty_leg(legs[0], mine))
            idx = np.concatenate([r[0] for r in rows])
            sd = np.concatenate([r[1] for r in rows])
            sz = np.concatenate([r[2] for r in rows])
            lv = np.concatenate([r[3] for r in rows])
            iso = np.concatenate([r[4] for r in rows])
            dev = np.concatenate([r[5] for r in rows])
            fixed = np.concatenate([r[6] for r in rows])
            if idx.size == 0:
                if mine:
                    raise InvalidInput(f"the crowd holds no {ex.symbols[s]} positions to stand "
                                       f"against the player's; raise crowd.accounts (now {n})")
                per_symbol.append(None)
                continue
            target = notional_usd[s] * MONEY_PER_USD
            longs, shorts = sd > 0, sd < 0
            usd_size = np.zeros(len(idx))
            usd_size[longs] = sz[longs] / max(portable.fsum(sz[longs]), 1e-12) * target
            hedges = shorts & ~np.isnan(fixed)
            plain = shorts & ~hedges
            total = portable.fsum(fixed[hedges])
            if total > 0:  # hedge legs at their USD size, at most 90% of the short side
                cap = 0.9 * target if plain.any() else target
                usd_size[hedges] = fixed[hedges] * (min(1.0, cap / total) if plain.any()
                                                    else cap / total)
            usd_size[plain] = sz[plain] / max(portable.fsum(sz[plain]), 1e-12) \
                * (target - portable.fsum(usd_size[hedges]))
            growth = portable.exp(dev)
            entry = np.maximum(1, np.round(p0 * growth)).astype(np.int64)
            lots = np.maximum(1, (usd_size / (entry * unit)).astype(np.int64)) * sd
            if (not shorts.any() or not longs.any()) and not mine:
                per_symbol.append(None)  # one-sided and nobody else to net against: flat
                continue
            residual = int(lots.sum()) + sum(e[2] for e in mine)  # net to zero exactly
            big = np.flatnonzero(shorts if residual > 0 else longs)
            if big.size == 0:  # one-sided: the largest leg takes the player's other side
                big = np.arange(len(lots))
            big = big[np.argmax(np.abs(lots[big]))]
            lots[big] -= residual
            if lots[big] == 0:  # a flipped leg that came out flat: no position at all
                keep = lots != 0
                idx, lots, entry, lv, iso = idx[keep], lots[keep], entry[keep], lv[keep], iso[keep]
            notional = np.abs(lots) * entry * unit
            lv = np.clip(np.minimum(lv, max_leverage_vector(inst, notional)), 1, None)
            im = np.ceil(notional / lv).astype(np.int64)
            pool = (im * (1.0 + buffer[idx])).astype(np.int64)
            upnl0 = lots * (p0 - entry) * unit
            im0 = np.ceil(np.abs(lots) * p0 * unit / lv).astype(np.int64)
            pool = np.maximum(pool, im0 - upnl0 + 1)  # positions that survived until 04:00
            np.add.at(margin, idx, pool)
            per_symbol.append((idx, lots, entry, np.where(iso, pool, 0), np.round(lv), mine))
        self.ids = np.asarray(ex.open_accounts(margin), dtype=np.int64)
        for s, data in enumerate(per_symbol):
            if data is None:
                continue
            idx, lots, entry, iso_margin, lv, mine = data
            accounts = np.concatenate([self.ids[idx], [e[0] for e in mine]]).astype(np.int64)
            ex.acc.leverage[s, accounts] = np.concatenate([lv, [e[5] for e in mine]])
            ex.seed_positions(s, accounts, np.concatenate([lots, [e[2] for e in mine]]),
                              np.concatenate([entry, [e[3] for e in mine]]),
                              np.concatenate([iso_margin, [e[4] for e in mine]]))

    @staticmethod
    def _counterparty_leg(plain, mine) -> tuple:
        """A leg for a symbol where the crowd drew no account but the player holds a position:
        the crowd's largest account (by size; no draw, so the rest of the run is unchanged)
        takes the other side, cross margin, entered at the start price."""
        acc_idx, _, _, size, lev, _, _, _ = plain
        a = int(np.argmax(size))
        side = SELL if sum(e[2] for e in mine) > 0 else BUY
        return (acc_idx[a:a + 1], np.array([side], dtype=np.int64), size[a:a + 1],
                lev[a:a + 1], np.zeros(1, dtype=bool), np.zeros(1), np.full(1, np.nan))

    def _stink_bids(self, sim, stink_usd: list[float], depth_pct: list[float]) -> None:
        """Many traders' resting bids far below the market: ``STINK_ORDERS`` orders per symbol,
        2% below the start plus an exponential depth (mean a third of the way to
        ``stink_bid_depth_pct``, a thinning tail beyond it, never past 89%), sizes log-normal: a
        seeded spread with no last rung, so how deep a wick goes depends on how much forced
        selling reaches the book, not on where a ladder ends."""
        ex = sim.exchange
        self.stink_accounts = []
        for s in range(self.S):
            deepest = depth_pct[s] / 100
            if stink_usd[s] <= 0:
                continue
            a = ex.open_account(round(stink_usd[s] * 1.01, 6))  # on the micro-dollar grid
            ex.set_leverage(a, ex.symbols[s], 1)
            self.stink_accounts.append(a)
            p0 = ex.marks.index[s]
            unit = ex.units[s]
            first = min(0.02, deepest)
            offsets = np.minimum(first + sim.rng.exponential((deepest - first) / 3, STINK_ORDERS),
                                 0.89)
            sizes = sim.rng.lognormal(0.0, 0.8, STINK_ORDERS)
            usd = sizes / portable.fsum(sizes) * stink_usd[s] * MONEY_PER_USD
            for off, order_usd in zip(offsets.tolist(), usd.tolist(), strict=True):
                price = max(1, round(p0 * (1 - off)))
                lots = int(order_usd / (price * unit))
                if lots > 0:
                    try:
                        ex.place_lots(a, s, BUY, lots, price, Tif.GTC)
                    except CrashfloorError:
                        pass  # a bid the exchange refuses (below its price band): not placed

    @staticmethod
    def _cash_pool(sim, count: int, total_usd: float) -> np.ndarray:
        """``count`` flat accounts sharing ``total_usd`` of cash (dip buyers, momentum shorts)."""
        if count <= 0 or total_usd <= 0:
            return np.zeros(0, np.int64)
        cash = int(total_usd * MONEY_PER_USD / count) + MONEY_PER_USD
        return np.asarray(sim.exchange.open_accounts(np.full(count, cash, np.int64)),
                          dtype=np.int64)

    # --- behaviour -------------------------------------------------------------------------------
    def observe(self, sim, events) -> None:
        """Queue re-hedges of crowd accounts that were just deleveraged."""
        share = self.cfg.rebalance_share
        if not len(self.ids):
            return
        lo, hi = int(self.ids[0]), int(self.ids[-1])
        for e in events:
            if type(e) is AdlFill and lo <= e.counterparty <= hi and sim.rng.random() < share:
                s = sim.exchange.index_of(e.symbol)
                qty = max(1, int(e.qty * sim.rng.uniform(0.3, 1.0)))
                self._rehedge.append((e.counterparty, s, e.side, qty))

    def act(self, sim) -> None:
        ex = sim.exchange
        pending, self._rehedge = self._rehedge, []
        for a, s, side, qty in pending:
            self._market(ex, a, s, side, qty, slippage_pct=self.cfg.rebalance_slippage_pct)
        if sim.t % 2 == 0 and self.n:
            self._cut_and_take_profit(sim, 2 * sim.dt / 60)
        if sim.t % 60 == 0:
            for s in range(self.S):
                self.index_minutes[s] = (self.index_minutes[s] + [ex.marks.index[s]])[-6:]
        if len(self.chaser_ids):
            self._chase(sim)
        if sim.clock >= self.cfg.dip_buy_from and len(self.dip_ids):
            self._buy_dip(sim)

    def _market(self, ex, a: int, s: int, side: int, lots: int, reduce_only: bool = False,
                slippage_pct: float | None = None) -> None:
        """A marketable IOC limited at ``slippage_pct`` (default: the crowd's) through the mark:
        the crowd's market orders (real front ends cap market-order slippage too)."""
        mark = ex.marks.mark[s]
        slip = self.cfg.slippage_pct if slippage_pct is None else slippage_pct
        limit = max(1, round(mark * (1 + side * slip / 100)))
        try:
            ex.place_lots(a, s, side, lots, limit, Tif.IOC, reduce_only)
        except CrashfloorError:
            pass

    def _cut_and_take_profit(self, sim, minutes: float) -> None:
        ex = sim.exchange
        rate = minutes
        if self.cfg.sees_withdrawals and self.makers is not None and self.makers.F:
            withdrawn = 1.0 - min(1.0, portable.mean(self.makers.factor))
            rate *= 1.0 + self.cfg.withdrawal_reaction * withdrawn
        panic, profit = self.cfg.panic_rate * rate, self.cfg.take_profit_rate * rate
        top = min(1.0, max(panic, profit) * 100)  # the highest chance: a 100% move
        if top <= 0:
            return
        rows = _bernoulli_rows(sim.rng, len(self.ids), top)
        ids, sym = self.ids[rows], self.symbol[rows]
        qty = ex.acc.qty[sym, ids]
        marks = np.array([m or 0 for m in ex.marks.mark], dtype=np.int64)
        units = np.array(ex.units, dtype=np.int64)
        value = qty * marks[sym] * units[sym]
        notional = np.maximum(np.abs(value), 1)
        pnl_pct = np.clip((value - ex.acc.cost[sym, ids]) / notional * 100, -100, 100)
        p = np.where(pnl_pct < 0, -pnl_pct * panic, pnl_pct * profit)
        keep = sim.rng.random(len(rows)) * top < p
        chosen = np.flatnonzero(keep & (qty != 0))
        clip = self.cfg.cut_clip_usd * MONEY_PER_USD
        for i in chosen[:200].tolist():
            a, s = int(ids[i]), int(sym[i])
            q = ex.acc.q[s, a]
            if q:
                most = max(1, int(clip // (ex.marks.mark[s] * ex.units[s])))
                self._market(ex, a, s, SELL if q > 0 else BUY, min(abs(q), most), True)

    def _chase(self, sim) -> None:
        """Momentum shorts: while an index is down more than 1% over five minutes, fresh accounts
        short it at market with high leverage."""
        ex = sim.exchange
        flow = self.cfg.chase_usd_per_min * MONEY_PER_USD * sim.dt / 60
        for s in range(self.S):
            hist = self.index_minutes[s]
            if len(hist) < 6 or ex.marks.index[s] > hist[0] * 0.99:
                continue
            a = int(self.chaser_ids[sim.rng.integers(0, len(self.chaser_ids))])
            lots = int(flow / (ex.marks.mark[s] * ex.units[s]))
            if lots > 0:
                self._market(ex, a, s, SELL, lots)

    def _buy_dip(self, sim) -> None:
        ex = sim.exchange
        flow = self.cfg.dip_buy_usd_per_min * MONEY_PER_USD * sim.dt / 60
        for s in range(self.S):
            a = int(self.dip_ids[sim.rng.integers(0, len(self.dip_ids))])
            price = ex.marks.mark[s]
            lots = int(flow / (price * ex.units[s]))
            if lots > 0:
                self._market(ex, a, s, BUY, lots)




def _bernoulli_rows(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Ascending rows of 0..n-1, each in with chance ``p``, independently: the gaps between
    successes of a Bernoulli process are geometric, so the cost is the expected n·p draws."""
    if p >= 1.0:
        return np.arange(n)
    out = []
    pos = -1
    while True:
        batch = max(16, int(n * p * 1.1) + 16)
        steps = np.cumsum(rng.geometric(p, batch)) + pos
        if steps[-1] >= n:
            out.append(steps[steps < n])
            break
        out.append(steps)
        pos = int(steps[-1])
    return np.concatenate(out)
