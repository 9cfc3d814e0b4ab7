"""A trainee's first two screens in the workshop room: join (name and room code), then the lobby
until the facilitator starts the heat.

Both read and write the room only through ``RoomStore``. The lobby looks at the room twice a
second: who has joined (names escaped: they are typed by people), and the heat's state; when the
heat runs, ``then(trainee, heat)`` takes the trainee to the floor.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from engine.errors import InvalidInput

from .store import RoomStore, level_label


class JoinScreen(Screen):
    """Name and room code; a wrong code or a bad name is said in place, nothing else happens."""

    DEFAULT_CSS = """
    JoinScreen { align: center middle; }
    JoinScreen > Vertical { width: 60; height: auto; border: round $accent; padding: 1 2; }
    JoinScreen Input { margin-top: 1; }
    JoinScreen #join-error { color: $error; margin-top: 1; }
    """

    def __init__(self, store: RoomStore, then: Callable, need_code: bool = True):
        super().__init__()
        self.store = store
        self.then = then
        self.need_code = need_code

    def compose(self) -> ComposeResult:
        heat = self.store.heat()
        with Vertical():
            yield Static(f"[b]crashfloor workshop[/b] — heat {heat.id}: level "
                         f"{escape(level_label(heat.level))}"
                         + (f", variant {escape(heat.variant)}" if heat.variant else ""))
            yield Input(placeholder="your name (1–24 characters)", id="join-name",
                        max_length=24)
            if self.need_code:
                yield Input(placeholder="room code", id="join-code", password=True,
                            max_length=12)
            yield Button("Join", id="join-go", variant="primary")
            yield Label("", id="join-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        code = self.query("#join-code")
        if event.input.id == "join-name" and code and not code.first(Input).value:
            code.first(Input).focus()  # enter after the name goes on to the code
            return
        self._join()

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self._join()

    def _join(self) -> None:
        error = self.query_one("#join-error", Label)
        name = self.query_one("#join-name", Input).value
        if self.need_code and not self.store.check_code(
                self.query_one("#join-code", Input).value):
            error.update("That is not this room's code.")
            return
        try:
            trainee = self.store.join(self.store.heat().id, name)
        except InvalidInput as exc:
            error.update(escape(str(exc)))
            return
        self.then(trainee)


class LobbyScreen(Screen):
    """Waiting for the heat to start: the heat, who has joined; ``then(trainee, heat)`` once it
    runs (at once if it already does: a trainee who rejoins)."""

    DEFAULT_CSS = """
    LobbyScreen { align: center middle; }
    LobbyScreen > Vertical { width: 66; height: auto; border: round $accent; padding: 1 2; }
    LobbyScreen #lobby-who { margin-top: 1; color: $text-muted; }
    """

    POLL_SECONDS = 0.5

    def __init__(self, store: RoomStore, trainee, then: Callable):
        super().__init__()
        self.store = store
        self.trainee = trainee
        self.then = then
        self.left = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Welcome, {escape(self.trainee.name)}.", id="lobby-hello")
            yield Static("", id="lobby-heat")
            yield Static("", id="lobby-who")

    def on_mount(self) -> None:
        self.look()
        self.set_interval(self.POLL_SECONDS, self.look)

    def look(self) -> None:
        """Read the room: the heat's state and who is in."""
        if self.left:
            return
        heat = self.store.heat(self.trainee.heat)
        if heat.state in ("running", "paused", "ended"):
            self.left = True
            self.then(self.trainee, heat)
            return
        self.query_one("#lobby-heat", Static).update(
            f"Heat {heat.id}: {escape(level_label(heat.level))}"
            + (f" ({escape(heat.variant)})" if heat.variant else "")
            + f", seed {heat.seed}. Waiting for the facilitator to start it…")
        names = [escape(t.name) for t in self.store.trainees(heat.id)]
        self.query_one("#lobby-who", Static).update(
            f"In the room ({len(names)}): " + ", ".join(names))
