"""The rest of the market's leveraged crowd as a liquidation map: notional by liquidation price.

What liquidation heatmaps show traders, per symbol: how much long notional is liquidated if the
price falls to each level, and how much short notional if it rises. The map is drawn once, when
the run is built, from the same distributions as the local crowd (``engine/agents/crowd.py``):
Pareto leverage from ``leverage_min`` (tail ``leverage_tail``, capped per symbol), log-normal
sizes, margin ``initial × (1 + Exp(margin_buffer))``, entries log-normal around the start price;
at the real event's scale (``outside.open_interest_usd × outside.crowd_share``), split long/short
by count with ``crowd.long_share``.

A position's liquidation price, with maintenance-margin rate ``m`` (the instrument's first
bracket), entry ``E``, size ``q`` (coins) and margin ``M``: equity ``M + side·q·(P − E)`` equals
``m·q·P`` at ``P_liq = (side·q·E − M) / (q·(side − m))``.

Survivors: the map is of the positions still open at the start. A position whose liquidation
price lies a gap ``g`` (a share of the price) away survived the day before with chance
``1 − exp(−g / survived_pct)``: without it the map would hold a wall of 100× positions a fraction
of a per cent away that liquidates in the first second (real heatmaps show that band cleared).

Positions are binned into ``bucket_bps`` log-price buckets and cumulated (longs from the top,
shorts from the bottom), so crossing from one price to another is two array lookups.
"""

from __future__ import annotations

import math

import numpy as np

from .. import portable

BUCKET_BPS = 10.0
"""Width of a map bucket in log price (10 bps)."""
MAP_LOW, MAP_HIGH = 0.02, 3.0
"""The map spans 0.02× to 3× the start price; liquidation prices beyond fall in the end buckets."""


class LiquidationMap:
    """Long notional at or above each bucket (``long_cum``) and short notional at or below it
    (``short_cum``), coins × start price (USD at the start price), per symbol."""

    __slots__ = ("grid", "width", "long_cum", "short_cum")

    def __init__(self, rng: np.random.Generator, *, crowd_usd: list[float], long_share: float,
                 leverage_min: float, leverage_tail: float, leverage_max: list[float],
                 margin_buffer: float, entry_spread_pct: float, maint_rate: list[float],
                 survived_pct: float, positions: int):
        self.width = BUCKET_BPS * 1e-4
        self.grid = np.arange(math.log(MAP_LOW), math.log(MAP_HIGH) + self.width, self.width)
        S, B = len(crowd_usd), len(self.grid)
        self.long_cum = np.zeros((S, B + 1))
        """``[s, b]``: long notional whose liquidation bucket is ≥ b."""
        self.short_cum = np.zeros((S, B + 1))
        """``[s, b + 1]``: short notional whose liquidation bucket is ≤ b."""
        for s in range(S):
            for side, share in ((1, long_share), (-1, 1.0 - long_share)):
                hist = self._side(rng, side, crowd_usd[s] * share, leverage_min, leverage_tail,
                                  leverage_max[s], margin_buffer, entry_spread_pct,
                                  maint_rate[s], survived_pct, positions)
                if side > 0:
                    self.long_cum[s, :B] = np.cumsum(hist[::-1])[::-1]
                else:
                    self.short_cum[s, 1:] = np.cumsum(hist)

    def _side(self, rng, side, usd, lev_min, tail, lev_max, buffer, spread_pct, m, survived_pct,
              n) -> np.ndarray:
        if usd <= 0:
            return np.zeros(len(self.grid))
        lev = np.minimum(lev_min * portable.power(rng.uniform(1e-9, 1.0, n), -1.0 / tail),
                         lev_max)
        size = np.minimum(rng.lognormal(0.0, 1.0, n), 40.0)
        buf = rng.exponential(buffer, n)
        entry = portable.exp(rng.normal(0.0, spread_pct / 100, n))    # × start price
        survive = rng.uniform(0.0, 1.0, n)
        notional = size / portable.fsum(size) * usd                   # USD at entry
        qty = notional / entry                                        # coins × start price
        # the margin covers at least initial margin at the start price (it is open now)
        margin = np.maximum(notional / lev * (1 + buf), qty / lev + side * (notional - qty))
        liq = (side * notional - margin) / (qty * (side - m))
        gap = side * (1.0 - liq)
        kept = (liq > 0) & (survive < -portable.expm1(-np.maximum(gap, 0.0)
                                                      / (survived_pct / 100)))
        b = self.bucket(portable.log(np.where(kept, liq, 1.0)))
        return np.bincount(b[kept], weights=qty[kept], minlength=len(self.grid))

    def bucket(self, log_rel: np.ndarray) -> np.ndarray:
        """The bucket of a log price relative to the start price (clipped to the map)."""
        return np.clip(((log_rel - self.grid[0]) / self.width).astype(np.int64), 0,
                       len(self.grid) - 1)
