"""The facilitator's screen: who is in, each trainee's sim time and equity live, the heat's
controls and the leaderboard.

Keys: ``s`` starts the heat, ``p`` pauses or resumes it, ``e`` ends it (every floor goes to its
debrief), ``n`` opens the next heat (another variant or seed), ``x`` exports the heat (CSV and an
HTML page beside the room's database). Everything goes through the room's store; the trainees'
apps follow it within a second.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from engine.errors import CrashfloorError

from . import export
from .store import RoomStore, level_label

REFRESH_SECONDS = 1.0


class NextHeatScreen(ModalScreen):
    """The next heat: variant (blank: none) and seed."""

    DEFAULT_CSS = """
    NextHeatScreen { align: center middle; }
    NextHeatScreen > Vertical { width: 60; height: auto; border: round $accent; padding: 1 2; }
    """

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Next heat: the same level. Variant (blank: none), then seed; enter.")
            yield Input(placeholder="variant", id="next-variant")
            yield Input(value=str(self.seed), id="next-seed")
            yield Label("", id="next-error")

    def on_input_submitted(self, _event) -> None:
        variant = self.query_one("#next-variant", Input).value.strip() or None
        seed = self.query_one("#next-seed", Input).value.strip()
        if not seed.isdigit():
            self.query_one("#next-error", Label).update("The seed is a whole number.")
            return
        self.dismiss((variant, int(seed)))


class CodeScreen(ModalScreen):
    """The facilitator's code, asked for when the screen is served to a browser tab."""

    DEFAULT_CSS = """
    CodeScreen { align: center middle; }
    CodeScreen > Vertical { width: 60; height: auto; border: round $accent; padding: 1 2; }
    CodeScreen #code-error { color: $error; }
    """

    def __init__(self, store: RoomStore):
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]crashfloor workshop[/b] — the facilitator's code:")
            yield Input(password=True, id="code", max_length=16)
            yield Label("", id="code-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.store.check_code(event.value, "facilitator"):
            self.dismiss(True)
        else:
            event.input.value = ""
            self.query_one("#code-error", Label).update("That is not the facilitator's code.")


class FacilitatorApp(App):
    """The room at ``db``; ``address`` is what trainees open, ``code`` the code they type (shown
    here only: the room keeps its hash)."""

    TITLE = "crashfloor workshop — facilitator"
    BINDINGS = [Binding("s", "start", "Start"), Binding("p", "pause", "Pause / resume"),
                Binding("e", "end", "End heat"), Binding("n", "next", "Next heat"),
                Binding("x", "export", "Export"), Binding("q", "quit", "Quit")]
    CSS = """
    #room-info { padding: 0 1; }
    #room-said { padding: 0 1; color: $text-muted; }
    DataTable { height: 1fr; }
    """

    def __init__(self, db: str | Path, address: str = "", code: str | None = None,
                 need_code: bool = False):
        super().__init__()
        self.store = RoomStore(db)
        self.folder = Path(db).resolve().parent
        self.address, self.code = address, code
        self.authorised = not need_code
        """False until the facilitator's code is typed (a screen served to a browser)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="room-info")
        yield DataTable(id="board", zebra_stripes=True, cursor_type="row")
        yield Label("", id="room-said")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "name", "status", "sim time", "equity", "score", "stars", "ADL",
                          "survived")
        self.refresh_board()
        self.set_interval(REFRESH_SECONDS, self.refresh_board)
        if not self.authorised:
            self.push_screen(CodeScreen(self.store), self._authorise)

    def _authorise(self, ok) -> None:
        self.authorised = bool(ok)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Nothing but quitting before the code is typed."""
        return self.authorised or action == "quit"

    def refresh_board(self) -> None:
        if not self.authorised:
            return
        heat = self.store.heat()
        code = f" · room code [b]{escape(self.code)}[/b]" if self.code else ""
        where = f" · trainees open {escape(self.address)}" if self.address else ""
        self.query_one("#room-info", Static).update(
            f"Heat {heat.id}: [b]{escape(level_label(heat.level))}[/b]"
            + (f" ({escape(heat.variant)})" if heat.variant else "")
            + f", seed {heat.seed} — [b]{heat.state}[/b]{where}{code}")
        table = self.query_one(DataTable)
        table.clear()
        for r in export.rows(self.store, heat.id):
            table.add_row(str(r["rank"]), escape(r["name"]), r["status"],
                          r["sim_time"] or "—",
                          "—" if r["equity_usd"] is None else f"${r['equity_usd']:,.0f}",
                          "—" if r["score"] is None else str(r["score"]),
                          "—" if r["stars"] is None else "★" * int(r["stars"]),
                          "—" if r["adl_hits"] is None else str(r["adl_hits"]),
                          "—" if r["survived"] is None else ("yes" if r["survived"] else "no"))

    def _say(self, text: str) -> None:
        self.query_one("#room-said", Label).update(text)

    def _move(self, state: str, said: str) -> None:
        try:
            self.store.set_state(self.store.heat().id, state)
        except CrashfloorError as exc:
            self._say(escape(str(exc)))
            return
        self._say(said)
        self.refresh_board()

    def action_start(self) -> None:
        self._move("running", "Started: every floor in the lobby opens now.")

    def action_pause(self) -> None:
        heat = self.store.heat()
        if heat.state == "paused":
            self._move("running", "Resumed.")
        else:
            self._move("paused", "Paused: every floor's clock stops within a second.")

    def action_end(self) -> None:
        self._move("ended", "Ended: every floor goes to its debrief. n opens the next heat.")

    def action_next(self) -> None:
        heat = self.store.heat()

        def made(choice) -> None:
            if choice is None:
                return
            variant, seed = choice
            new = self.store.new_heat(heat.level, variant, seed)
            self._say(f"Heat {new.id} is in the lobby; s starts it.")
            self.refresh_board()
        self.push_screen(NextHeatScreen(heat.seed), made)

    def action_export(self) -> None:
        """CSV now; the HTML page once the heat's market has been re-run (a worker thread)."""
        heat = self.store.heat()
        base = self.folder / f"heat-{heat.id}-results"
        base.with_suffix(".csv").write_text(export.to_csv(self.store, heat.id), encoding="utf-8")
        self._say(f"Exported {base.name}.csv; the page follows when the market is re-run.")
        self.run_worker(lambda: self._export_page(heat, base), thread=True)

    def _export_page(self, heat, base: Path) -> None:
        from engine.crash import CrashRun

        from .app import heat_level
        run = CrashRun(heat_level(heat), seed=heat.seed)
        run.run()
        store = RoomStore(self.store.path)  # this thread's own connection
        page = export.to_html(store, heat.id, export.market_story(run.summary()))
        store.close()
        base.with_suffix(".html").write_text(page, encoding="utf-8")
        self.call_from_thread(self._say, f"Exported {base.name}.csv and {base.name}.html "
                                         f"(in {self.folder}).")

