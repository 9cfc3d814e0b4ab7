"""The level file format, as data: every field, its type, default, allowed range and meaning.

``engine.level`` validates files against this table and ``levels/README.md`` documents it. A level
is a TOML file; every field has a default, so a small file is a valid level.

Kinds of node:

* ``Field(kind, default, ...)`` — one value. Kinds: ``int``, ``float``, ``str``, ``bool``,
  ``time`` ("HH:MM" or "HH:MM:SS", HKT), ``usd`` (a number from 0 to at most ``MAX_USD``,
  tighter where the engine multiplies it), ``fraction`` (0..1),
  ``choice`` (one of ``choices``), ``waypoints`` (a list of ["HH:MM", price] pairs, times rising),
  ``strings`` (a list of strings).
* ``Table({...})`` — a TOML table with fixed keys.
* ``PerSymbol(node)`` — a table keyed by the level's symbols (each key must name one of them).
* ``ListOf(Table)`` — an array of tables (``[[news]]``).
"""

from __future__ import annotations

from ..adl import AdlPolicy
from ..instruments import PRESET_SYMBOLS
from ..objectives import METRIC_NAMES
from ..units import MAX_USD
from .nodes import (  # noqa: F401 - the schema's vocabulary, imported from here too
    FORMAT, MAX_ACCOUNT_CELLS, MAX_FIELD_USD, MAX_FLOW_USD, MAX_FUND_USD, MAX_LEVEL_BYTES,
    MAX_LEVEL_MONEY_USD, MAX_NESTING, MAX_PRICE_RISE, MAX_QUOTE_LEVELS, MAX_START_TICKS,
    MAX_SYMBOLS, Field, ListOf, PerSymbol, Table)
from .venues import VENUE_NAMES

ADL_POLICIES = tuple(p.value for p in AdlPolicy)
PRESETS = PRESET_SYMBOLS

SYMBOL = Table({
    "preset": Field("choice", None, "instrument preset (tick, lot, brackets, fees); default: the "
                    "symbol's own name", choices=PRESETS),
    "price": Field("float", None, "index price at the start, USD; at most 10_000_000_000 ticks "
                   "of its preset", min=1e-6, max=1e7, required=True),
    "noise_bps": Field("float", 6.0, "noise of the outside price, basis points per √second "
                       "(mean-reverting: index.noise_reversion_minutes)", min=0, max=500),
    "beta": Field("float", 1.0, "emergent index: the news moves this symbol's value this many "
                  "times as far as index.shock_pct", min=0, max=20),
    "waypoints": Field("waypoints", [], "scripted index: the outside venues' path: "
                       "[[\"HH:MM\", price], ...]; "
                       "linear between waypoints, flat after the last; waypoints before the "
                       "clock's start are skipped; each price at most 10 × the start price"),
}, "one table per traded symbol, e.g. [symbols.BTC]")

GOAL = {
    "metric": Field("choice", None, "what is measured (see the objective vocabulary)",
                    choices=METRIC_NAMES, required=True),
    "at_least": Field("float", None, "a number metric must reach this", min=-1e12, max=1e12),
    "at_most": Field("float", None, "a number metric must stay at or below this", min=-1e12,
                     max=1e12),
    "is": Field("bool", None, "a yes/no metric must be this (default true)"),
    "label": Field("str", "", "shown in the debrief; default: made from the metric"),
}

