"""The debrief: your equity with the market's events marked, your own timeline, what the market
did, and one what-if to replay. Shown at the end of the session, or on demand (``d``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from .. import debrief_model
from ..widgets.line_chart import LineChart, Marker, Series
from ..widgets.price_chart import equity_label
from ..widgets.too_small import TooSmall


CAUSES_TITLE = "What caused what in your run"


class DebriefScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back to the floor"),
                Binding("n", "new_game", "Title screen"),
                Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, model, causes: bool = True):
        super().__init__()
        self.model = model
        self.debrief = debrief_model.build(model)
        self.causes = causes and debrief_model.has_causes(model)
        """Re-run the session with one switch changed, in a worker, and show what it changes."""
        self.outcomes = None

    def compose(self) -> ComposeResult:
        d = self.debrief
        yield Static(f" Debrief · {d.title}", id="debrief-title")
        chart = LineChart(id="equity")
        chart.border_title = "your equity"
        chart.border_subtitle = ("[$text-accent]N[/] news  [$text-warning]L[/] peak liquidations  "
                                 "[$text-error]A[/] first ADL  [$text-primary]★[/] you")
        chart.empty_text = "no equity curve: this level has no player account"
        yield chart
        with VerticalScroll(id="debrief-body"):
            if d.score:
                yield Static(f"[b]{escape(d.score[0])}[/b]\n" + "\n".join(
                    f"  {escape(line)}" for line in d.score[1:]), classes="debrief-section",
                    id="score")
            yield Static(self._section("Your timeline", d.yours), classes="debrief-section")
            yield Static(self._section("What the market did", d.market),
                         classes="debrief-section")
            if d.lesson:
                shown = f"\n{escape(d.lesson_showed)}" if d.lesson_showed else ""
                yield Static(f"[b]The lesson[/b]\n{escape(d.lesson)}{shown}",
                             classes="debrief-section", id="lesson")
            if self.causes:
                doing = ("your desk scripted to stay and widen, and to pull early"
                         if self.model.role == "maker" else
                         "one switch changed: no ADL on you; the market makers stay")
                yield Static(self._section(CAUSES_TITLE, [f"Re-running your session with "
                                                          f"{doing}…"]),
                             classes="debrief-section", id="causes")
            why, command = d.what_if
            yield Static(f"[b]What if?[/b]\n{why}\n  [$text-accent]{command}[/]",
                         classes="debrief-section", id="what-if")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        d = self.debrief
        markers = [Marker(m.clock, m.glyph, m.style) for m in d.marks]
        self.query_one(LineChart).set_data(
            [Series("equity", d.equity, "chart--series-2")], d.window, markers, equity_label)
        if self.causes:
            self.run_worker(self._work_out_causes, thread=True, exclusive=True)

    def _work_out_causes(self) -> None:
        """In a thread: the counterfactual runs (seconds at full size), then the screen."""
        try:
            outcomes = debrief_model.counterfactuals(self.model)
        except Exception as error:  # noqa: BLE001 - said on the screen, never a traceback
            self.app.call_from_thread(self._show_causes, None, f"{type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._show_causes, outcomes, None)

    def _show_causes(self, outcomes, error: str | None) -> None:
        self.outcomes = outcomes
        lines = [f"The re-runs failed ({error})."] if outcomes is None else \
            debrief_model.cause_lines(outcomes)
        self.query_one("#causes", Static).update(self._section(CAUSES_TITLE, lines))
        if outcomes is not None:
            d = self.debrief
            series = [Series("equity", d.equity, "chart--series-2")]
            for (name, o), style in zip(((k, v) for k, v in outcomes.items() if k != "real"),
                                        ("chart--series-1", "chart--series-3"), strict=False):
                series.append(Series(name, o.equity_curve, style))
            markers = [Marker(m.clock, m.glyph, m.style) for m in d.marks]
            chart = self.query_one(LineChart)
            chart.set_data(series, d.window, markers, equity_label)
            names = [k for k in outcomes if k != "real"]
            colours = ("$text-secondary", "$text-accent")
            chart.border_title = "your equity, and your session re-run"
            chart.border_subtitle = "[$text-warning]━ you[/]  " + "  ".join(
                f"[{c}]━ {escape(n)}[/]" for n, c in zip(names, colours, strict=False)) + \
                "  [$text-error]A[/] first ADL  [$text-primary]★[/] you"

    @staticmethod
    def _section(title: str, lines) -> str:
        return f"[b]{title}[/b]\n" + "\n".join(f"• {escape(line)}" for line in lines)

    def action_back(self) -> None:
        self.dismiss()

    def action_new_game(self) -> None:
        self.app.show_title()
