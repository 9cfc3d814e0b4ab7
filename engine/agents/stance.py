"""The market-making firms' stance: one risk desk per firm, one stance on every venue.

The firms quote on every venue, so one stance sets both the local ladders
(``engine/agents/market_makers.py``) and the outside depth (``engine/outside/market.py``). Each
second the desk reads what a firm can see and turns it into a **risk** number:

    risk* = (1 + skew_weight · |2·long_share − 1|) · drawdown / dd_ref        (the information edge)
          + liquidations in the last minute (local and market-wide) / liq_ref
          + vol_weight · max(0, σ / σ_calm − 1)
          + inventory the firms absorbed / inventory_ref

smoothed (half-life ``risk_half_life_s``). ``drawdown`` is the depth-weighted fall of the index
from its high (re-anchored when firms come back), the index as the desk reads it: smoothed over
``dd_smoothing_s`` (half-life; 0 reads every tick), so that a desk's limits answer the market's
move rather than a minute's noise; ``σ`` an EWMA of the tracked index's 1-second
returns, the inventory what the firms bought from forced sellers and have not yet hedged away.
The skew term is the firms' information edge: they see the crowd's 87% long positioning, so the
same drawdown weighs 1.74× as much as with a balanced crowd.

Firm ``f`` (thresholds jittered per firm) targets ``φ* = floor + (1 − floor)·clip((pull_f −
risk)/(pull_f − thin_f), 0, 1)`` of its calm depth below its pull threshold (``floor`` is
``thin_floor``: the depth a firm keeps while it is only thinning) and 0 past it, and only ratchets
down towards it — at ``thin_rate`` per second while thinning, ``pull_rate`` once risk passes its
pull threshold; at 0 it has **pulled**. It **returns**
once re-entry is attractive — the index ``rebound_pct`` off its low and market-wide liquidations
under ``calm_liq_usd`` a minute — for ``reentry_hold_s`` plus its own stagger, ramping back to full
over ``ramp_s``. A firm that only thinned recovers slowly once risk falls well below its thinning
threshold. No clock time appears anywhere: when firms thin, pull and return follows from the
news, the noise, the liquidations and these thresholds.

Designated makers (``obligated_firms``) keep ``obligation_depth`` of their depth on every venue,
however high their risk goes. ``withdrawal = "never"`` pins every firm at full depth (the causal
counterfactual);
``"scripted"`` follows ``thin_from``/``pull_at``/``return_at`` instead (workshops that want it).
"""

from __future__ import annotations

import math

import numpy as np

from .. import portable
from .base import AgentState


