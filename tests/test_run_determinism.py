"""Whole-level runs are deterministic and conserve money after every step.

Same level + seed → the same events, the same ``checksum()`` and the same ``summary()``, in this
process, again in this process, and in a subprocess with another PYTHONHASHSEED; different seeds
→ different checksums. The design card's invariant, ``total_money() == net_deposits``, is checked
after EVERY step of small runs. All runs use the small fixture level (conftest.py), so figures are
only ever compared with another run, never with a number.
"""

from __future__ import annotations

import json
import os

import pytest

from engine.crash import CrashRun
from engine.level import load_level

from .conftest import MINI_LEVEL, run_cli_subprocess

SEED = 5


def build(seed: int | None = SEED, overrides=()) -> CrashRun:
    return CrashRun(load_level(MINI_LEVEL, list(overrides)), seed=seed)


def traced_run(seed: int = SEED) -> tuple[CrashRun, list[tuple[int, list[str]]], list[str]]:
    """Step a whole run by hand: (run, every step's events as reprs, a checksum every minute)."""
    run = build(seed)
    sim = run.sim
    events, sums = [], [run.checksum()]
    while not sim.finished:
        events.append((sim.t, [repr(e) for e in run.step()]))
        if sim.t % 60 == 0:
            sums.append(run.checksum())
    return run, events, sums


@pytest.fixture(scope="module")
def two_runs():
    return traced_run(), traced_run()


def as_json(summary: dict) -> dict:
    """The summary as ``crashfloor run --json`` prints it."""
    return json.loads(json.dumps(summary))


# --- same seed, same run ----------------------------------------------------------------------
def test_same_seed_same_checksum_and_summary(two_runs):
    (first, _, _), (second, _, _) = two_runs
    assert first.sim.finished and second.sim.finished
    assert first.checksum() == second.checksum()
    assert first.summary() == second.summary()
    assert json.dumps(first.summary()) == json.dumps(second.summary())


def test_same_seed_same_events_and_states_step_by_step(two_runs):
    (_, events_a, sums_a), (_, events_b, sums_b) = two_runs
    assert len(events_a) == len(events_b) > 0
    assert sum(len(ev) for _, ev in events_a) > 0, "the fixture level produced no events"
    for (t, a), (_, b) in zip(events_a, events_b, strict=False):
        assert a == b, f"events differ at t={t}"
    assert sums_a == sums_b


def test_run_is_the_same_when_driven_step_by_step_or_resumed(two_runs):
    """``run()`` in one go, ``run(until=)`` then ``run()``, and ``step()`` by hand all agree."""
    (stepped, _, _), _ = two_runs
    whole = build()
    whole.run()
    resumed = build()
    resumed.run(until="04:57")
    assert resumed.sim.hhmm == "04:57:00"
    resumed.run()
    assert whole.checksum() == resumed.checksum() == stepped.checksum()
    assert whole.summary() == resumed.summary() == stepped.summary()


def test_same_seed_same_json_in_a_subprocess_with_another_hash_seed(two_runs):
    (run, _, _), _ = two_runs
    hash_seed = "271828" if os.environ.get("PYTHONHASHSEED") != "271828" else "314159"
    proc = run_cli_subprocess(["run", str(MINI_LEVEL), "--seed", str(SEED), "--json"],
                              timeout=120, PYTHONHASHSEED=hash_seed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == as_json(run.summary())


def test_default_seed_is_the_levels_seed():
    level = load_level(MINI_LEVEL)
    a, b = CrashRun(level), CrashRun(level, seed=level.data["seed"])
    a.run(until="04:52")
    b.run(until="04:52")
    assert a.seed == level.data["seed"]
    assert a.checksum() == b.checksum()


# --- different seeds, different runs ----------------------------------------------------------
def test_different_seeds_give_different_checksums(two_runs):
    (run, _, _), _ = two_runs
    finals = {SEED: run.checksum()}
    partial = {}
    for seed in (SEED, SEED + 1, SEED + 2):
        other = build(seed)
        other.run(until="04:55")
        partial[seed] = other.checksum()
        if seed != SEED:
            other.run()
            finals[seed] = other.checksum()
    assert len(set(partial.values())) == 3, partial
    assert len(set(finals.values())) == 3, finals


# --- money is conserved after every step ------------------------------------------------------
@pytest.mark.parametrize("overrides", [
    (),
    ("exchange.fund_shared=true",),
    ("exchange.adl_policy=bitmex", "exchange.mark_method=index"),
    ("market_makers.firms=0", "exchange.fund_multiplier=0"),  # the waterfall all the way to ADL
    ("clock.step_seconds=7", "player.role=none"),
], ids=["default", "shared-fund", "bitmex-index", "no-makers-no-fund", "7s-steps-no-player"])
def test_money_is_conserved_after_every_step(overrides):
    run = build(overrides=overrides)
    ex = run.sim.exchange
    assert ex.total_money() == ex.net_deposits, "unbalanced before the first step"
    steps = 0
    while not run.sim.finished:
        run.step()
        steps += 1
        error = ex.total_money() - ex.net_deposits
        assert error == 0, f"money not conserved after step {steps} ({run.sim.hhmm}): {error}"
    assert steps > 0
    summary = run.summary()
    assert summary["conservation_error"] == 0
    if not overrides:
        # the default fixture must actually exercise the waterfall, or this test proves little
        assert summary["liquidations"]["count"] > 0
