"""Shared pieces of the save and replay tests: a small, fast copy of the crash level.

``small_run`` is the frozen 1011 level of ``tests/game/fixtures/levels`` with 300 traders and
5-second steps: 04:00–05:35 in about three seconds, with liquidations and ADL on every seed.
"""

from __future__ import annotations

from pathlib import Path

from engine.crash import CrashRun
from engine.level import load_level

ROOT = Path(__file__).resolve().parent.parent.parent
LEVEL = ROOT / "tests" / "game" / "fixtures" / "levels" / "1011.toml"
SMALL = ["crowd.accounts=300", "clock.step_seconds=5"]
GOLDEN = Path(__file__).resolve().parent / "golden"


def small_level(role: str = "hedger", extra: list[str] = ()):
    return load_level(LEVEL, SMALL + [f"player.role={role}"] + list(extra))


def small_run(role: str = "hedger", seed: int | None = None, extra: list[str] = ()) -> CrashRun:
    return CrashRun(small_level(role, extra), seed=seed)


def golden_path(version: int, role: str = "hedger") -> Path:
    return GOLDEN / f"v{version}-1011-{role}-0410.cfsave"
