"""The trading floor: the engine running underneath, every panel redrawn from one snapshot a tick.

A timer (15 Hz) asks the ``Pacer`` how many simulation steps the wall time owes, runs them within a
time budget (so a key press waits at most one budget), takes one ``FloorSnapshot`` and hands it
to every panel. Keys are bindings → actions; each action either changes UI input state (symbol,
ticket, view) or sends one engine command through ``FloorModel.submit``. Outcomes come back as
events; rejections and notices go to the notice line above the keys (``NoticeLine``): one
place, never over a panel, the whole log on ``l``.
"""

from __future__ import annotations

import time
from functools import partial, wraps

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from .. import fmt
from ..floor_model import TAPE_FILTERS, FloorModel
from ..pacer import SPEEDS, Pacer
from ..trading import (MARGIN_STEPS_USD, REDUCE_FRACTIONS, SIZE_PRESETS_USD, QuoteTicket,
                       Ticket)
from ..widgets.account import AccountPanel
from ..widgets.bars import ClockBar, KeyBar, NewsTicker, SymbolBar
from ..widgets.depth_meter import DepthMeter
from ..widgets.desk import DeskPanel
from ..widgets.funds import FundGauges
from ..widgets.ladder import Ladder
from ..widgets.makers import MakerPanel
from ..widgets.notices import NoticeLine
from ..widgets.orders import OrdersPanel
from ..widgets.panel import LinePanel
from ..widgets.positions import Positions
from ..widgets.price_chart import PriceChart
from ..widgets.tape import Tape
from ..widgets.too_small import TooSmall
from .floor_trading import TradingActions

AUTOSAVE_EVERY = 300
"""Sim seconds between autosaves."""
TICK_SECONDS = 1 / 15
STEP_BUDGET_SECONDS = 0.04
COMPACT_BELOW = (118, 36)
HEDGER_ACTIONS = {"buy_market", "sell_market", "buy_limit", "sell_limit", "size", "offset",
                  "next_order", "amend", "cancel", "cancel_all", "reduce", "close_all",
                  "work_close",
                  "margin"}
MAKER_ACTIONS = {"toggle_quoting", "pull", "edit_side", "spread", "quote_size", "skew"}
VIEWS = ("chart", "market", "makers", "tape", "alt")
"""The compact floor's views (``v``): what the left-hand area and the bottom show."""
PALETTE_TITLES = {
    "symbol(-1)": "Previous symbol", "symbol(1)": "Next symbol",
    "faster": "Speed up", "slower": "Slow down", "toggle_pause": "Pause / run the clock",
    "buy_market": "Buy at market", "sell_market": "Sell at market",
    "buy_limit": "Limit buy (ticket price)", "sell_limit": "Limit sell (ticket price)",
    "cancel": "Cancel the selected order", "reduce": "Reduce the selected position…",
    "margin": "Margin: add, withdraw, cross/isolated…", "cycle_view": "Cycle the compact view",
    "ticket": "Order ticket: market, limit, stop, take-profit…",
    "tape_filter": "Tape: all / liquidations / ADL / mine",
    "chart_mode": "Chart: the price, or your own equity",
    "notices": "Notice log: every notice so far",
    "guide": "Guide: what the ADL lights, depth, funds and available margin mean",
    "work_close": "Work the close: a market close every step until flat (again: stop)",
    "transfer": "Transfer between the spot wallet and futures…",
    "toggle_quoting": "Start / stop quoting", "pull": "Pull all quotes now",
    "edit_side": "Edit bid, ask or both", "skew": "Inventory skew on/off",
    **{f"size({k})": f"Order size {fmt.usd_short(usd)}" for k, usd in enumerate(SIZE_PRESETS_USD)},
    "offset(-1)": "Limit offset: closer to the touch", "offset(1)": "Limit offset: further back",
    "spread(-1)": "Quote spread: narrower", "spread(1)": "Quote spread: wider",
    "quote_size(-1)": "Quote size: smaller", "quote_size(1)": "Quote size: larger",
}


