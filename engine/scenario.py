"""The outside world: index paths of the outside venues and the news timeline.

Each symbol's index follows the level's waypoints (linear in time between them, flat after the
last), times a mean-reverting noise term drawn from the simulation's generator, so that two seeds
give two plausible tapes around the same shock. The local books are *not* driven by this path:
agents trade around it, and the local price is whatever the book prints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agents.base import AgentState
from .events import News


@dataclass(slots=True)
class IndexPath:
    """Waypoints (seconds of day, USD) → index ticks at any time, with noise."""
    times: np.ndarray
    prices: np.ndarray
    tick: float
    noise_bps: float
    reversion: float = 0.02

    def base(self, clock: int) -> float:
        return float(np.interp(clock, self.times, self.prices))


class Scenario(AgentState):
    """Moves every index once per step and publishes the news; a simulation ``scenario`` hook."""

    __slots__ = ("paths", "noise", "news", "_next_news")
    _wiring = ("paths", "news")

    def __init__(self, paths: list[IndexPath], news: list[tuple[int, str]]):
        self.paths = paths
        self.noise = np.zeros(len(paths))
        self.news = sorted(news, key=lambda item: item[0])
        self._next_news = 0

    def start(self, sim) -> None:
        """Set the opening index (no noise) before the first step."""
        for s, path in enumerate(self.paths):
            sim.exchange.set_index_ticks(s, max(1, round(path.base(sim.clock) / path.tick)))
        while self._next_news < len(self.news) and self.news[self._next_news][0] <= sim.clock:
            self._next_news += 1

    def __call__(self, sim) -> None:
        shocks = sim.rng.standard_normal(len(self.paths))
        ex = sim.exchange
        for s, path in enumerate(self.paths):
            self.noise[s] += -path.reversion * self.noise[s] + shocks[s] * path.noise_bps * 1e-4
            price = path.base(sim.clock) * (1.0 + self.noise[s])
            ex.set_index_ticks(s, max(1, round(price / path.tick)))
        while self._next_news < len(self.news) and self.news[self._next_news][0] <= sim.clock:
            ex.journal.emit(News(sim.t, self.news[self._next_news][1]))
            self._next_news += 1


