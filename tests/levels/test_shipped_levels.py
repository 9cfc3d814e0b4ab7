"""Every level shipped in ``levels/`` loads, passes ``crashfloor check``, builds into a
``CrashRun`` and steps its first 60 simulated seconds with money conserved after every step.

Runs use a smaller crowd (``crowd.accounts`` capped at 2,000 through ``load_level`` overrides,
like ``--set``) so that each level costs a fraction of a second. No outcome figure is asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import game.cli
from engine.crash import CrashRun
from engine.level import list_levels, load_level

ROOT = Path(__file__).resolve().parents[2]
LEVELS_DIR = ROOT / "levels"
SHIPPED = sorted(LEVELS_DIR.glob("*.toml"))
SMALL_CROWD = 2_000
STEP_SECONDS = 60


def small(path: Path):
    """The level with its crowd capped at SMALL_CROWD accounts."""
    accounts = load_level(path).get("crowd.accounts")
    return load_level(path, [f"crowd.accounts={min(accounts, SMALL_CROWD)}"])


def test_levels_are_shipped():
    assert SHIPPED, f"no levels in {LEVELS_DIR}"
    assert LEVELS_DIR / f"{game.cli.DEFAULT_LEVEL}.toml" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_level_loads(path):
    level = load_level(path)
    assert level.name == path.stem
    assert level.symbols and level.tracked_symbol in level.symbols
    assert level.times.start < level.times.end <= level.times.stop
    # shown by `crashfloor levels` and the title screen: a shipped level names itself
    assert level.data["title"] and level.data["title"] != "Untitled level"
    assert level.data["summary"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_crashfloor_check_accepts_shipped_level(path, capsys):
    title = load_level(path).data["title"]
    for arg, shown in ((str(path), str(path)), (path.stem, str(game.cli.LEVELS_DIR / path.name))):
        capsys.readouterr()
        assert game.cli.main(["check", arg]) == 0, arg
        out, err = capsys.readouterr()
        assert out == f"{shown}: ok — {title}\n"
        assert err == ""


def test_levels_lists_no_invalid_shipped_level():
    for name, title, _ in list_levels(LEVELS_DIR):
        assert not title.startswith("(invalid"), f"{name}: {title}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_level_runs_a_minute_with_money_conserved(path):
    level = small(path)
    assert level.get("crowd.accounts") <= SMALL_CROWD
    run = CrashRun(level)
    sim, ex = run.sim, run.sim.exchange
    assert run.seed == level.data["seed"]
    assert sim.clock == level.times.start
    assert ex.total_money() == ex.net_deposits, "unbalanced before the first step"
    while sim.t < STEP_SECONDS and not sim.finished:
        run.step()
        assert ex.total_money() == ex.net_deposits, f"money not conserved at {sim.hhmm}"
    assert sim.t >= min(STEP_SECONDS, sim.duration)
    summary = run.summary()
    assert summary["conservation_error"] == 0
    assert summary["level"] == path.stem
    assert list(summary["symbols"]) == level.symbols
    for sym, prices in summary["symbols"].items():
        assert prices["open"] > 0 and prices["low"] > 0, sym


@pytest.mark.parametrize("path", sorted((Path(__file__).parent / "fixtures" / "valid").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_valid_test_fixtures_load(path):
    """The small levels under tests/levels/fixtures/valid/ that fast tests run must stay valid."""
    assert load_level(path).symbols
