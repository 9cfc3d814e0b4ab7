"""The crashfloor Textual app: title → briefing → floor → debrief, with the engine underneath.

The App is small: it loads levels, builds the ``CrashRun`` (the engine handle is made here or
passed in, never inside widgets), wires the screens, and says "terminal too small" below the
minimum size. ``CrashfloorApp(run=prepared_run, paused=True, ticking=False)`` opens straight on
the floor of a run stepped elsewhere — how tests and screenshots get a fixed moment.

Saves: the floor autosaves every 5 sim-minutes (``FloorScreen``), the app on quit and when an
unexpected exception reaches it (then an error screen offers the title). One autosave file per
session, renamed as the sim time moves on, with its replay beside it (``saves_dir``).
"""

from __future__ import annotations

import json

from datetime import datetime
from pathlib import Path
from collections.abc import Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from engine.crash import CrashRun
from engine.errors import SaveError
from engine.level import SHIPPED_LEVELS_DIR, find_level, load_level

from .debrief_model import ROLE_LESSONS
from .floor_model import FloorModel
from .screens.briefing import BriefingScreen
from .screens.floor import FloorScreen
from .screens.title import TitleScreen
from .widgets.too_small import MIN_HEIGHT, MIN_WIDTH

LEVELS_DIR = SHIPPED_LEVELS_DIR
"""The shipped levels (one definition: ``engine.level.SHIPPED_LEVELS_DIR``)."""


