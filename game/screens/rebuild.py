"""Rebuilding a resumed session: its commands re-run from the opening bell, with progress.

A save holds the state at its time; the story (tape, timeline, notices, the debrief) comes from
re-running the session's commands on a fresh run of its level and seed
(``game.floor_model.rebuilt``). At full size that takes seconds, so it runs in a worker thread
while this screen shows how far it has come (sim time reached of the save's time); when it is
done, ``then(model, note)`` opens the floor.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, ProgressBar, Static

from .. import fmt


class RebuildScreen(Screen):
    """``loaded`` (a run restored from a save) re-run from its start to its time."""

    DEFAULT_CSS = """
    RebuildScreen { align: center middle; }
    RebuildScreen > Vertical { width: 66; height: auto; border: round $accent; padding: 1 2; }
    RebuildScreen ProgressBar { margin-top: 1; }
    """

    def __init__(self, loaded, then):
        super().__init__()
        self.loaded = loaded
        self.then = then
        self.target = max(loaded.sim.t, 1)

    def compose(self) -> ComposeResult:
        sim = self.loaded.sim
        with Vertical():
            n = len(sim.command_log)
            said = "" if n == 0 else f" with your {n:,} command{'s' * (n != 1)} at their times"
            yield Static(f"Rebuilding your session to {sim.hhmm} HKT: the market re-run from "
                         f"the opening bell{said}, so the tape, your timeline and the debrief "
                         f"are the whole session's.")
            yield ProgressBar(total=self.target, show_eta=False, id="rebuild-bar")
            yield Label("", id="rebuild-at")

    def on_mount(self) -> None:
        self.run_worker(self._rebuild, thread=True, exclusive=True)

    def _rebuild(self) -> None:
        from ..floor_model import rebuilt
        model, note = rebuilt(self.loaded, progress=self._progress)
        self.app.call_from_thread(self.then, model, note)

    def _progress(self, t: int, target: int) -> None:
        self.app.call_from_thread(self._show, t)

    def _show(self, t: int) -> None:
        self.query_one(ProgressBar).update(progress=t)
        clock = self.loaded.sim.start + t
        self.query_one("#rebuild-at", Label).update(
            f"at {fmt.hhmm(clock, seconds=True)} of {self.loaded.sim.hhmm}")
