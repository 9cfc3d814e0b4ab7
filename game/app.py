"""The crashfloor Textual app: title → briefing → floor → debrief, with the engine underneath.

The App is small: it loads levels, builds the ``CrashRun`` (the engine handle is made here or
passed in, never inside widgets), wires the screens, and says "terminal too small" below the
minimum size. ``CrashfloorApp(run=prepared_run, paused=True, ticking=False)`` opens straight on
the floor of a run stepped elsewhere — how tests and screenshots get a fixed moment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from engine.crash import CrashRun
from engine.level import find_level, load_level

from .floor_model import FloorModel
from .screens.briefing import BriefingScreen
from .screens.floor import FloorScreen
from .screens.title import TitleScreen
from .widgets.too_small import MIN_HEIGHT, MIN_WIDTH

LEVELS_DIR = Path(__file__).resolve().parent.parent / "levels"


def load(level: str, role: str | None = None, overrides: Iterable[str] = (),
         levels_dir: Path = LEVELS_DIR):
    """A level by name or path, with ``player.role`` overridden when ``role`` is given."""
    extra = list(overrides) + ([f"player.role={role}"] if role else [])
    return load_level(find_level(level, levels_dir), extra)


class CrashfloorApp(App):
    """``level`` opens that level's floor at once (``crashfloor play``); ``run`` (or ``model``, a
    ``FloorModel`` attached before the run was stepped, so its tape is complete) opens the floor
    of a prepared run; none of them opens the title screen. ``overrides`` (``--set`` syntax)
    apply to every level the app loads."""

    CSS_PATH = "crashfloor.tcss"
    TITLE = "crashfloor"

    def __init__(self, *, levels_dir: Path = LEVELS_DIR, level: str | None = None,
                 role: str | None = None, seed: int | None = None, speed: float | None = None,
                 run: CrashRun | None = None, model: FloorModel | None = None,
                 overrides: Iterable[str] = (), paused: bool = False, ticking: bool = True):
        super().__init__()
        self.levels_dir = Path(levels_dir)
        self.start_level, self.role, self.seed, self.speed = level, role, seed, speed
        self.overrides = list(overrides)
        self.prepared = model if model is not None else (FloorModel(run) if run else None)
        self.paused, self.ticking = paused, ticking

    def on_mount(self) -> None:
        self._check_size()
        if self.prepared is not None:
            self.open_floor(self.prepared)
        elif self.start_level is not None:
            self.start_floor(self.load(self.start_level, self.role))
        else:
            self.push_screen(TitleScreen(self.levels_dir, self.overrides))

    # --- screens -----------------------------------------------------------------------------
    def _replace(self, screen: Screen) -> None:
        """Make ``screen`` the only screen above the default one."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_title(self) -> None:
        self._replace(TitleScreen(self.levels_dir, self.overrides))

    def load(self, name: str, role: str | None = None):
        return load(name, role, self.overrides, self.levels_dir)

    def show_briefing(self, name: str, role: str) -> None:
        self._replace(BriefingScreen(self.load(name, role)))

    def start_floor(self, level) -> None:
        self.open_floor(FloorModel(CrashRun(level, seed=self.seed)))

    def open_floor(self, model: FloorModel) -> None:
        speed = self.speed or model.level.data["clock"]["speed"]
        self._replace(FloorScreen(model, speed=speed, paused=self.paused, ticking=self.ticking))

    @property
    def floor(self) -> FloorScreen | None:
        """The floor screen, if one is open (wherever it is in the stack)."""
        return next((s for s in self.screen_stack if isinstance(s, FloorScreen)), None)

    # --- too small ---------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size)

    def _check_size(self, size=None) -> None:
        width, height = size or self.size
        self.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")

    # --- the command palette -----------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, FloorScreen):
            for title, help_text, callback in screen.palette_commands():
                yield SystemCommand(title, help_text, callback)
