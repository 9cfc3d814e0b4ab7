"""The UI-side adapter: a running ``CrashRun`` in, frozen display snapshots out.

``FloorModel`` owns no game state. It steps the simulation when the floor asks (``advance``),
listens to every step's events (``story.EventLog``), keeps the short price history the charts
draw, and builds a ``FloorSnapshot`` — plain numbers in human units — that widgets render. Widgets
never touch the engine; commands go in through ``submit`` (``Simulation.submit``).
The snapshot types are in ``game.snapshot``. Pure Python: no textual, so it is tested and timed
on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.agents.player_maker import DeskView
from engine.clock import parse_hhmm
from engine.commands import ClosePosition, Command
from engine.units import MONEY_PER_USD
from engine.exchange import OrderView, PositionView

from . import fmt
from .snapshot import (BookInfo, BookLevel, ClockInfo, DepthInfo, FirmInfo, FloorSnapshot,
                       FundInfo, SymbolQuote)
from .story import EventLog, Moment, Notice

HISTORY_EVERY = 10
"""Simulated seconds between two points of the charts' price history."""
CALM_LEVEL_SHARE = 1 / 40
"""A ladder bar is full at this share of the level's calm quoted depth (±1%, both sides): about
two calm market-maker quotes at one price. Fixed, so a thinning book shows as shrinking bars."""


TAPE_FILTERS = {"all": lambda e: True, "liquidations": lambda e: e.kind == "liquidation",
                "ADL": lambda e: e.kind == "adl", "mine": lambda e: e.mine}
"""The tape's filters (``f`` on the floor), in the order the key cycles them."""


