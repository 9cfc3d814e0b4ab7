"""The floor's clock: turns wall time into simulation steps at the chosen speed.

The engine never reads the wall clock; this is the one place in the game that does, and only to
decide how many ``Simulation.step()`` calls a UI tick owes. Pure Python, so tests drive it with
made-up times.
"""

from __future__ import annotations

from collections import deque

SPEEDS = (1.0, 5.0, 10.0, 30.0, 60.0)
"""The speed ladder of the ``+``/``-`` keys: simulated seconds per wall second."""

MAX_TICK_GAP = 0.25
"""Wall seconds a single tick may account for: after a stall the clock skips, it never races."""


REAL_WINDOW = 5.0
"""Seconds of wall time the achieved speed is measured over."""


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
        self._samples: deque[tuple[float, int]] = deque()
        """(wall time, sim time) of recent ticks, for the speed really achieved."""

    # --- controls ------------------------------------------------------------------------------
    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        self._last = None
        self._samples.clear()
        return self.paused

    def faster(self) -> float:
        self.speed = next((s for s in SPEEDS if s > self.speed), self.speed)
        self._samples.clear()
        return self.speed

    def slower(self) -> float:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), self.speed)
        self._samples.clear()
        return self.speed

    # --- the speed really achieved ---------------------------------------------------------------
    def note(self, now: float, sim_t: int) -> None:
        """Record where the simulation is at wall time ``now`` (every tick)."""
        if self.paused:
            self._samples.clear()
            return
        self._samples.append((now, sim_t))
        while self._samples and self._samples[0][0] < now - REAL_WINDOW:
            self._samples.popleft()

    def real_speed(self) -> float | None:
        """Simulated seconds per wall second over the last ``REAL_WINDOW`` seconds (None until
        two seconds have been seen): below the set speed when the machine cannot keep up."""
        if len(self._samples) < 2:
            return None
        (w0, t0), (w1, t1) = self._samples[0], self._samples[-1]
        return (t1 - t0) / (w1 - w0) if w1 - w0 >= 2.0 else None

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
