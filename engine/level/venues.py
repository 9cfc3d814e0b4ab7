"""Venue rule books: ``exchange.venue`` sets the exchange fields that follow one venue's rules.

A level names a venue; every field of its rule book the level does not set itself takes the
venue's value, so a workshop can take a venue and change one part of it. Set later — ``--set
exchange.venue=bitmex``, a variant — the venue replaces the rule-book fields the file set, and a
``--set`` of one of them after it changes that part again (a later setting wins). What each
venue sets, and why (the venues' own documentation; ``tests/engine/test_venues.py`` reproduces
their published examples):

* ``adl_policy`` — how the ADL queue is ranked (``engine.adl.AdlPolicy``);
* ``adl_lights`` — whether the lights bucket the queue by count of positions or by contracts
  (BitMEX: "your priority in the queue in 20% increments", its example weighted by contracts);
* ``adl_drawdown_pct`` — Bybit's and OKX's trigger: ADL once the fund is 30% below its high;
* ``mark_method`` — dYdX and Drift mark to the oracle (the index); the others to a median;
* ``adl_price`` — OKX's ADL executes "at the current mark price", Hyperliquid's at the previous
  mark; the others at the liquidated position's bankruptcy price;
* ``liquidation_limit`` and its companions — dYdX fills a liquidation down to its "fillable
  price", past bankruptcy when the account is deep under water (the fund pays the gap), and
  takes at most a 1.5% penalty of a better fill (``waterfall._fillable``);
* ``margin_tiers`` — Hyperliquid's published tiers (BTC 40x and 1.25% up to $150M, ETH 25x,
  DOGE and the smaller coins 10x: the crowd's leverage is capped by them) and BitMEX's XBTUSD
  risk-limit steps (0.5% to 200 XBT, +0.5% a step); the other venues' tier tables are live data
  their sites do not publish as documents, so they keep the presets' (Binance's)
  (``engine/instruments.py``, ``VENUE_TIERS``);
* ``maintenance_basis`` — BitMEX takes maintenance margin on a position's entry value (its
  example: 1% of 20 × 1,000 = 200 USDT, liquidation at 510), Bybit on an isolated position's
  entry value (``Entry × (1 − IMR + MMR)``); the others on the value at the mark;
* ``tier3`` — Drift does not deleverage: the loss its insurance fund cannot cover is paid by
  every open position in the market, pro rata by base amount, none closed
  (``waterfall._socialize``);
* ``tier_step_down`` — Binance and Bybit first sell, fill-or-kill, what a position holds above the
  next lower maintenance bracket (``engine/exchange/partial.py``, which says where that differs
  from their words: Binance's order is an IOC, Bybit's goes down to the tier that satisfies the
  margin requirement in one order); the other rule books say
  ``False``, so a venue set on a level that steps down (the default level) does not inherit it;
* ``tier_step_to`` — how far one step goes: the next lower bracket (Binance, Bybit) or the lowest
  (OKX's older swap rules; its current preset has no step-down);
* ``clearance_fee`` — Binance charges "a liquidation fee ... on the amount liquidated only" to its
  insurance fund when a step-down leaves the trader trading (the contract's liquidation fee
  rate); a full liquidation gives any venue's fund what the pool has left;
* ``partial_slice_pct`` and its companions — Hyperliquid liquidates a position over 100k USDC
  20% at a time, 30 s apart, and a pool below two thirds of its maintenance whole
  (``engine/exchange/partial.py``).

Not modelled yet (issue 15): Hyperliquid's liquidator vault (its fund stands in: taking a
position over at the bankruptcy price is taking it with what margin is left), OKX's liquidation
fee inside its maintenance threshold. Inverse (coin-margined) contracts run on the headless engine
(``engine.CoinExchange``, ``engine/exchange/inverse.py``), where the same rule-book fields apply
through ``set_rules``; a level cannot list them yet (its agents trade linear contracts).
"""

from __future__ import annotations

import copy

VENUES: dict[str, dict[str, object]] = {
    "binance": {"adl_policy": "binance", "adl_lights": "count", "mark_method": "median3",
                "tier_step_down": True, "clearance_fee": "instrument"},
    "bybit": {"adl_policy": "article", "adl_lights": "count", "adl_drawdown_pct": 30.0,
              "mark_method": "median3", "tier_step_down": True,
              "maintenance_basis": "entry_isolated"},
    "okx": {"adl_policy": "bitmex", "adl_lights": "count", "adl_drawdown_pct": 30.0,
            "mark_method": "median3", "adl_price": "mark", "tier_step_down": False},
    "bitmex": {"adl_policy": "bitmex", "adl_lights": "quantity", "mark_method": "median3",
               "maintenance_basis": "entry", "margin_tiers": "bitmex", "tier_step_down": False},
    "hyperliquid": {"adl_policy": "hyperliquid", "adl_lights": "count", "mark_method": "median3",
                    "margin_tiers": "hyperliquid", "tier_step_down": False,
                    "adl_price": "mark",
                    "partial_slice_pct": 20.0, "partial_min_usd": 100_000,
                    "partial_cooldown_seconds": 30, "backstop_pct": 66.6667},
    "dydx": {"adl_policy": "dydx", "adl_lights": "count", "mark_method": "index",
             "liquidation_limit": "fillable", "fillable_spread_x_mmr": 1.5,
             "liquidation_fee_pct": 1.5, "tier_step_down": False},
    "drift": {"adl_policy": "drift", "adl_lights": "count", "mark_method": "index",
              "tier3": "socialize", "tier_step_down": False},
}
"""Each venue's rule book: exchange field → value."""

VENUE_NAMES = ("none", *VENUES)


def with_venue(raw: dict) -> dict:
    """``raw`` with its venue's rule book filled into ``[exchange]`` wherever the level does not
    set the field itself; ``raw`` as it is without a venue (or with an unknown one, which the
    schema reports)."""
    exchange = raw.get("exchange")
    if not isinstance(exchange, dict):
        return raw
    venue = exchange.get("venue")
    if not isinstance(venue, str) or venue not in VENUES:
        return raw
    out = copy.copy(raw)
    out["exchange"] = {**VENUES[venue], **exchange}
    return out