def load(level: str, role: str | None = None, overrides: Iterable[str] = (),
         levels_dir: Path = LEVELS_DIR):
    """A level by name or path, with ``player.role`` overridden when ``role`` is given."""
    path = find_level(level, levels_dir)
    extra = list(overrides)
    if role:
        extra.append(f"player.role={role}")
        own = load_level(path, list(overrides)).data["player"]["role"]
        if own != role and role in ROLE_LESSONS:  # not the lesson of the role it was written for
            extra.append(f"lesson={json.dumps(ROLE_LESSONS[role])}")
    return load_level(path, extra)


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
                 overrides: Iterable[str] = (), paused: bool = False, ticking: bool = True,
                 saves_dir: Path | None = None, resumed: CrashRun | None = None, replay=None,
                 guide: bool = True):
        super().__init__()
        self.guide = guide
        """Whether a level's first-run guide may show (off for benchmarks and screenshots)."""
        self.levels_dir = Path(levels_dir)
        self.start_level, self.role, self.seed, self.speed = level, role, seed, speed
        self.overrides = list(overrides)
        self.prepared = model if model is not None else (FloorModel(run) if run else None)
        self.story_note: str | None = None
        """Why a resumed session's story starts at its save (None: rebuilt from the start)."""
        self.to_rebuild = resumed if resumed is not None and replay is None else None
        """A run restored from a save, rebuilt with its story when the app starts."""
        if resumed is not None and replay is not None:
            self.prepared = FloorModel(resumed, replay=replay)
        self.paused, self.ticking = paused, ticking
        if saves_dir is None:
            from .cli_saves import saves_dir as default_saves  # $CRASHFLOOR_SAVES or saves/
            saves_dir = default_saves()
        self.saves_dir = Path(saves_dir)
        self.autosaved: Path | None = None
        """This session's autosave (replaced by each newer one)."""
        self._recovering = False

    def on_mount(self) -> None:
        self._check_size()
        if self.to_rebuild is not None:
            self.rebuild_and_open(self.to_rebuild)
        elif self.prepared is not None:
            self.open_floor(self.prepared)
            self._say_story_note()
            self._warn_if_modified(self.prepared.run)
        elif self.start_level is not None:
            self.start_floor(self.load(self.start_level, self.role))
        else:
            self.push_screen(TitleScreen(self.levels_dir, self.overrides, self.saves_dir))

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
        self._replace(TitleScreen(self.levels_dir, self.overrides, self.saves_dir))

    def load(self, name: str, role: str | None = None):
        return load(name, role, self.overrides, self.levels_dir)

    def show_briefing(self, name: str, role: str) -> None:
        self._replace(BriefingScreen(self.load(name, role)))

    def start_floor(self, level) -> None:
        self.open_floor(FloorModel(CrashRun(level, seed=self.seed)))

    def open_floor(self, model: FloorModel) -> None:
        speed = self.speed or model.level.data["clock"]["speed"]
        self.autosaved = None
        self._replace(FloorScreen(model, speed=speed, paused=self.paused, ticking=self.ticking))

    # --- saves -------------------------------------------------------------------------------
    def resume(self, path: Path) -> bool:
        """Open the floor of a saved game; a bad file is a notification, never a crash. A save
        marked modified (``engine.saves.load_run``) opens with a warning saying why."""
        from textual.markup import escape
        from engine.saves import escape_text, load_run
        try:
            run = load_run(path)
        except SaveError as exc:
            self.notify(escape(escape_text(exc, 600)), title="Cannot load that save",
                        severity="error", timeout=10)
            return False
        except Exception as exc:  # noqa: BLE001 - a hostile file must never end the game
            self.notify(escape(f"{escape_text(path, None)}: cannot be loaded "
                               f"({type(exc).__name__}: {escape_text(exc, 200)})"),
                        title="Cannot load that save", severity="error", timeout=10)
            return False
        self.rebuild_and_open(run, Path(path))
        return True

    def rebuild_and_open(self, run: CrashRun, path: Path | None = None) -> None:
        """Re-run a restored session's commands from its start with a progress screen
        (``RebuildScreen``: a worker thread), then open its floor, saying where its story
        starts if it could not be rebuilt and whether the save was marked modified."""
        from textual.markup import escape
        from engine.saves import escape_text
        from .screens.rebuild import RebuildScreen

        def opened(model: FloorModel, note: str | None) -> None:
            self.story_note = note
            self.open_floor(model)
            self._say_story_note()
            if path is not None:
                self.autosaved = path if path.name.startswith("autosave-") else None
                self.notify(escape(f"{escape_text(run.level.data['title'], 80)} at "
                                   f"{run.sim.hhmm[:5]} HKT"), title="Resumed", timeout=3)
            self._warn_if_modified(run)
        self._replace(RebuildScreen(run, opened))

    def _say_story_note(self) -> None:
        if self.story_note is not None:
            self.notify(f"The tape and your timeline start at the save: {self.story_note}.",
                        title="Story not rebuilt", severity="warning", timeout=8)

    def _warn_if_modified(self, run) -> None:
        """A run loaded from a save marked modified (``engine.saves.load_run``) says so."""
        from textual.markup import escape
        from engine.saves import escape_text, modified_reason
        reason = modified_reason(run)
        if reason is not None:
            self.notify(escape(f"This save is marked modified: {escape_text(reason, 300)}. "
                               f"Its results will not be ranked as a clean session."),
                        title="Modified save", severity="warning", timeout=10)

    def autosave(self, model: FloorModel | None = None) -> Path | None:
        """Save the open floor's run (and its replay) as this session's autosave; returns the
        path, or None when there is nothing to save or the write failed (said in a notice)."""
        from engine import saves
        from engine.saves import replay
        model = model or (self.floor.model if self.floor is not None else None)
        if model is None or model.replay is not None:
            return None   # a replay being watched is not a game to save
        target = self.saves_dir / saves.run_name(model.run, datetime.now(), "autosave-")
        try:
            saves.save_run(model.run, target)
            replay.save_replay(model.run, target.with_suffix(replay.SUFFIX))
        except SaveError as exc:
            self.notify(str(exc), title="Autosave failed", severity="error", timeout=8)
            return None
        old, self.autosaved = self.autosaved, target
        if old is not None and old != target:
            for stale in (old, old.with_suffix(replay.SUFFIX)):
                stale.unlink(missing_ok=True)
        return target

    async def action_quit(self) -> None:
        saved = None
        if self.floor is not None and not self._recovering:
            saved = self.autosave()
        self.exit(message=None if saved is None else
                  f"crashfloor: your session is saved in {saved}; continue it with "
                  f"`crashfloor play --resume {saved}` or Continue on the title screen")

    def floor_failed(self, error: Exception) -> None:
        """Something unexpected broke the floor (``FloorScreen`` guards its handlers): autosave
        what can be saved, say what happened, and offer the title instead of dying."""
        floor = self.floor
        if self._recovering or floor is None:
            raise error
        self._recovering = True
        try:
            saved = self.autosave(floor.model)
        except Exception:  # noqa: BLE001 - the state itself may be what broke
            saved = None
        from .screens.error import ErrorScreen
        self.call_later(self._show_error, ErrorScreen(error, saved))

    def _show_error(self, screen) -> None:
        self._replace(screen)
        self._recovering = False

    def _handle_exception(self, error: Exception) -> None:
        """Anything else that escapes: autosave the floor first, then Textual's usual exit."""
        floor = self.floor
        if floor is not None and not self._recovering:
            self._recovering = True
            try:
                self.autosave(floor.model)
            except Exception:  # noqa: BLE001 - never mask the original error
                pass
        super()._handle_exception(error)

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """On the floor a notice goes to its notice line (never over a panel); elsewhere a toast."""
        if isinstance(self.screen_stack[-1] if self.screen_stack else None, FloorScreen):
            self.screen_stack[-1].notify(message, title=title, severity=severity, markup=markup)
        else:
            super().notify(message, title=title, severity=severity, timeout=timeout,
                           markup=markup)

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
