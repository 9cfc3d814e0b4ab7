"""A trainee's app in the workshop room: join → lobby → the heat's floor → its debrief.

It is the game's own app (``CrashfloorApp``) with the room around it: the heat's level, variant
and seed decide the floor; every trainee's sessions save under the room's folder, one folder per
heat and name, so a trainee whose browser closed joins again by name and continues from the
autosave. While the floor runs, ``room_tick`` (called by the floor every tick) reports the sim
time and equity to the room about once a second, follows the facilitator's pause, and when the
heat ends (or the session does) records the result and opens the debrief.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from engine.crash import CrashRun

from ..app import CrashfloorApp
from ..floor_model import FloorModel
from .screens import JoinScreen, LobbyScreen
from .store import RoomStore

REPORT_EVERY = 1.0
"""Wall seconds between two progress reports to the room."""


def trainee_dir(room_dir: Path, heat: int, name: str) -> Path:
    """Where a trainee's saves go: a digest of the name, never the name itself, in the path."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return Path(room_dir) / f"heat-{heat}" / digest


def heat_level(heat, overrides=(), levels_dir: Path | None = None):
    """A heat's level under its variant (the trainees' floors and the export's re-run)."""
    from game.cli import variant_overrides

    from ..app import LEVELS_DIR, load
    extra = variant_overrides(heat.level, heat.variant) if heat.variant else []
    return load(heat.level, None, [*overrides, *extra], levels_dir or LEVELS_DIR)


class RoomTraineeApp(CrashfloorApp):
    """``db``: the room's database (``RoomStore``); ``need_code``: whether the room code is
    asked for (a room on a network; on loopback the facilitator may leave it out)."""

    TITLE = "crashfloor workshop"
    CSS_PATH = Path(__file__).resolve().parent.parent / "crashfloor.tcss"

    def __init__(self, db: str | Path, *, need_code: bool = True, **kwargs):
        self.store = RoomStore(db)
        self.room_dir = Path(db).resolve().parent
        super().__init__(saves_dir=self.room_dir / "saves", guide=False, **kwargs)
        self.need_code = need_code
        self.trainee = None
        self.heat = None
        self._reported = 0.0
        self._room_paused = False
        self._finished = False

    def on_mount(self, event) -> None:
        event.prevent_default()  # not the game's title screen: the room's join screen
        self._check_size()
        self.push_screen(JoinScreen(self.store, self._joined, self.need_code))

    def _joined(self, trainee) -> None:
        self.trainee = trainee
        self.saves_dir = trainee_dir(self.room_dir, trainee.heat, trainee.name)
        self.push_screen(LobbyScreen(self.store, trainee, self._start))

    def _start(self, trainee, heat) -> None:
        """The heat runs: the floor of its level (continued from this trainee's autosave)."""
        self.heat = heat
        from engine.saves import SUFFIX
        saved = sorted(self.saves_dir.glob(f"autosave-*{SUFFIX}")) if self.saves_dir.exists() \
            else []
        if saved and self.resume(saved[-1]):
            return
        level = self.heat_level(heat)
        self.open_floor(FloorModel(CrashRun(level, seed=heat.seed)))

    def heat_level(self, heat):
        """The heat's level, under its variant (and the app's own overrides)."""
        return heat_level(heat, self.overrides, self.levels_dir)

    # --- while the floor runs ----------------------------------------------------------------
    def room_tick(self, floor) -> None:
        """Report, follow the facilitator's pause, and finish at the heat's or session's end."""
        if self.trainee is None:
            return
        if self._finished:  # the heat is over: the clock stays stopped (the debrief reopens it)
            if not floor.pacer.paused:
                floor.pacer.toggle_pause()
            return
        now = time.monotonic()
        if now - self._reported < REPORT_EVERY and not floor.model.sim.finished:
            return
        self._reported = now
        sim = floor.model.sim
        equity = float(floor.model.run.sim.exchange.equity(floor.player))
        self.store.report(self.trainee.id, sim.clock, equity)
        heat = self.store.heat(self.trainee.heat)
        if heat.state == "paused" and not floor.pacer.paused:  # again if the trainee unpaused
            floor.pacer.toggle_pause()
            if not self._room_paused:
                floor.notify("The facilitator paused the heat.", title="Paused", timeout=5)
            self._room_paused = True
        elif heat.state == "running" and self._room_paused:
            self._room_paused = False
            if floor.pacer.paused:
                floor.pacer.toggle_pause()
            floor.notify("The heat goes on.", title="Running", timeout=3)
        if heat.state == "ended" or sim.finished:
            self._finish(floor)

    def _finish(self, floor) -> None:
        """Record the result and open the debrief (once)."""
        self._finished = True
        if not floor.pacer.paused:
            floor.pacer.toggle_pause()
        summary = floor.model.run.summary()
        player = summary.get("player") or {}
        objectives = summary.get("objectives") or {}
        self.store.finish(self.trainee.id, {
            "score": objectives.get("score"), "stars": objectives.get("stars"),
            "equity_end": player.get("equity_end"), "pnl_usd": player.get("pnl_usd"),
            "adl_hits": player.get("adl_hits"), "survived": player.get("survived"),
            "sim_end": summary.get("sim_end")})
        self.autosave(floor.model)
        floor.action_debrief()
