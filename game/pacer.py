"""The floor's clock: turns wall time into simulation steps at the chosen speed.

The engine never reads the wall clock; this is the one place in the game that does, and only to
decide how many ``Simulation.step()`` calls a UI tick owes. Pure Python, so tests drive it with
made-up times.
"""

from __future__ import annotations

SPEEDS = (1.0, 5.0, 10.0, 30.0, 60.0)
"""The speed ladder of the ``+``/``-`` keys: simulated seconds per wall second."""

MAX_TICK_GAP = 0.25
"""Wall seconds a single tick may account for: after a stall the clock skips, it never races."""


class Pacer:
    """Speed, pause and the simulated time owed since the last tick.

    ``due(now)`` returns whole steps to run; the caller runs as many as its time budget allows and
    drops the rest, so a slow machine sees a slower clock rather than a backlog."""

    def __init__(self, step_seconds: int = 1, speed: float = 10.0, paused: bool = False):
        self.step_seconds = step_seconds
        self.speed = float(speed)
        self.paused = paused
        self._owed = 0.0
        self._last: float | None = None

    # --- controls ------------------------------------------------------------------------------
    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        self._last = None
        return self.paused

    def faster(self) -> float:
        self.speed = next((s for s in SPEEDS if s > self.speed), self.speed)
        return self.speed

    def slower(self) -> float:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), self.speed)
        return self.speed

    # --- ticks ---------------------------------------------------------------------------------
    def due(self, now: float) -> int:
        """Steps owed at wall time ``now`` (seconds, monotonic)."""
        if self.paused or self._last is None:
            self._last = now
            return 0
        elapsed = min(max(now - self._last, 0.0), MAX_TICK_GAP)
        self._last = now
        self._owed += elapsed * self.speed
        steps = int(self._owed // self.step_seconds)
        self._owed -= steps * self.step_seconds
        return steps