class FloorScreen(TradingActions, Screen):
    """The floor for one ``FloorModel``; ``ticking=False`` leaves the stepping to the caller
    (tests step by hand with ``advance``)."""

    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+q", "app.quit", "Quit (autosaves)", key_display="^q"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("plus,equals_sign", "faster", "Speed", key_display="+/-"),
        Binding("minus", "slower", "Speed", show=False, key_display="+/-"),
        Binding("v", "cycle_view", "View (compact)"),
        Binding("q", "toggle_quoting", "Quote on/off"),
        Binding("x", "pull", "Pull all"),
        Binding("e", "edit_side", "Edit side"),
        Binding("left_square_bracket", "spread(-1)", "Spread", show=False, key_display="[ ]"),
        Binding("right_square_bracket", "spread(1)", "Spread", key_display="[ ]"),
        Binding("comma", "quote_size(-1)", "Size", show=False, key_display=", ."),
        Binding("full_stop", "quote_size(1)", "Size", key_display=", ."),
        Binding("k", "skew", "Skew on/off"),
        Binding("n", "ticket", "Order ticket"),
        Binding("b", "buy_market", "Buy/sell", key_display="b/s"),
        Binding("s", "sell_market", "Buy/sell", show=False, key_display="b/s"),
        Binding("B", "buy_limit", "Limit", key_display="B/S"),
        Binding("S", "sell_limit", "Limit", show=False, key_display="B/S"),
        Binding("r", "reduce", "Reduce"),
        Binding("t", "transfer", "Transfer"),
        Binding("m", "margin", "Margin"),
        Binding("c", "cancel", "Cancel"),
        Binding("f", "tape_filter", "Tape filter"),
        Binding("left", "symbol(-1)", "Symbol", show=False, key_display="←→"),
        Binding("right", "symbol(1)", "Symbol", key_display="←→"),
        *(Binding(str(k + 1), f"size({k})", "Order size", show=False, key_display="1-5")
          for k in range(len(SIZE_PRESETS_USD))),
        Binding("left_square_bracket", "offset(-1)", "Limit offset", show=False,
                key_display="[ ]"),
        Binding("right_square_bracket", "offset(1)", "Limit offset", show=False,
                key_display="[ ]"),
        Binding("o", "next_order", "Select next order", show=False),
        Binding("a", "amend", "Amend selected order", show=False),
        Binding("C", "cancel_all", "Cancel all orders", show=False),
        Binding("X", "close_all", "Close all positions", show=False),
        Binding("W", "work_close", "Work the close", key_display="W"),
        Binding("l", "notices", "Notice log", show=False),
        Binding("g", "chart_mode", "Chart: price / your equity", show=False),
        Binding("h", "guide", "Guide to the panels", show=False),
        Binding("i", "briefing", "Briefing", show=False),
        Binding("d", "debrief", "Debrief"),
    ]

    def __init__(self, model: FloorModel, *, speed: float = 10.0, paused: bool = False,
                 ticking: bool = True):
        super().__init__()
        self.model = model
        self.maker = model.role == "maker"
        self.pacer = Pacer(model.sim.step_seconds, speed, paused)
        self.ticking = ticking
        self.wall_clock = time.monotonic
        self.ticket = Ticket()
        self.tape_filter = "all"
        """What the tape shows: all, liquidations, ADL or mine (``f``)."""
        self._early: list[tuple[str, str, str]] = []
        """Notices given before the floor was mounted (``notify``)."""
        self.staged: list = []
        """Commands given while the clock was paused: sent, in order, when it runs again."""
        self._quotes_sent: tuple[int | None, dict] = (None, {})
        """(sim time, settings) the maker's keys sent that the desk has not applied yet."""
        self.quote_ticket = QuoteTicket()
        held = [p.symbol for p in model.snapshot(model.symbols[0]).positions]
        self.symbol = model.desk_symbol or (held[0] if held else model.symbols[0])
        self.view = "chart"
        self.snapshot = None
        self._debriefed = model.sim.finished
        self._autosave_mark = None if model.sim.finished else model.sim.clock // AUTOSAVE_EVERY

    # --- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.set_class(self.maker, "-maker")
        yield ClockBar(id="clock")
        yield NewsTicker(id="news")
        yield SymbolBar(id="symbols")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield _titled(PriceChart(id="chart"), "price")
                yield _titled(Tape(id="tape"), "liquidations & ADL — newest first")
            with Vertical(id="middle"):
                yield _titled(Ladder(id="ladder"), "order book")
                if not self.maker:
                    yield _titled(OrdersPanel(id="orders"), "ticket & your orders")
            with Vertical(id="market"):
                yield _titled(DepthMeter(id="depth"), "depth ±1% of mid")
                yield _titled(FundGauges(id="funds"), "insurance funds")
                yield _titled(MakerPanel(id="makers"), "market makers")
        with Horizontal(id="bottom"):
            yield _titled(Positions(id="positions"), "positions")
            if self.maker:
                yield _titled(DeskPanel(id="desk"), "your market-making desk")
            yield _titled(AccountPanel(id="account"), "account")
        yield NoticeLine(id="notices")
        yield KeyBar(id="keys")
        yield TooSmall()

    def on_mount(self) -> None:
        self.model.drain_notices()  # what happened before this floor opened is history
        if not self.maker:
            self.query_one(OrdersPanel).ticket = self.ticket
        self._apply_layout()
        self.sync()
        self.query_one(NoticeLine).add(self.model.sim.clock, self._early, self.wall_clock())
        replay = self.model.replay
        if replay is not None:
            self.notify(f"{len(replay.commands)} recorded orders play by themselves until "
                        f"the recording ends; +/- and the palette set the speed.",
                        title="Watching a replay", timeout=8)
        elif self.maker and self.snapshot.desk is not None and not self.snapshot.desk.quoting:
            self.notify("q starts your desk quoting; e picks a side, [ ] the spread, , . "
                        "the size; x pulls everything.", title="Not quoting yet",
                        timeout=10)
        if self.ticking:
            self.set_interval(TICK_SECONDS, self.tick)
        self._first_run_guide()

    def _first_run_guide(self) -> None:
        """The level's first-run guide (``guide = true``), once per saves folder."""
        from . import guide
        app = self.app
        if app.guide and self.model.level.data.get("guide") and self.model.replay is None \
                and not guide.seen(app.saves_dir):
            guide.mark_seen(app.saves_dir)
            self.call_after_refresh(self.action_guide)

    def action_guide(self) -> None:
        from .guide import GuideScreen
        self._pause_while(GuideScreen(self))

    def on_resize(self, event) -> None:
        self._apply_layout(event.size)

    def _apply_layout(self, size=None) -> None:
        w, h = size or self.app.size
        compact = w < COMPACT_BELOW[0] or h < COMPACT_BELOW[1]
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            self.refresh_bindings()  # "v" is only for the compact floor
        self.query_one(KeyBar).items = list({
            b.description: (b.key_display or b.key, b.description, b.action)
            for b in self.BINDINGS if b.show and self.check_action(b.action, ())}.values())
        for view in VIEWS:
            self.set_class(self.view == view, f"-view-{view}")

    # --- the clock -----------------------------------------------------------------------------
    def tick(self) -> None:
        room = getattr(self.app, "room_tick", None)
        if room is not None:  # a workshop heat (game/room/app.py): its pause and end, reports
            room(self)
        self.pacer.note(self.wall_clock(), self.model.sim.t)
        steps = self.pacer.due(self.wall_clock())
        self.query_one(NoticeLine).tick(self.wall_clock())
        if steps and not self.model.sim.finished:
            self.model.advance(steps, STEP_BUDGET_SECONDS, self.wall_clock)
            self._autosave_when_due()
            self.sync()

    def advance(self, steps: int) -> None:
        """Run ``steps`` simulation steps now and redraw (tests; no wall clock involved)."""
        self.model.advance(steps)
        self._autosave_when_due()
        self.sync()

    def _autosave_when_due(self) -> None:
        """Every ``AUTOSAVE_EVERY`` sim seconds, and once at the end of the session."""
        sim = self.model.sim
        mark = sim.clock // AUTOSAVE_EVERY
        if self._autosave_mark is not None and (sim.finished or mark != self._autosave_mark):
            self._autosave_mark = None if sim.finished else mark
            self.app.autosave(self.model)

    def sync(self) -> None:
        """One snapshot to every panel; notices to notifications; the debrief at the end."""
        snap = self.model.snapshot(self.symbol, book_rows=30, tape_filter=self.tape_filter)
        self.snapshot = snap
        clock = self.query_one(ClockBar)
        clock.speed, clock.paused = self.pacer.speed, self.pacer.paused
        clock.real = self.pacer.real_speed()
        clock.view = self.view if self.has_class("-compact") else ""
        for panel in self.query(LinePanel):
            panel.show(snap)
        self.query_one(NoticeLine).add(
            self.model.sim.clock, [(n.title, n.message, n.severity)
                                   for n in self.model.drain_notices()], self.wall_clock())
        if snap.clock.finished and not self._debriefed:
            self._debriefed = True
            self.action_debrief()

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """A notice on the floor goes to the notice line, never a toast over the panels."""
        from rich.text import Text
        text = Text.from_markup(message).plain if markup else message
        lines = self.query(NoticeLine)
        if not lines:  # said before the floor was composed (a resumed save): shown on mount
            self._early.append((title, text, severity))
            return
        lines.first().add(self.model.sim.clock, [(title, text, severity)],
                                       self.wall_clock())

    # --- commands out --------------------------------------------------------------------------
    def send(self, command, what: str) -> bool:
        """Submit an engine command, or say why not (a ``str`` from a ticket, pause, the end)."""
        if isinstance(command, str):
            self.notify(command, title=f"Cannot {what}", severity="warning")
            return False
        if self.model.replay is not None:
            self.notify("This is a replay: the recorded session's orders play by themselves.",
                        title=f"Cannot {what}", severity="warning")
            return False
        if self.model.sim.finished:
            self.notify("The session is over: the market is closed.", title=f"Cannot {what}",
                        severity="warning")
            return False
        if self.pacer.paused:  # staged: it goes out with the first step when the clock runs
            self.staged.append(command)
            self.notify(f"{len(self.staged)} staged: they go to the exchange, in order, when "
                        f"the clock runs again (space).", title=f"Staged: {what}", timeout=4)
            return True
        self.model.submit(command)
        return True

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if not role_allows(action, self.maker):
            return False
        if action == "cycle_view":
            return self.has_class("-compact")
        return True

    @property
    def player(self) -> int:
        return self.model.player

    @property
    def quote(self):
        return self.snapshot.quote(self.symbol)

    # --- clock and view actions ----------------------------------------------------------------
    def action_tape_filter(self) -> None:
        names = list(TAPE_FILTERS)
        self.tape_filter = names[(names.index(self.tape_filter) + 1) % len(names)]
        self.sync()

    def action_toggle_pause(self) -> None:
        self.pacer.toggle_pause()
        if not self.pacer.paused and self.staged:
            staged, self.staged = self.staged, []
            for command in staged:
                self.model.submit(command)
            self.notify(f"{len(staged)} staged order(s) sent.", title="Clock running",
                        timeout=3)
        self.sync()

    def action_faster(self) -> None:
        self.pacer.faster()
        self.sync()

    def action_slower(self) -> None:
        self.pacer.slower()
        self.sync()

    def action_symbol(self, step: int) -> None:
        symbols = self.model.symbols
        self.symbol = symbols[(symbols.index(self.symbol) + step) % len(symbols)]
        self.sync()

    def select_symbol(self, symbol: str) -> None:
        self.symbol = symbol
        self.sync()

    def on_symbol_bar_selected(self, message: SymbolBar.Selected) -> None:
        self.select_symbol(message.symbol)

    def on_positions_selected(self, message: Positions.Selected) -> None:
        self.select_symbol(message.symbol)

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._apply_layout()
        self.sync()

    def action_help(self) -> None:
        from .help import HelpScreen
        role = "the market maker" if self.maker else "the hedged trader"
        self._pause_while(HelpScreen(f"Keys — you play {role}", self.help_rows()))

    def action_chart_mode(self) -> None:
        chart = self.query_one(PriceChart)
        chart.mode = "equity" if chart.mode == "price" else "price"
        self.sync()

    def action_notices(self) -> None:
        from .help import NoticeLogScreen
        self._pause_while(NoticeLogScreen(self.query_one(NoticeLine).rows()))

    def action_briefing(self) -> None:
        from .briefing import BriefingScreen
        self._pause_while(BriefingScreen(self.model.level, overlay=True))

    def action_debrief(self) -> None:
        from .debrief import DebriefScreen
        self._pause_while(DebriefScreen(self.model))

    def _pause_while(self, screen) -> None:
        """Show ``screen`` with the clock stopped; it runs again when the screen closes."""
        was_running = not self.pacer.paused
        if was_running:
            self.pacer.toggle_pause()
            self.sync()

        def resume(_=None) -> None:
            if was_running and self.pacer.paused and not self.model.sim.finished:
                self.pacer.toggle_pause()
                self.sync()
        self.app.push_screen(screen, resume)

    # --- help and the command palette -----------------------------------------------------------
    def help_rows(self) -> list[tuple[str, str]]:
        return key_rows(self.maker)

    def palette_commands(self):
        """(title, help, callback) for every floor action, for the command palette."""
        for b in self.BINDINGS:
            if not role_allows(b.action, self.maker):
                continue
            yield (f"Floor: {PALETTE_TITLES.get(b.action, b.description)}",
                   f"key {b.key_display or b.key}", partial(self.run_action, b.action))
        if not self.maker:
            for f in REDUCE_FRACTIONS:
                yield (f"Floor: reduce {self.symbol} by {float(f):.0%}", "reduce-only market order",
                       partial(self.reduce, f))
            for usd in MARGIN_STEPS_USD:
                yield (f"Floor: add {fmt.usd(usd)} margin to {self.symbol}",
                       "isolated positions only", partial(self.margin, "add", usd))
                yield (f"Floor: withdraw {fmt.usd(usd)} margin from {self.symbol}",
                       "isolated positions only", partial(self.margin, "withdraw", usd))
            for mode in ("cross", "isolated"):
                yield (f"Floor: switch {self.symbol} to {mode} margin",
                       "only without a position or orders there", partial(self.margin, mode))
        for sym in self.model.symbols:
            yield (f"Floor: show {sym}", "select the symbol", partial(self.select_symbol, sym))
        for speed in SPEEDS:
            yield (f"Floor: speed {fmt.speed(speed)}", "simulated seconds per second",
                   partial(self.set_speed, speed))

    def set_speed(self, speed: float) -> None:
        self.pacer.speed = speed
        self.sync()


