"""Small-crowd copies of the workshop levels (the same rules, fewer accounts) for fast runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.crash import CrashRun
from engine.level import load_level

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ROOT / "levels"
SMALL = ["crowd.accounts=1500"]


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
