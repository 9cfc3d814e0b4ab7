"""What the player sees when something unexpected broke the floor: what happened, where the
autosave went, and the way back to the title (or out)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static


class ErrorScreen(Screen):
    BINDINGS = [Binding("enter,t", "title", "Back to the title"),
                Binding("q", "app.quit", "Quit")]

    def __init__(self, error: BaseException, saved: Path | None):
        super().__init__()
        self.error = error
        self.saved = saved

    def compose(self) -> ComposeResult:
        kept = (f"Your game was autosaved to [b]{escape(str(self.saved))}[/b]: "
                "[b]Continue[/b] on the title screen picks it up." if self.saved is not None
                else "[b]The game could not be autosaved.[/b]")
        what = f"{type(self.error).__name__}: {self.error}"
        with Vertical(classes="dialog-box"):
            yield Static("[b]Something went wrong on the floor.[/b]", markup=True)
            yield Static(escape(what), id="error-text")
            yield Static(kept, markup=True)
            yield Static("enter: back to the title · q: quit", classes="dim")
        yield Footer()

    def action_title(self) -> None:
        self.app.show_title()
