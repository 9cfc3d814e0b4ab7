"""Small-crowd copies of the workshop levels (the same rules, fewer accounts) for fast runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from engine.crash import CrashRun
from engine.level import load_level

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ROOT / "levels"
SMALL = ["crowd.accounts=1500", "clock.step_seconds=2"]
"""Fewer accounts and 2-second steps: the same rules, about a third of the time."""


def small_run(name: str, seed: int, extra: list[str] = ()) -> CrashRun:
    return CrashRun(load_level(LEVELS / f"{name}.toml", SMALL + list(extra)), seed=seed)


def conserving(run: CrashRun) -> CrashRun:
    """Check after every step that total money equals net deposits, to the unit."""
    def check(sim, events):
        ex = sim.exchange
        assert ex.total_money() == ex.net_deposits, f"money not conserved at {sim.hhmm}"
    run.sim.listeners.append(check)
    return run


@pytest.fixture
def small_level(tmp_path):
    """A level file based on a shipped level with a small crowd (for compare and the CLI)."""
    def make(name: str, body: str = "") -> Path:
        path = tmp_path / f"small-{name}.toml"
        path.write_text(f'base = "{(LEVELS / name).as_posix()}.toml"\n{body}\n[crowd]\n'
                        f'accounts = 1500\n', encoding="utf-8")
        return path
    return make


@dataclass
class Finished:
    """A small-crowd run of a shipped level to its end, with every event it emitted."""
    run: CrashRun
    summary: dict
    events: list


@cache
def finished(name: str, seed: int, extra: tuple[str, ...] = ()) -> Finished:
    """Run once per test session and share (the runs are read-only after this)."""
    run = conserving(small_run(name, seed, list(extra)))
    events: list = []
    run.sim.listeners.append(lambda sim, step_events: events.extend(
        (sim.t, e) for e in step_events))
    run.run()
    return Finished(run, run.summary(), events)