# --- the model ------------------------------------------------------------------------------------
class FloorModel:
    """A ``CrashRun`` seen from the floor. Attach it before stepping to see every event."""

    def __init__(self, run, replay=None):
        self.run = run
        self.sim = sim = run.sim
        self.replay = replay
        """An ``engine.saves.replay.Replay`` being watched: its commands drive the player."""
        self.causes = None
        """The debrief's counterfactual runs, kept with the (sim time, commands) they re-ran."""
        self._long_share: tuple[int | None, float | None] = (None, None)
        self.working: set[str] = set()
        """Symbols whose close is being worked: a reduce-only market close every step until the
        position is flat or the player stops it (``W``)."""
        self._feeder = None
        if replay is not None:
            from engine.saves.replay import ReplayFeeder
            self._feeder = ReplayFeeder(replay)
            self._feeder.skip_to(sim.t)
        elif sim.t == 0:
            sim.record_checksums()   # a new session: its replay can be verified minute by minute
        self.ex = ex = sim.exchange
        self.level = run.level
        self.role = run.level.data["player"]["role"]
        self.player: int | None = run.player
        self.symbols = list(ex.symbols)
        self._names = self._account_names()
        self.log = EventLog(sim, self.player, self.name_of)
        self.history: dict[str, list] = {sym: [] for sym in self.symbols}
        self._seed_history()
        self._open = {sym: self._first_price(s) for s, sym in enumerate(self.symbols)}
        self._depth_start = {sym: float(ex.depth_usd(sym)) for sym in self.symbols}
        self._depth_start[self.tracked] = run.recorder.depth_start / MONEY_PER_USD
        if sim.t > 0:   # attached late: the level's calm depth stands in for the opening book
            for sym in self.symbols:
                if sym != self.tracked:
                    self._depth_start[sym] = float(self.level.data["market_makers"]
                                                   ["depth_usd"][sym])
        self._news_plan = sorted((parse_hhmm(n["at"]), n["headline"])
                                 for n in self.level.data["news"])
        # headlines at the opening bell are consumed by Scenario.start without a News event
        published = {h for _, h in run.recorder.news}
        self.log.news.extend((c, h) for c, h in self._news_plan
                             if c <= sim.start and h not in published)
        self.log.news.extend(run.recorder.news)
        self.equity_start = (float(ex.equity(self.player)) if self.player is not None else 0.0)
        if sim.t > 0 and run.recorder.hedger_equity_start is not None:
            self.equity_start = run.recorder.hedger_equity_start / MONEY_PER_USD
        self.selected_order: int | None = None
        sim.listeners.append(self._on_step)

    # --- identity ------------------------------------------------------------------------------
    @property
    def tracked(self) -> str:
        return self.level.data.get("tracked_symbol") or self.symbols[0]

    @property
    def desk_symbol(self) -> str | None:
        """The symbol the player's desk quotes (a maker level), else None."""
        desk = self.run.desk
        return None if desk is None else self.symbols[desk.s]

    def desk_view(self) -> DeskView | None:
        """The desk's snapshot now (a maker level), else None."""
        return None if self.run.desk is None else self.run.desk.view(self.ex)

    def _account_names(self) -> dict[int, str]:
        run, ex = self.run, self.ex
        names = {a: name for a, name in zip(run.makers.accounts, run.makers.names, strict=False)}
        names.update({f: f"{name} fund" for f, name in zip(ex.funds.ids, ex.funds.names, strict=False)})
        names[run.arbs.account] = "arbitrage desk"
        if self.player is not None:
            names[self.player] = "you"
        return names

    def name_of(self, account: int) -> str:
        return self._names.get(account) or f"trader #{account}"

    # --- stepping ------------------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        self.sim.submit(command)

    def advance(self, steps: int, budget_s: float | None = None,
                clock: Callable[[], float] = time.perf_counter) -> int:
        """Run up to ``steps`` steps (fewer when ``budget_s`` seconds of ``clock`` run out or the
        run ends); returns how many ran. The floor passes its own (injectable) wall clock."""
        sim = self.sim
        started = clock()
        done = 0
        while done < steps and not sim.finished:
            if self.replay is not None and sim.t >= self.replay.end_t:
                break   # the recording ends here
            if self._feeder is not None:
                self._feeder.step(sim)
            else:
                if self.working:
                    self._work_closes()
                sim.step()
            done += 1
            if budget_s is not None and clock() - started > budget_s:
                break
        return done

    def _work_closes(self) -> None:
        """Before a step: one more close of every worked position; a flat one is done."""
        for sym in sorted(self.working):
            if not self.ex.acc.q[self.symbols.index(sym), self.player]:
                self.working.discard(sym)
                self.log.notices.append(Notice(f"your {sym} position is closed: the worked "
                                               "close is done", "information", "Close worked"))
            else:
                self.submit(ClosePosition(self.player, sym, "1"))

    def drain_notices(self) -> list[Notice]:
        return self.log.drain_notices()

    @property
    def timeline(self) -> list[Moment]:
        return self.log.timeline

    def _on_step(self, sim, events) -> None:
        self.log(sim, events)
        if sim.t % HISTORY_EVERY == 0 or sim.finished:
            self._record_prices(sim.clock)

    # --- price history -------------------------------------------------------------------------
    def _first_price(self, s: int) -> float:
        rec = self.run.recorder
        return float(rec.open[s] * self.ex.instruments[s].tick_size)

    def _seed_history(self) -> None:
        rec = self.run.recorder
        for s, sym in enumerate(self.symbols):
            tick = self.ex.instruments[s].tick_size
            self.history[sym] = [(c, float(last * tick) if last else None,
                                  float(idx * tick) if idx else None)
                                 for c, last, idx in rec.prices[s]]
        self._record_prices(self.sim.clock)

    def _record_prices(self, clock: int) -> None:
        for sym in self.symbols:
            hist = self.history[sym]
            if not hist or hist[-1][0] != clock:
                hist.append(self._live_point(sym))

    def _tape(self, which: str, rows: int) -> tuple:
        """The newest ``rows`` tape rows that pass ``which`` (``TAPE_FILTERS``), newest first."""
        keep = TAPE_FILTERS[which]
        out = []
        for entry in reversed(self.log.tape):
            if keep(entry):
                out.append(entry)
                if len(out) == rows:
                    break
        return tuple(out)

    def _crowd_long_share(self) -> float | None:
        """Once per sim step, not per redraw: the crowd's positions only change when it steps."""
        t, share = self._long_share
        if t != self.sim.t:
            ids = self.run.crowd.ids
            q = self.ex.acc.qty[:, ids]
            held = int((q != 0).sum())
            share = float((q > 0).sum()) / held if held else None
            self._long_share = (self.sim.t, share)
        return share

    def rules(self) -> tuple[str, ...]:
        """The level fields this session changes, as ``key=value`` (``Level.rules``)."""
        return self.level.rules

    def ticket_terms(self, symbol: str) -> tuple[int, float]:
        """(the player's leverage in ``symbol``, its first maintenance rate) for the ticket's
        preview."""
        s = self.symbols.index(symbol)
        lev = int(self.ex.acc.lev[s, self.player]) if self.player is not None else 1
        return lev, self.ex.instruments[s].brackets[0].mmr_ppm / 1_000_000

    # --- snapshots -----------------------------------------------------------------------------
    def snapshot(self, selected: str, book_rows: int = 20, tape_rows: int = 60,
                 tape_filter: str = "all") -> FloorSnapshot:
        quotes = tuple(self._quote(s, sym) for s, sym in enumerate(self.symbols))
        sel = next(q for q in quotes if q.symbol == selected)
        orders = tuple(self.ex.open_orders(self.player)) if self.player is not None else ()
        if self.selected_order not in {o.oid for o in orders}:
            self.selected_order = None
        return FloorSnapshot(
            level_title=self.level.data["title"], role=self.role,
            policy=self.level.data["exchange"]["adl_policy"], clock=self._clock(),
            selected=selected, quotes=quotes, history=self._history(selected),
            book=self._book(sel, orders, book_rows),
            tracked_depth=self._depth(self.tracked, with_series=True),
            selected_depth=self._depth(selected), positions=self._positions(),
            account=self.ex.account(self.player) if self.player is not None else None,
            equity_start=self.equity_start, orders=orders, selected_order=self.selected_order,
            funds=self._funds(), firms=self._firms(selected),
            tape=self._tape(tape_filter, tape_rows), tape_filter=tape_filter,
            news=tuple(self.log.news[-8:]), desk=self.desk_view(),
            triggers=tuple(self.ex.open_triggers(self.player)) if self.player is not None else (),
            spot_usd=None if self.run.wallet is None else self.run.wallet.balance / MONEY_PER_USD,
            rules=self.rules(), crowd_long_share=self._crowd_long_share(),
            equity_history=self._equity_history(),
            forced=tuple((m.clock, m.text) for m in self.log.timeline
                         if m.kind in ("adl", "liquidation")))

    def _equity_history(self) -> tuple[tuple[int, float], ...]:
        if self.player is None:
            return ()
        curve = [(self.sim.start, self.equity_start)]
        curve += [(c, v / MONEY_PER_USD) for c, v in self.run.recorder.equity_curve
                  if c > self.sim.start]
        now = self.ex.equity_units(self.player) / MONEY_PER_USD
        if not curve or curve[-1][0] != self.sim.clock:
            curve.append((self.sim.clock, now))
        return tuple(curve)

    def _clock(self) -> ClockInfo:
        sim = self.sim
        upcoming = next(((c, h) for c, h in self._news_plan if c > sim.clock), None)
        ended = self.replay is not None and sim.t >= self.replay.end_t and not sim.finished
        return ClockInfo(sim.clock, sim.start, sim.end, sim.finished, upcoming, ended)

    def _quote(self, s: int, sym: str) -> SymbolQuote:
        ex = self.ex
        inst = ex.instruments[s]
        tick = inst.tick_size
        book = ex.books[s]
        as_price = (lambda ticks: None if ticks is None else float(ticks * tick))
        as_float = (lambda usd: None if usd is None else float(usd))
        return SymbolQuote(sym, tick, inst.lot_size, fmt.decimals_of(tick),
                           fmt.decimals_of(inst.lot_size), self._open[sym],
                           as_price(book.last_trade_price), as_float(ex.mark_price(sym)),
                           as_float(ex.index_price(sym)), as_price(book.best_bid()),
                           as_price(book.best_ask()))

    def _history(self, sym: str) -> tuple:
        hist = self.history[sym]
        live = self._live_point(sym)
        if live[0] != hist[-1][0]:
            return tuple(hist) + (live,)
        return tuple(hist)

    def _live_point(self, sym: str) -> tuple:
        s = self.symbols.index(sym)
        last, index = self.ex.books[s].last_trade_price, self.ex.index_price(sym)
        return (self.sim.clock, float(last * self.ex.instruments[s].tick_size) if last else None,
                None if index is None else float(index))

    def _book(self, quote: SymbolQuote, orders, rows: int) -> BookInfo:
        """Top ``rows`` levels a side, each marked where the player has an order resting."""
        own: dict[tuple[str, float], str] = {}
        for o in orders:
            if o.symbol == quote.symbol:
                key = (o.side.word, float(o.price))
                own[key] = "◆" if o.oid == self.selected_order or own.get(key) == "◆" else "●"
        levels = self.ex.l2(quote.symbol, rows)

        def side(name: str, book_side: str) -> tuple[BookLevel, ...]:
            return tuple(BookLevel(float(p), float(q), float(p * q),
                                   own.get((name, float(p)), ""))
                         for p, q in levels[book_side])

        calm = float(self.level.data["market_makers"]["depth_usd"][quote.symbol])
        return BookInfo(quote.symbol, side("buy", "bids"), side("sell", "asks"),
                        calm * CALM_LEVEL_SHARE or 1.0)

    def _depth(self, sym: str, with_series: bool = False) -> DepthInfo:
        now = float(self.ex.depth_usd(sym))
        series: tuple[float, ...] = ()
        if with_series:
            series = tuple(d / MONEY_PER_USD for _, d in self.run.recorder.depth_series) + (now,)
        return DepthInfo(sym, self._depth_start[sym], now, series)

    def _positions(self) -> tuple[PositionView, ...]:
        if self.player is None:
            return ()
        views = (self.ex.position(self.player, sym) for sym in self.symbols)
        return tuple(v for v in views if v.lots)

    def _funds(self) -> tuple[FundInfo, ...]:
        ex, rec = self.ex, self.run.recorder
        floor = ex.funds.floor / MONEY_PER_USD
        return tuple(FundInfo(name, rec.fund_start[k] / MONEY_PER_USD,
                              float(ex.insurance_fund_balance(
                                  name if name in self.symbols else self.symbols[0])),
                              floor, rec.fund_exhausted[k])
                     for k, name in enumerate(ex.funds.names))

    def _firms(self, sym: str) -> tuple[FirmInfo, ...]:
        views = self.run.makers.views(self.sim, self.symbols.index(sym))
        firms = [FirmInfo(v.name, v.stance, v.depth_usd, v.pulled_at, v.calm_usd) for v in views]
        calm = views[0].calm_usd if views else 0.0
        desk = self.desk_view()
        if desk is not None:
            state = "quoting" if desk.quoting else "off"
            firms.append(FirmInfo("You", state, self._own_depth(sym), None, calm, True))
        return tuple(firms)

    def _own_depth(self, sym: str) -> float:
        """The player's resting notional within ±1% of the mark, USD."""
        mark = self.ex.mark_price(sym)
        if mark is None:
            return 0.0
        return float(sum(o.price * o.qty for o in self.own_orders(sym)
                         if abs(o.price - mark) * 100 <= mark))

    # --- the player's orders -------------------------------------------------------------------
    def own_orders(self, symbol: str | None = None) -> list[OrderView]:
        if self.player is None:
            return []
        return [o for o in self.ex.open_orders(self.player)
                if symbol is None or o.symbol == symbol]

    def select_next_order(self, symbol: str) -> OrderView | None:
        orders = self.own_orders(symbol)
        if not orders:
            self.selected_order = None
            return None
        oids = [o.oid for o in orders]
        i = oids.index(self.selected_order) + 1 if self.selected_order in oids else 0
        self.selected_order = oids[i % len(oids)]
        return orders[i % len(oids)]

    def selected(self) -> OrderView | None:
        return None if self.selected_order is None else self.ex.order(self.selected_order)



def rebuilt(loaded, progress=None) -> tuple[FloorModel, str | None]:
    """A floor for a run loaded from a save, with its whole story: a fresh run of the save's
    level and seed is watched from the opening bell while the save's commands go in at their
    times (and its cut-short steps are cut the same), up to the save's time. It replaces the
    loaded run when it reaches exactly the saved state (checksum); otherwise the loaded run is
    shown, its story starting at the save, and the reason is returned. ``progress(t, target)``
    hears every sim-minute of the re-run (``engine.saves.replay.catch_up``)."""
    from engine.crash import CrashRun
    from engine.saves.replay import catch_up
    try:
        fresh = CrashRun(loaded.level, seed=loaded.seed)
        model = FloorModel(fresh)
        catch_up(fresh, loaded, progress)
    except Exception as exc:  # noqa: BLE001 - a save that cannot be re-run still opens
        return FloorModel(loaded), f"its commands cannot be re-run ({type(exc).__name__})"
    if fresh.checksum() != loaded.checksum():
        return FloorModel(loaded), "re-running its commands does not reach the saved state"
    fresh.modified = loaded.modified
    return model, None