class FirmStance(AgentState):
    """Risk and depth factor φ (0..1 of calm depth) of every firm."""

    __slots__ = ("p", "F", "thin_at", "pull_at", "delay", "phi", "pulled", "risk", "var",
                 "high", "low", "seen", "attractive_since", "inventory", "liq_ring", "skew", "weights",
                 "last_log", "t", "never", "floor")
    _wiring = ("p",)

    def __init__(self, p, jitter: np.ndarray, *, long_share: float, weights: np.ndarray,
                 never: bool):
        """``p``: the level's market_makers record; ``jitter``: one uniform draw per firm;
        ``weights``: each symbol's share of the calm depth (the drawdown's weights)."""
        self.p = p
        self.F = len(jitter)
        spread = p.threshold_jitter * (jitter - 0.5)
        self.thin_at = p.risk_thin * (1 + spread)
        self.pull_at = p.risk_pull * (1 + spread)
        self.delay = jitter * p.stagger_seconds
        self.phi = np.ones(self.F)
        self.pulled = np.zeros(self.F, dtype=bool)
        self.risk = 0.0
        self.var = (p.calm_vol_bps * 1e-4) ** 2
        self.high: np.ndarray | None = None
        self.low: np.ndarray | None = None
        self.seen: np.ndarray | None = None
        """The index relative to its start as the desk reads it (smoothed)."""
        self.attractive_since: int | None = None
        self.inventory = 0.0
        self.liq_ring = np.zeros(60)
        """Liquidated USD (local and market-wide) in each of the last 60 seconds."""
        self.skew = abs(2 * long_share - 1)
        self.weights = weights
        self.last_log: float | None = None
        self.t = 0
        self.never = never
        self.floor = np.zeros(self.F)
        """The least depth each firm keeps: designated makers (the first ``obligated_firms``)
        stay at ``obligation_depth`` on every venue, whatever their risk."""
        self.floor[:min(self.F, p.obligated_firms)] = p.obligation_depth

    def liquidations_last_minute(self) -> float:
        return portable.fsum(self.liq_ring)

    def step(self, rel: np.ndarray, tracked_log: float, liquidated_usd: float,
             absorbed_usd: float) -> None:
        """One second: ``rel`` the index per symbol relative to its start, ``tracked_log`` the
        log index of the symbol whose volatility the firms watch, ``liquidated_usd`` this
        second's liquidations, ``absorbed_usd`` the net forced selling the firms bought."""
        p = self.p
        t = self.t
        self.liq_ring[t % 60] = liquidated_usd
        liq_min = portable.fsum(self.liq_ring)
        self.inventory += absorbed_usd - self.inventory * math.log(2) / p.inventory_half_life_s
        if self.seen is None or p.dd_smoothing_s <= 0:
            self.seen = rel.copy()
        else:
            self.seen += (1 - 0.5 ** (1 / p.dd_smoothing_s)) * (rel - self.seen)
        rel = self.seen
        if self.high is None or self.low is None:
            self.high, self.low = rel.copy(), rel.copy()
        self.high = np.maximum(self.high, rel)
        self.low = np.minimum(self.low, rel)
        dd = portable.fsum((1 - rel / self.high) * self.weights)
        if self.last_log is not None:
            r = tracked_log - self.last_log
            self.var += math.log(2) / p.vol_half_life_s * (r * r - self.var)
        self.last_log = tracked_log
        volx = math.sqrt(self.var) / (p.calm_vol_bps * 1e-4)
        target_risk = ((1 + p.skew_weight * self.skew) * dd / (p.dd_ref_pct / 100)
                       + liq_min / p.liq_ref_usd + p.vol_weight * max(0.0, volx - 1)
                       + self.inventory / p.inventory_ref_usd)
        self.risk += (1 - 0.5 ** (1 / p.risk_half_life_s)) * (target_risk - self.risk)
        self._move(rel, liq_min)
        self.t = t + 1

    def _move(self, rel: np.ndarray, liq_min: float) -> None:
        p, t, risk, phi = self.p, self.t, self.risk, self.phi
        assert self.low is not None and self.high is not None
        if self.never:
            return
        rebound = portable.fsum((rel / self.low - 1) * self.weights)
        if rebound * 100 >= p.rebound_pct and liq_min < p.calm_liq_usd:
            if self.attractive_since is None:
                self.attractive_since = t
        else:
            self.attractive_since = None
        waited = -math.inf if self.attractive_since is None else t - self.attractive_since
        target = np.clip((self.pull_at - risk) / (self.pull_at - self.thin_at), 0.0, 1.0)
        if p.thin_floor:
            target = np.where(risk >= self.pull_at, 0.0, p.thin_floor + (1 - p.thin_floor) * target)
        returning = (waited >= p.reentry_hold_s + self.delay) & (phi < 1)
        calm = (risk < p.recover_below * self.thin_at) & ~self.pulled
        cut = np.where(risk >= self.pull_at, p.pull_rate, p.thin_rate)
        new = np.where(returning, np.minimum(1.0, phi + 1 / p.ramp_s),
                       np.where(calm, np.minimum(1.0, phi + p.recover_rate),
                                np.maximum(np.minimum(phi, target), phi - cut)))
        if (returning & (phi <= 0)).any():
            self.high = rel.copy()   # firms re-entering re-anchor their drawdown reference
        self.pulled = (self.pulled | (new <= 0)) & ~(returning & (new > 0))
        self.phi = new

    def factor(self, f: int) -> float:
        """Firm f's depth factor, 0..1 of its calm depth (at least its obligation)."""
        return float(max(self.phi[f], self.floor[f]))

    def mean_factor(self, token: float) -> float:
        """The firms' mean depth factor on the outside venues, each keeping at least ``token``
        while pulled (and a designated maker its obligation)."""
        return portable.mean(np.maximum(np.maximum(self.phi, token), self.floor)) if self.F \
            else 0.0