SCHEMA = Table({
    "format": Field("int", FORMAT, "level format version", min=1, max=FORMAT),
    "base": Field("str", None, "start from another level (a name in the same folder, or a path "
                  "relative to this file): this file's values replace the base's key by key; "
                  "arrays ([[news]], waypoints, [[player.positions]], ...) replace whole"),
    "title": Field("str", "Untitled level", "shown on the title screen"),
    "summary": Field("str", "", "one line for level lists"),
    "briefing": Field("str", "", "the story and the task, shown before play"),
    "lesson": Field("str", "", "the lesson the level teaches (named in the debrief)"),
    "order": Field("int", 100, "place in level lists: smaller first, ties by name", min=0,
                   max=10_000),
    "guide": Field("bool", False, "show the first-run guide (hints pinned to the ADL lights, "
                   "the depth meter, the funds and available margin) the first time a player "
                   "opens this level's floor"),
    "difficulty": Field("choice", "normal", "shown on the title screen",
                        choices=("easy", "normal", "hard")),
    "seed": Field("int", 1, "default random seed", min=0, max=2**32 - 1),
    "clock": Table({
        "start": Field("time", "04:00", "session start, HKT"),
        "end": Field("time", "05:35", "session end, HKT"),
        "epilogue": Field("time", None, "optional: keep running to this time after the end"),
        "step_seconds": Field("int", 1, "simulated seconds per step", min=1, max=60),
        "speed": Field("float", 10.0, "default UI speed (sim seconds per wall second)",
                       min=0.1, max=600),
    }),
    "symbols": PerSymbol(SYMBOL, "the traded contracts; at least one"),
    "tracked_symbol": Field("str", None, "the symbol whose ±1% depth the depth meter and the "
                            "facts follow; default: the first symbol"),
    "exchange": Table({
        "venue": Field("choice", "none", "a venue's rule book: sets its ADL ranking, lights, "
                       "price and trigger, mark, maintenance tiers and basis, tier 3, risk-tier "
                       "step-down, clearance fee, fillable price and partial liquidation wherever the level does not set "
                       "them itself (engine/level/venues.py)", choices=VENUE_NAMES),
        "adl_policy": Field("choice", "article", "how the ADL queue is ranked: a venue's "
                            "(article, bitmex, binance, hyperliquid, dydx, drift) or a benchmark "
                            "(pro_rata, pro_rata_profit, capped_pro_rata, optimal: the least "
                            "profit taken)", choices=ADL_POLICIES),
        "mark_method": Field("choice", "median3", "mark price: median of three, or the index",
                             choices=("median3", "index")),
        "fund_shared": Field("bool", False, "one insurance fund for all contracts"),
        "fund_floor": Field("usd", 0, "USD the fund never goes below; at most every fund's "
                            "starting size", max=MAX_FUND_USD),
        "insurance_fund": PerSymbol(Field("usd", 1_000_000, "insurance fund per contract, USD; "
                                          "times fund_multiplier at most 100_000_000_000",
                                          max=MAX_FUND_USD),
                                    "per contract; with fund_shared, key 'shared' sizes the one "
                                    "fund (default: the sum of the contracts' funds)"),
        "fund_multiplier": Field("float", 1.0, "scales every fund (20 = BitMEX-like)",
                                 min=0, max=1000),
        "workout_slippage_bps": Field("float", 50, "the fund works positions out no worse than "
                                      "this from mark", min=0, max=5000),
        "takeover_stress_pct": Field("float", 0, "the fund takes a position over only while its "
                                     "inventory could move this much further against it and "
                                     "stay within its budget; beyond that, ADL", min=0, max=95),
        "adl_drawdown_pct": Field("float", 0, "Bybit's ADL trigger: while a fund's equity is "
                                  "this far below its high, liquidations go to ADL, not to the "
                                  "fund (0 = off)", min=0, max=95),
        "stop_trigger": Field("choice", "mark", "the price stop and take-profit orders watch",
                              choices=("mark", "last")),
        "adl_lights": Field("choice", "count", "how the ADL lights bucket the queue in 20% "
                            "steps: by count of positions (Bybit, Binance) or by quantity of "
                            "contracts (BitMEX)", choices=("count", "quantity")),
        "adl_price": Field("choice", "bankruptcy", "the price ADL closes at: the liquidated "
                           "position's bankruptcy price (Binance, Bybit, BitMEX, dYdX) or the mark "
                           "(OKX, Hyperliquid: the winners lose nothing against the mark; the "
                           "funds pay the gap, or it stays as bad debt)",
                           choices=("bankruptcy", "mark")),
        "liquidation_limit": Field("choice", "bankruptcy", "how far a liquidation's book order "
                                   "may go: no worse than the bankruptcy price, or dYdX's "
                                   "fillable price (mark × (1 − side × ABR × spread × MMR), past "
                                   "bankruptcy when the account is deep under water: the funds "
                                   "pay the gap)", choices=("bankruptcy", "fillable")),
        "fillable_spread_x_mmr": Field("float", 1.5, "fillable price: the most its spread from "
                                       "the mark is, in multiples of the maintenance rate (dYdX: "
                                       "1.5)", min=0, max=100),
        "liquidation_fee_pct": Field("float", 1.5, "fillable price: of a fill better than "
                                     "bankruptcy, at most this share of its notional goes to the "
                                     "fund as the liquidation penalty; the rest stays with the "
                                     "trader (dYdX: 1.5%)", min=0, max=100),
        "maintenance_basis": Field("choice", "mark", "what a position's maintenance margin is "
                                   "taken on: its value at the mark (Binance, OKX, Hyperliquid, "
                                   "dYdX, Drift), its entry value (BitMEX), or the entry value "
                                   "of isolated positions only (Bybit)",
                                   choices=("mark", "entry", "entry_isolated")),
        "tier3": Field("choice", "adl", "what happens to a liquidation neither the book nor the "
                       "fund can carry: ADL closes winners in queue order (the CEXs, Hyperliquid, "
                       "dYdX), or, as Drift, the fund takes it anyway and what it loses beyond its "
                       "budget is paid by every open position in the contract, pro rata by size, "
                       "nobody closed", choices=("adl", "socialize")),
        "tier_step_down": Field("bool", False, "Binance's and Bybit's risk-tier step-down: a pool "
                                "under water first sells, fill-or-kill at no worse than "
                                "bankruptcy, what its largest position holds above the next "
                                "lower maintenance bracket; only if that cannot fill, the whole "
                                "waterfall"),
        "margin_tiers": Field("choice", "preset", "the maintenance tiers (rate, maximum leverage "
                              "by position size): the symbol presets' (Binance's), or a venue's "
                              "published ones where it has them (Hyperliquid: BTC 1.25% to 40x "
                              "up to $150M; BitMEX: XBTUSD's risk-limit steps)",
                              choices=("preset", "hyperliquid", "bitmex")),
        "tier_step_to": Field("choice", "next", "risk-tier step-down: to the next lower "
                              "maintenance bracket (Binance, Bybit) or straight to the lowest, "
                              "as OKX's older swap rules (15,000 swaps at tier 3: 13,000 closed "
                              "to bring it to tier 1's 2,000)", choices=("next", "lowest")),
        "clearance_fee": Field("choice", "none", "Binance's insurance clearance fee: a partial "
                               "liquidation (a risk-tier step-down, a slice) pays the contract's "
                               "liquidation fee rate (BTC, ETH, DOGE 0.5%, ALT 1%) of the "
                               "notional it sells to the insurance fund; a full liquidation "
                               "gives the fund what the pool has left, with or without it",
                               choices=("none", "instrument")),
        "partial_slice_pct": Field("float", 0, "partial liquidation (Hyperliquid): a pool under "
                                   "water sells this share of each position into the book, then "
                                   "waits partial_cooldown_seconds before the next slice (0 = "
                                   "off: the whole pool is liquidated at once)", min=0, max=100),
        "partial_min_usd": Field("usd", 100_000, "partial liquidation: a pool under this notional "
                                 "is liquidated whole", max=MAX_FIELD_USD),
        "partial_cooldown_seconds": Field("int", 30, "partial liquidation: seconds between two "
                                          "slices of one pool", min=0, max=3600),
        "backstop_pct": Field("float", 66.6667, "partial liquidation: a pool whose equity is "
                              "below this share of its maintenance margin goes through the whole "
                              "waterfall at once (Hyperliquid's backstop at two thirds)", min=0,
                              max=100),
        "adl_exempt_player": Field("bool", False, "counterfactual: the player's positions are "
                                   "last in every ADL queue (after the funds), so the debrief "
                                   "can show what ADL did to them"),
        "fund_sizing": Field("choice", "fixed", "fixed: the amounts above; stress: each "
                             "contract's fund is the bad debt its positions would leave after "
                             "a move of fund_stress_pct against them (times fund_multiplier)",
                             choices=("fixed", "stress")),
        "fund_stress_pct": Field("float", 15.0, "the stress move for fund_sizing = stress, %",
                                 min=0.1, max=95),
        "adl_breaker_usd_per_min": Field("usd", 0, "ADL circuit breaker: at most this notional "
                                         "per contract per minute is auto-deleveraged; the rest "
                                         "stays with the insurance fund, which may go into "
                                         "deficit (bad debt). 0 = no breaker",
                                         max=MAX_FIELD_USD),
        "halt_drop_pct": Field("float", 0, "trading halt: a contract whose mark falls this far "
                               "below its high of the last halt_window_minutes stops trading "
                               "(no matching, no liquidations) for halt_minutes. 0 = no halts",
                               min=0, max=99),
        "halt_window_minutes": Field("int", 5, "look-back window of the halt rule", min=1,
                                     max=120),
        "halt_minutes": Field("int", 5, "how long a halt lasts", min=1, max=120),
    }),
    "index": Table({
        "mode": Field("choice", "scripted", "emergent: the outside market responds to flow "
                      "(news moves value a few per cent; liquidations against the firms' depth "
                      "make the rest); scripted: the index follows each symbol's waypoints",
                      choices=("emergent", "scripted")),
        "shock_at": Field("time", "04:00", "emergent: when the headline lands"),
        "shock_pct": Field("float", 3.5, "emergent: how far the headline moves value (BTC; "
                           "times each symbol's beta), %", min=0, max=90),
        "shock_minutes": Field("float", 50.0, "emergent: time constant of the headline's move",
                               min=0.1, max=1000),
        "open_at": Field("time", "05:00", "emergent: the second leg (the US open)"),
        "open_pct": Field("float", 1.2, "emergent: the second leg's move, %", min=0, max=90),
        "open_minutes": Field("float", 10.0, "emergent: time constant of the second leg",
                              min=0.1, max=1000),
        "shock_scale": Field("float", 1.0, "emergent: scales both legs (0.5 = half the shock)",
                             min=0, max=10),
        "shock_jitter": Field("fraction", 0.08, "emergent: seeded size of the news (the legs "
                              "are × 1 + this × a standard normal draw)"),
        "noise_reversion_minutes": Field("float", 15.0, "the noise's mean-reversion time",
                                         min=0.1, max=10_000),
        "noise_common": Field("fraction", 0.7, "share of the noise common to every symbol"),
    }, "the index the exchange marks against: the outside venues"),
    "outside": Table({
        "open_interest_usd": PerSymbol(Field("usd", 1_000_000_000, "market-wide open interest "
                                             "(every venue)", max=MAX_USD // 10), "per symbol"),
        "crowd_share": Field("fraction", 0.4, "share of the open interest held by the leveraged "
                             "crowd (its liquidation map; split long/short by crowd.long_share)"),
        "depth_usd": PerSymbol(Field("usd", 100_000_000, "all venues' calm depth within ±1%, both "
                                     "sides (the same firms quote everywhere)",
                                     max=MAX_USD // 10), "per symbol"),
        "depth_floor": PerSymbol(Field("fraction", 0.03, "resting depth that is not the firms', "
                                       "a share of the calm depth"), "per symbol"),
        "latent": PerSymbol(Field("float", 0.1, "buyers who appear as the price runs from value: "
                                  "depth added per 1% of dislocation, a share of the calm depth",
                                  min=0, max=10), "per symbol"),
        "leverage_max": PerSymbol(Field("float", 100.0, "highest leverage in the market-wide "
                                        "crowd", min=1, max=125), "per symbol"),
        "survived_pct": Field("float", 1.5, "positions this close to liquidation (% of the "
                              "price) were mostly liquidated before the start", min=0.01,
                              max=100),
        "map_positions": Field("int", 20_000, "positions drawn per symbol and side for the "
                               "liquidation map", min=1, max=1_000_000),
        "liq_exec_seconds": Field("float", 30.0, "liquidation engines work their backlog off "
                                  "with this e-time", min=1, max=3600),
        "half_life_seconds": Field("float", 45.0, "price impact halves this fast while the firms "
                                   "quote in full (slower as they withdraw)", min=1, max=86_400),
        "resilience_floor": Field("fraction", 0.03, "resilience left when every firm has pulled"),
        "refill_half_life_seconds": Field("float", 30.0, "depth eaten by flow refills this fast "
                                          "(at full maker depth)", min=1, max=86_400),
        "local_passthrough": Field("fraction", 1.0, "share of this exchange's net forced flow "
                                   "the arbitrageurs carry to the outside venues"),
    }, "emergent index: the rest of the market"),
    "market_makers": Table({
        "firms": Field("int", 5, "number of market-making firms", min=0, max=50),
        "capital_usd": Field("usd", 50_000_000, "capital per firm", max=MAX_FIELD_USD),
        "levels": Field("int", 8, "quote levels per side", min=1, max=50),
        "half_spread_bps": Field("float", 2.0, "normal half-spread at the touch", min=0.1,
                                 max=1000),
        "level_step_bps": Field("float", 12.0, "distance between ladder levels", min=0.1,
                                max=1000),
        "depth_usd": PerSymbol(Field("usd", 1_000_000, "all firms' quoted depth within ±1% of mid "
                                     "in calm markets, both sides", max=MAX_FLOW_USD),
                               "per symbol"),
        "inventory_limit_x": Field("float", 10.0, "per firm per symbol, in multiples of its calm "
                                   "quoted depth; quotes skew, then stop on the side that adds",
                                   min=0.1, max=1000),
        "skew_bps": Field("float", 20.0, "price skew at the inventory limit", min=0, max=5000),
        "requote_bps": Field("float", 5.0, "re-centre the ladder when fair value moves this far",
                             min=0.1, max=1000),
        "withdrawal": Field("choice", "emergent", "emergent: from the firms' risk (thresholds "
                            "below); scripted: at the times below; never: they stay in full "
                            "(the counterfactual)", choices=("emergent", "scripted", "never")),
        "widen_at": Field("time", "04:00", "news: spreads widen (scripted)"),
        "widen_factor": Field("float", 2.0, "spread multiple once widened", min=1, max=100),
        "thin_from": Field("time", "04:40", "depth starts to thin (scripted)"),
        "pull_at": Field("time", "05:00", "full withdrawal (scripted)"),
        "return_at": Field("time", "05:35", "quotes come back"),
        "risk_thin": Field("float", 2.3, "risk at which a firm starts thinning (emergent; "
                           "engine/agents/stance.py defines the risk)", min=0, max=100),
        "risk_pull": Field("float", 3.8, "risk at which a firm pulls all quotes", min=0,
                           max=100),
        "threshold_jitter": Field("fraction", 0.15, "firms' thresholds spread ± half this"),
        "dd_ref_pct": Field("float", 3.0, "risk: a depth-weighted drawdown of this many per cent "
                            "counts 1", min=0.01, max=100),
        "dd_smoothing_s": Field("float", 0.0, "risk: the desk reads the drawdown from the index "
                                "smoothed over this half-life (0: every tick)", min=0,
                                max=86_400),
        "skew_weight": Field("float", 1.0, "risk: the information edge, drawdown × (1 + this × "
                             "|2 × crowd.long_share − 1|)", min=0, max=100),
        "liq_ref_usd": Field("usd", 400_000_000, "risk: liquidations per minute (local and "
                             "market-wide) that count 1", min=1, max=MAX_USD // 10),
        "risk_half_life_s": Field("float", 60.0, "risk desks smooth the signal", min=1,
                                  max=86_400),
        "inventory_ref_usd": Field("usd", 1_500_000_000, "risk: inventory bought from forced "
                                   "sellers (every venue) that counts 1", min=1,
                                   max=MAX_USD // 10),
        "inventory_half_life_s": Field("float", 900.0, "firms hedge absorbed inventory away "
                                       "this fast", min=1, max=86_400),
        "vol_weight": Field("float", 0.15, "risk: weight of volatility above calm", min=0,
                            max=100),
        "vol_half_life_s": Field("float", 120.0, "volatility estimate's half-life", min=1,
                                 max=86_400),
        "calm_vol_bps": Field("float", 1.5, "calm 1-second volatility of the tracked index",
                              min=0.01, max=1000),
        "calm_liq_usd": Field("usd", 60_000_000, "return: liquidations per minute below this",
                              max=MAX_USD // 10),
        "reentry_hold_s": Field("float", 300.0, "return: conditions hold this long (+ the "
                                "firm's stagger)", min=0, max=86_400),
        "ramp_s": Field("float", 600.0, "a returning firm goes from 0 to full depth in this "
                        "time", min=1, max=86_400),
        "thin_rate": Field("float", 1 / 1200, "a thinning firm cuts at most this share of its "
                           "depth a second", min=1e-6, max=1),
        "pull_rate": Field("float", 1 / 120, "a firm past its pull threshold cuts this share a "
                           "second", min=1e-6, max=1),
        "thin_floor": Field("fraction", 0.0, "the share of its depth a thinning firm keeps until "
                            "risk reaches its pull threshold (then it pulls at pull_rate)"),
        "recover_below": Field("fraction", 0.6, "a firm that only thinned recovers once risk is "
                               "under this share of its thinning threshold"),
        "recover_rate": Field("float", 1 / 900, "… at this share of its depth a second",
                              min=1e-6, max=1),
        "token_presence": Field("fraction", 0.02, "share of normal depth a firm keeps quoting "
                                "(at its widest) while pulled"),
        "rebound_pct": Field("float", 3.0, "return: the depth-weighted index is this far above "
                             "its low (and liquidations have calmed)", min=0, max=100),
        "stagger_seconds": Field("int", 120, "spread of firms' reaction times", min=0, max=3600),
        "obligated_firms": Field("int", 0, "designated market makers: this many firms (the "
                                 "first ones) are under quoting obligations and never thin "
                                 "below them", min=0, max=50),
        "obligation_depth": Field("fraction", 0.5, "an obligated firm keeps at least this share "
                                  "of its calm depth on the book"),
        "obligation_spread_bps": Field("float", 40.0, "an obligated firm's inside quotes stay "
                                       "within this distance of fair value", min=0.1, max=5000),
    }),
    "crowd": Table({
        "accounts": Field("int", 20_000, "leveraged traders", min=0, max=5_000_000),
        "long_share": Field("fraction", 0.87, "share of positions that are long, by count"),
        "leverage_min": Field("float", 2.0, "lowest leverage", min=1, max=125),
        "leverage_max": Field("float", 100.0, "highest leverage", min=1, max=125),
        "leverage_tail": Field("float", 1.2, "Pareto tail index of leverage (smaller: heavier)",
                               min=0.1, max=10),
        "isolated_share": Field("fraction", 0.25, "positions in isolated margin"),
        "hedged_share": Field("fraction", 0.03, "accounts holding a long/short hedge"),
        "hedged_leverage_scale": Field("float", 1.0, "hedged accounts lever up this many times "
                                       "(they count on the hedge), at most leverage_max",
                                       min=1, max=100),
        "hedge_ratio": Field("float", 0.5, "a hedged account's short leg, as a share of its long "
                             "leg's size", min=0.01, max=1),
        "margin_buffer": Field("float", 0.3, "extra margin above initial, as a share of it (mean)",
                               min=0, max=10),
        "entry_spread_pct": Field("float", 2.5, "entries spread around the start price, %",
                                  min=0, max=50),
        "notional_usd": PerSymbol(Field("usd", 10_000_000, "crowd open interest per symbol "
                                        "(long side), USD", max=MAX_FLOW_USD),
                                  "per symbol"),
        "panic_rate": Field("float", 0.0005, "chance per minute that a losing trader cuts, per 1% "
                            "drawdown", min=0, max=1),
        "take_profit_rate": Field("float", 0.0005, "chance per minute that a winning trader takes "
                                  "profit, per 1% gain", min=0, max=1),
        "stink_bids_usd": PerSymbol(Field("usd", 200_000, "resting crowd bids far below the "
                                          "market, USD per symbol", max=MAX_FLOW_USD),
                                    "per symbol"),
        "stink_bid_depth_pct": PerSymbol(Field("float", 50.0, "deepest stink bid, % below the "
                                               "start price (the exchange's price band refuses "
                                               "bids more than 90% below the mark)", min=1,
                                               max=90), "per symbol"),
        "cut_clip_usd": Field("usd", 100_000, "largest single order of a trader cutting a "
                              "position or taking profit", max=MAX_FLOW_USD),
        "chase_usd_per_min": Field("usd", 0, "momentum shorts opened per symbol per minute while "
                                   "the index falls fast (they get squeezed on the rebound)",
                                   max=MAX_FLOW_USD),
        "chase_leverage": Field("int", 25, "leverage of the momentum shorts", min=1, max=125),
        "dip_buyers": Field("int", 200, "flat accounts with cash that buy the dip late", min=0,
                            max=100_000),
        "slippage_pct": Field("float", 50.0, "how far through the mark the crowd's market orders "
                              "may fill (real front ends cap it; in a crash it hardly binds)",
                              min=0.01, max=99),
        "rebalance_share": Field("fraction", 0.5, "share of ADL'd traders who re-hedge by selling"),
        "rebalance_slippage_pct": Field("float", 50.0, "how far through the mark a re-hedge may "
                                        "fill", min=0.01, max=90),
        "dip_buy_from": Field("time", "05:25", "dip buyers start"),
        "dip_buy_usd_per_min": Field("usd", 200_000, "dip-buying flow per symbol per minute",
                                     max=MAX_FLOW_USD),
        "sees_withdrawals": Field("bool", False, "transparency: traders see market makers' "
                                  "quoted depth live and de-risk as it is withdrawn"),
        "withdrawal_reaction": Field("float", 4.0, "with sees_withdrawals: cut and take-profit "
                                     "rates are multiplied by 1 + this × the withdrawn share of "
                                     "the calm depth", min=0, max=100),
    }),
    "arbitrage": Table({
        "capital_usd": Field("usd", 20_000_000, "arbitrageurs' total capital",
                             max=MAX_FIELD_USD),
        "threshold_bps": Field("float", 25.0, "gap to the index before they trade", min=0,
                               max=10_000),
        "clip_usd": Field("usd", 250_000, "largest trade per symbol per action",
                          max=MAX_FLOW_USD),
        "every_seconds": Field("int", 5, "latency: how often they act", min=1, max=600),
    }),
    "news": ListOf(Table({
        "at": Field("time", None, "HKT", required=True),
        "headline": Field("str", None, "shown on the ticker", required=True),
    }), "the news timeline: [[news]] tables"),
    "player": Table({
        "role": Field("choice", "none", "who the player is", choices=("none", "hedger", "maker")),
        "equity_usd": Field("usd", 1_000_000, "starting equity of the player's account",
                            max=MAX_FIELD_USD),
        "spot_usd": Field("usd", 0, "the player's spot wallet: money outside the futures "
                          "account that a transfer (t) moves in or out", max=MAX_FIELD_USD),
        "maker_symbol": Field("str", None, "the maker's quoted symbol; default: the first symbol"),
        "maker_quoting": Field("bool", False, "maker: the desk is already quoting (its default "
                               "ladder) when the session starts"),
        "maker_rebate_bps": Field("float", 0.0, "maker: fee rebate on the desk's filled volume, "
                                  "paid each minute (with obligations: only for minutes that "
                                  "met them)", min=0, max=100),
        "obligations": Table({
            "enabled": Field("bool", False, "the maker desk is a designated market maker"),
            "min_uptime_pct": Field("float", 90.0, "share of each minute (and of the session) "
                                    "the desk must quote as obligated", min=0, max=100),
            "max_spread_bps": Field("float", 50.0, "the desk's best bid and ask must be at most "
                                    "this far apart", min=0.1, max=5000),
            "min_depth_usd": Field("usd", 200_000, "the desk's own quotes within ±1% of the mark, "
                                   "both sides together", max=MAX_FLOW_USD),
            "penalty_usd_per_minute": Field("usd", 2_000, "charged for each minute that misses "
                                            "the obligations (and its rebate is withheld)",
                                            max=MAX_FLOW_USD),
        }, "maker: quoting obligations of a designated market maker"),
        "positions": ListOf(Table({
            "symbol": Field("str", None, "a level symbol", required=True),
            "side": Field("choice", None, "long or short", choices=("long", "short"),
                          required=True),
            "notional_usd": Field("usd", None, "size in USD at the start price", min=1,
                                  max=MAX_FLOW_USD,
                                  required=True),
            "leverage": Field("int", 10, "leverage setting", min=1, max=125),
            "margin": Field("choice", "cross", "margin mode", choices=("cross", "isolated")),
        }), "the starting portfolio: [[player.positions]]", max_items=8),
    }),
    "scoring": Table({
        "par": Field("int", 60, "the score a facilitator expects of a good first attempt",
                     min=0, max=100),
        "star1": Field("int", 40, "score for one star", min=0, max=100),
        "star2": Field("int", 70, "score for two stars", min=0, max=100),
        "star3": Field("int", 90, "score for three stars", min=0, max=100),
    }, "how objectives add up to a score (0–100) and stars"),
    "objectives": ListOf(Table(dict(GOAL, weight=Field("float", 1.0, "the objective's share of "
                                                        "the score", min=0, max=100))),
                         "what the player is asked to do: [[objectives]]", max_items=20),
    "lesson_checks": ListOf(Table(GOAL), "when the lesson shows up in a run: [[lesson_checks]] "
                            "(all must hold)", max_items=10),
    "variants": ListOf(Table({
        "name": Field("str", None, "short name (used by --variant and the briefing)",
                      required=True),
        "label": Field("str", "", "shown in the briefing"),
        "set": Field("strings", [], "overrides, as for --set: [\"exchange.fund_multiplier=20\"]"),
    }), "choices the briefing offers before play (e.g. the fund size): [[variants]]",
        max_items=12),
})


def walk(node=SCHEMA, path: str = ""):
    """Yield (dotted path, Field) for every field (PerSymbol as ``<SYM>``, lists as ``[]``)."""
    if isinstance(node, Field):
        yield path, node
    elif isinstance(node, Table):
        for key, child in node.fields.items():
            yield from walk(child, f"{path}.{key}" if path else key)
    elif isinstance(node, PerSymbol):
        yield from walk(node.node, f"{path}.<SYM>")
    elif isinstance(node, ListOf):
        yield from walk(node.table, f"{path}[]")