def _guarded(method):
    """Run a floor handler; an unexpected exception goes to ``app.floor_failed`` (autosave, error
    screen, back to the title) instead of killing the screen's message loop."""
    @wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - reported on the error screen
            self.app.floor_failed(error)
    return guarded


for _cls in (FloorScreen, TradingActions):  # the trading actions live in floor_trading.py
    for _name, _method in list(vars(_cls).items()):
        if callable(_method) and (_name.startswith(("action_", "on_", "_on_")) or _name in (
                "tick", "sync", "send", "advance")) and _name not in ("on_mount",):
            setattr(_cls, _name, _guarded(_method))


def role_allows(action: str, maker: bool) -> bool:
    name = action.split("(")[0]
    return not ((name in HEDGER_ACTIONS and maker) or (name in MAKER_ACTIONS and not maker))


def key_rows(maker: bool) -> list[tuple[str, str]]:
    """(keys, what) for every floor binding the role can use, keys of one meaning together."""
    rows: dict[str, list[str]] = {}
    for b in FloorScreen.BINDINGS:
        if role_allows(b.action, maker):
            what = b.description
            rows.setdefault(what, []).append(b.key_display or b.key)
    return [(" ".join(dict.fromkeys(keys)), what) for what, keys in rows.items()]


def _titled(widget, title: str):
    widget.border_title = title
    return widget

