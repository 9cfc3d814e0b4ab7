"""Assemble a level into a running crash: exchange, outside index, agents, player, recorder.

    from engine.level import load_level
    from engine.crash import CrashRun
    run = CrashRun(load_level("levels/1011.toml"), seed=3)
    run.run()                       # to the level's end
    print(run.summary()["symbols"]["BTC"]["max_drawdown_pct"])
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from collections.abc import Callable

import numpy as np

from . import portable
from .agents.arbitrage import Arbitrageurs
from .agents.crowd import Crowd
from .agents.market_makers import MarketMakers
from .agents.wallet import SpotWallet
from .agents.player_maker import PlayerDesk
from .agents.stance import FirmStance
from .clock import fmt_hhmm, parse_hhmm
from .errors import InvalidInput
from .instruments import Instrument
from .level.config import ExchangeConfig, LevelConfig
from .objectives import score
from .outside import OutsideMarket
from .recorder import Recorder
from .sim import Simulation
from .summary import RunReport
from .units import MONEY_PER_USD


class CrashRun:
    """A level, built and ready to step. ``seed`` defaults to the level's."""

    _dropped_fields = ("scenario",)
    """A format-2 save's scenario (the outside market, ``outside``, now)."""

    def __init__(self, level, seed: int | None = None):
        self.level = level
        cfg = level.config
        self.seed = cfg.seed if seed is None else seed
        symbols = list(cfg.symbols)
        instruments = [Instrument.preset(cfg.symbols[sym].preset or sym) for sym in symbols]
        instruments = [inst if inst.symbol == sym else _renamed(inst, sym)
                       for inst, sym in zip(instruments, symbols, strict=False)]
        clock, exch = cfg.clock, cfg.exchange
        if exch.margin_tiers != "preset":  # a venue's published tiers (instruments.VENUE_TIERS)
            instruments = [inst.with_tiers(exch.margin_tiers, cfg.symbols[sym].preset or sym,
                                           cfg.symbols[sym].price)
                           for inst, sym in zip(instruments, symbols, strict=True)]
        self.sim = sim = Simulation(
            instruments, seed=self.seed, start=fmt_hhmm(clock.start, with_seconds=True),
            end=fmt_hhmm(clock.epilogue or clock.end, with_seconds=True),
            step_seconds=clock.step_seconds, insurance_fund=self._funds(exch, symbols),
            shared_fund=exch.fund_shared, fund_floor=exch.fund_floor,
            adl_policy=exch.adl_policy, mark_method=exch.mark_method,
            workout_slippage_ppm=round(exch.workout_slippage_bps * 100),
            takeover_stress_ppm=round(exch.takeover_stress_pct * 10_000),
            adl_drawdown_ppm=round(exch.adl_drawdown_pct * 10_000))
        sim.exchange.set_rules(adl_breaker_usd_per_min=exch.adl_breaker_usd_per_min,
                               halt_drop_pct=exch.halt_drop_pct,
                               halt_window_minutes=exch.halt_window_minutes,
                               halt_minutes=exch.halt_minutes, stop_trigger=exch.stop_trigger,
                               adl_lights=exch.adl_lights,
                               partial_slice_pct=exch.partial_slice_pct,
                               partial_min_usd=exch.partial_min_usd,
                               partial_cooldown_seconds=exch.partial_cooldown_seconds,
                               backstop_pct=exch.backstop_pct, adl_price=exch.adl_price,
                               liquidation_limit=exch.liquidation_limit,
                               fillable_spread_x_mmr=exch.fillable_spread_x_mmr,
                               liquidation_fee_pct=exch.liquidation_fee_pct,
                               tier_step_down=exch.tier_step_down, tier3=exch.tier3,
                               maintenance_basis=exch.maintenance_basis,
                               clearance_fee=exch.clearance_fee,
                               tier_step_to=exch.tier_step_to)
        self.session_end = clock.end
        self.modified: str | None = None
        """Why this run is marked modified (a save from another engine build, or one a re-run
        did not reproduce: ``engine/saves/runs.py``), or None for a clean run."""
        mm = cfg.market_makers
        tracked = cfg.tracked_symbol or symbols[0]
        depth = np.asarray([mm.depth_usd[s] for s in symbols], dtype=float)
        total = portable.fsum(depth)
        self.stance = FirmStance(mm, sim.rng.uniform(0.0, 1.0, mm.firms),
                                 long_share=cfg.crowd.long_share,
                                 weights=depth / total if total else depth,
                                 never=mm.withdrawal == "never")
        self.outside = OutsideMarket(
            cfg, sim.rng, self.stance, prices=[cfg.symbols[s].price for s in symbols],
            ticks=[float(inst.tick_size) for inst in instruments],
            maint_rate=[inst.brackets[0].mmr_ppm / 1e6 for inst in instruments],
            start=clock.start, tracked=symbols.index(tracked))
        self.outside.start_run(sim)
        self.player = self._player(cfg, symbols)
        if exch.adl_exempt_player and self.player is not None:
            sim.exchange.rules.exempt_from_adl((self.player,))
        self.makers = MarketMakers(sim, mm, [mm.depth_usd[s] for s in symbols], self.stance)
        self.arbs = Arbitrageurs(sim, cfg.arbitrage)
        crowd = cfg.crowd
        self.crowd = Crowd(sim, crowd, [crowd.notional_usd[s] for s in symbols],
                           [crowd.stink_bids_usd[s] for s in symbols],
                           [crowd.stink_bid_depth_pct[s] for s in symbols],
                           extra=self._player_legs(cfg, symbols))
        self.crowd.makers = self.makers
        if exch.fund_sizing == "stress":
            self._stress_funds(exch)
        sim.scenario.append(self.outside)
        sim.agents.extend([self.makers, self.arbs, self.crowd])
        self.desk = None
        player = cfg.player
        if player.role == "maker":
            assert self.player is not None  # a maker level has a player (role is not "none")
            sym = player.maker_symbol or symbols[0]
            self.desk = PlayerDesk(sim, self.player, symbols.index(sym), player.maker_rebate_bps,
                                   player.obligations)
            sim.add_desk(self.desk)
            if player.maker_quoting:
                self.desk.settings.quoting = True
        self.wallet = None
        if self.player is not None and player.spot_usd > 0:
            self.wallet = SpotWallet(self.player, player.spot_usd)
            sim.add_wallet(self.wallet)

        self.makers.act(sim)  # the books open full, before the first step
        sim.exchange.settle()
        self.recorder = Recorder(sim, tracked=symbols.index(tracked), crowd_ids=self.crowd.ids,
                                 hedger=self.player, groups=self._groups(), role=player.role,
                                 desk=self.desk, hedged_ids=self.crowd.hedged_ids,
                                 outside=self.outside, session_end=clock.end,
                                 wallet=self.wallet)
        sim.listeners.extend(self._listeners())

    def _listeners(self) -> list:
        """The run's own listeners, in order: the desk, the outside market, the crowd, the
        recorder."""
        own = [] if self.desk is None else [self.desk.observe]
        return [*own, self.outside.observe, self.crowd.observe, self.recorder]

    def _after_restore(self) -> None:
        """Listeners are wiring: a restored run listens with its own parts (a format-2 save's
        list named the market makers' old risk listener)."""
        self.sim.listeners[:] = self._listeners()

    # --- construction --------------------------------------------------------------------------
    @staticmethod
    def _funds(exch: ExchangeConfig, symbols: list[str]):
        mult = Decimal(str(exch.fund_multiplier))
        funds = exch.insurance_fund
        if exch.fund_shared:
            total = funds.get("shared", sum(Decimal(str(funds[sym])) for sym in symbols))
            return (Decimal(str(total)) * mult).quantize(Decimal("0.01"))
        return {sym: (Decimal(str(funds[sym])) * mult).quantize(Decimal("0.01"))
                for sym in symbols}

    def _stress_funds(self, exch: ExchangeConfig) -> None:
        """Risk-sized funds: each contract's fund is the bad debt that a move of
        ``fund_stress_pct`` against its positions would leave (the worse direction), times
        ``fund_multiplier``. Pools are valued as they stand at the start."""
        ex = self.sim.exchange
        acc, n = ex.acc, ex.acc.n
        traders = ~acc.is_fund[:n]
        move = exch.fund_stress_pct / 100
        needs = []
        for s in range(len(ex.symbols)):
            index = ex.marks.index[s]
            assert index is not None  # outside.start_run() set every index
            worst = 0
            for direction in (-1, 1):
                shocked = list(ex.marks.index)
                shocked[s] = max(1, round(index * (1 + direction * move)))
                pool_cross = acc.wallet[:n].copy()  # wallet + uPnL of the cross positions
                for k in range(len(ex.symbols)):
                    upnl = acc.qty[k, :n] * shocked[k] * ex.units[k] - acc.cost[k, :n]
                    iso = acc.iso[k, :n]
                    pool_cross += np.where(iso, 0, upnl)
                    if k == s:
                        pool_iso = np.where(iso, acc.iso_margin[k, :n] + upnl, 0)
                iso = acc.iso[s, :n]
                hit = (acc.qty[s, :n] != 0) & traders
                debt = np.where(hit & ~iso, np.maximum(0, -pool_cross), 0) \
                    + np.where(hit & iso, np.maximum(0, -pool_iso), 0)
                worst = max(worst, int(debt.sum()))
            needs.append(worst)
        mult = exch.fund_multiplier
        if exch.fund_shared:
            ex.resize_fund("shared", max(sum(needs) * mult / MONEY_PER_USD,
                                         ex.funds.floor / MONEY_PER_USD))
            return
        for s, sym in enumerate(ex.symbols):
            ex.resize_fund(sym, round(max(needs[s] * mult, ex.funds.floor) / MONEY_PER_USD, 2))

    def _groups(self) -> dict[str, np.ndarray]:
        """Accounts by who they are, for PnL by group: the crowd split by the side it starts
        on (momentum shorts count as short, dip buyers and stink bids as long)."""
        ex = self.sim.exchange
        crowd = self.crowd.ids
        net = np.zeros(len(crowd), dtype=np.int64)
        for s in range(len(ex.symbols)):
            net += ex.acc.qty[s, crowd] * ex.marks.index[s] * ex.units[s]
        longs = np.concatenate([crowd[net > 0], self.crowd.dip_ids,
                                np.asarray(self.crowd.stink_accounts, dtype=np.int64)])
        shorts = np.concatenate([crowd[net < 0], self.crowd.chaser_ids])
        player = [] if self.player is None else [self.player]
        return {"crowd_long": np.sort(longs).astype(np.int64),
                "crowd_short": np.sort(shorts).astype(np.int64),
                "market_makers": np.asarray(self.makers.accounts, dtype=np.int64),
                "arbitrageurs": np.asarray([self.arbs.account], dtype=np.int64),
                "player": np.asarray(player, dtype=np.int64)}

    def _player(self, cfg: LevelConfig, symbols: list[str]) -> int | None:
        """The player's account (hedger or maker), or None when the level has no player."""
        if cfg.player.role == "none":
            return None
        a = self.sim.exchange.open_account(cfg.player.equity_usd)
        for sym in symbols:
            self.sim.exchange.set_leverage(a, sym, min(10, self.sim.exchange.instrument(sym)
                                                       .max_leverage))
        return a

    def _player_legs(self, cfg: LevelConfig, symbols: list[str]) -> list[tuple]:
        """(account, symbol index, lots, entry ticks, isolated margin, leverage) per player leg."""
        if self.player is None or cfg.player.role != "hedger":
            return []
        ex = self.sim.exchange
        legs = []
        for pos in cfg.player.positions:
            s = symbols.index(pos.symbol)
            price = ex.marks.index[s]
            assert price is not None  # outside.start_run() set every index
            lots = round(pos.notional_usd * MONEY_PER_USD / (price * ex.units[s]))
            lots = lots if pos.side == "long" else -lots
            notional = abs(lots) * price * ex.units[s]
            # no more leverage than the contract's tier allows (a venue's tiers may be lower)
            lev = min(pos.leverage, ex.instruments[s].bracket(notional).max_leverage)
            iso = 0
            if pos.margin == "isolated":
                iso = -(-notional // lev)
            legs.append((self.player, s, lots, price, iso, lev))
        return legs

    # --- running -------------------------------------------------------------------------------
    def step(self):
        return self.sim.step()

    def run(self, until: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> None:
        """Run to ``until`` (HKT) or the end; ``progress(t, duration)`` after every step."""
        sim = self.sim
        stop = sim.duration if until is None else min(sim.duration,
                                                      parse_hhmm(until, "until") - sim.start)
        if stop < sim.t:
            raise InvalidInput(f"--until {until} is before the current time {sim.hhmm} (the run "
                               f"starts at {fmt_hhmm(sim.start)})")
        while sim.t < stop:
            sim.step(stop - sim.t)
            if progress is not None:
                progress(sim.t, stop)

    def checksum(self) -> str:
        return self.sim.checksum()

    def report(self) -> RunReport:
        """What happened, and how the player scored against the level's objectives, as a typed
        record (``engine.summary``)."""
        report = self.recorder.report(self.sim, level=self.level.name, seed=self.seed,
                                      checksum=self.checksum())
        unscored = report.to_json()
        del unscored["objectives"]
        return dataclasses.replace(report, objectives=score(self.level.data, unscored),
                                   modified_reason=self.modified,
                                   finished=self.sim.clock >= self.session_end,
                                   rules=list(self.level.rules))

    def summary(self) -> dict:
        """The JSON object of ``crashfloor run --json``: ``report().to_json()``."""
        return self.report().to_json()


def _renamed(inst: Instrument, symbol: str) -> Instrument:
    return Instrument(symbol, inst.tick_size, inst.lot_size, inst.brackets, inst.maker_fee_ppm,
                      inst.taker_fee_ppm, inst.liquidation_fee_ppm)
