"""Policy sweeps (``crashfloor sweep``, ``game/sweep``): the same rows on a process pool and on
a Dask cluster, resuming after an interruption, refusing rows that would not compare, the
summary's statistics by hand, and the command end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.compare import Variant
from engine.errors import InvalidInput
from game.sweep import SweepStore, sweep
from game.sweep.summary import summarize

from .conftest import MINI_LEVEL

VARIANT = [Variant.parse("optimal:exchange.adl_policy=optimal")]
SEEDS = [1, 2, 3, 4]


def _sorted(rows):
    return sorted(rows, key=lambda r: (r["variant"], r["seed"]))


@pytest.fixture(scope="module")
def pool_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pool")
    result = sweep(MINI_LEVEL, VARIANT, SEEDS, folder, workers=2)
    assert (result.ran, result.skipped, result.interrupted) == (8, 0, False)
    return _sorted(SweepStore(folder).rows())


def test_a_sweep_writes_one_row_per_variant_and_seed(pool_rows):
    assert [(r["variant"], r["seed"]) for r in pool_rows] == \
        [("baseline", s) for s in SEEDS] + [("optimal", s) for s in SEEDS]
    for r in pool_rows:
        assert r["level"] == "mini_crash" and len(r["level_sha256"]) == 64
        assert r["adl_needed_usd"] is not None and r["adl_overshoot_usd"] == pytest.approx(
            r["adl_taken_usd"] - r["adl_needed_usd"], abs=0.02)
    # the no-ADL pass does not depend on the ADL policy: both variants needed the same
    by_seed = {}
    for r in pool_rows:
        by_seed.setdefault(r["seed"], set()).add(r["adl_needed_usd"])
    assert all(len(v) == 1 for v in by_seed.values())


def test_a_dask_local_cluster_gives_the_same_rows(pool_rows, tmp_path):
    pytest.importorskip("distributed")
    result = sweep(MINI_LEVEL, VARIANT, SEEDS, tmp_path, workers=2, cluster="local")
    assert result.ran == 8
    assert _sorted(SweepStore(tmp_path).rows()) == pool_rows


def test_an_interrupted_sweep_resumes_without_running_again(pool_rows, tmp_path):
    """ctrl-c after three runs (one part per run here): three rows are kept; the same sweep
    again runs the other five only, and the folder then holds what an uninterrupted one does."""
    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt
    first = sweep(MINI_LEVEL, VARIANT, SEEDS, tmp_path, workers=1, progress=stop, flush_every=1)
    assert first.interrupted and first.ran == 3
    assert len(SweepStore(tmp_path).rows()) == 3
    second = sweep(MINI_LEVEL, VARIANT, SEEDS, tmp_path, workers=2)
    assert (second.ran, second.skipped, second.interrupted) == (5, 3, False)
    assert _sorted(SweepStore(tmp_path).rows()) == pool_rows
    more = sweep(MINI_LEVEL, VARIANT, [*SEEDS, 5], tmp_path, workers=1)
    assert (more.ran, more.skipped) == (2, 8)



def _plan(needed: bool, ahead: int = 4):
    from game.sweep.runner import Plan
    groups = {((), seed): [(Variant(name, ()), seed) for name in ("base", "a", "b")]
              for seed in (1, 2, 3, 4, 5)}
    return Plan(groups, needed, ahead)


def _start(plan) -> list[tuple]:
    tasks = []
    while (task := plan.next()) is not None:
        tasks.append(task)
    return tasks


def test_the_pool_goes_seed_by_seed():
    """Four tasks out at most: the first four seeds' no-ADL passes; a pass that comes back
    readies its seed's runs, which go before any later seed's pass, the earliest seed first; each
    run carries its own seed's pass; every run is started once."""
    plan = _plan(needed=True)
    first = _start(plan)
    assert [(t[0], t[2]) for t in first] == [("pass", 1), ("pass", 2), ("pass", 3), ("pass", 4)]
    plan.finished(first[1], "pass 2")
    plan.finished(first[0], "pass 1")
    nxt = _start(plan)  # two slots: seed 1's runs before seed 2's
    assert [(t[0], t[1].name, t[2], t[3]) for t in nxt] == [
        ("run", "base", 1, "pass 1"), ("run", "a", 1, "pass 1")]
    started = first + nxt
    out = nxt + first[2:]
    while out:
        task = out.pop(0)
        plan.finished(task, f"pass {task[2]}" if task[0] == "pass" else None)
        more = _start(plan)
        started += more
        out += more
    runs = [(t[1].name, t[2], t[3]) for t in started if t[0] == "run"]
    assert sorted(runs) == sorted((n, s, f"pass {s}") for n in ("base", "a", "b")
                                  for s in range(1, 6))
    assert [t[2] for t in started if t[0] == "pass"] == [1, 2, 3, 4, 5]
    assert plan.next() is None and plan.out == 0


def test_rule_sets_with_passes_of_their_own_go_seed_by_seed_too():
    """A variant that changes the fund needs a no-ADL pass of its own: the passes still go
    seed by seed, not one rule set's every seed first (found in review)."""
    from game.sweep.runner import _jobs_by_pass
    base, fund = Variant("base", ()), Variant("fund", ("exchange.fund_multiplier=2",))
    jobs = [(v, seed) for v in (base, fund) for seed in (1, 2, 3)]
    assert [(key, seed) for key, seed in _jobs_by_pass(jobs)] == [
        ((), 1), (fund.overrides, 1), ((), 2), (fund.overrides, 2), ((), 3), (fund.overrides, 3)]


def test_without_the_pass_the_runs_go_in_seed_order():
    plan = _plan(needed=False, ahead=100)
    assert [(t[1].name, t[2]) for t in _start(plan)] == [
        (n, s) for s in range(1, 6) for n in ("base", "a", "b")]

def test_rows_that_would_not_compare_are_refused(tmp_path):
    sweep(MINI_LEVEL, VARIANT, [1], tmp_path, workers=1, needed=False)
    with pytest.raises(InvalidInput, match="variant 'optimal' was"):
        sweep(MINI_LEVEL, [Variant.parse("optimal:exchange.adl_policy=bitmex")], [1], tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["engine_build"] = "0" * 16
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="another engine build"):
        sweep(MINI_LEVEL, VARIANT, [2], tmp_path)


def _row(variant, seed, value):
    return {"level": "x", "variant": variant, "seed": seed, "overrides": "[]",
            **{k: None for k in ("liquidated_usd",)}, "adl_overshoot_usd": value}


def test_the_summary_by_hand():
    """Baseline overshoots 10, 20, 30, 40; the variant 4, 14, 24, 54 on the same seeds: means 25
    and 24, paired differences −6, −6, −6, +14 (mean −1); the worst seed of the variant is 4."""
    from game.sweep import summary as sm
    rows = [_row("baseline", s, v) for s, v in zip(SEEDS, [10, 20, 30, 40], strict=True)] + \
           [_row("v", s, v) for s, v in zip(SEEDS, [4, 14, 24, 54], strict=True)]
    for r in rows:
        for key in sm.METRIC_COLUMNS:
            r.setdefault(key, None)
    out = summarize(rows)
    dist = out["metrics"]["adl_overshoot_usd"]["baseline"]["dist"]
    assert (dist["n"], dist["mean"], dist["p50"]) == (4, 25.0, 25.0)
    paired = out["metrics"]["adl_overshoot_usd"]["v"]["vs_baseline"]
    assert paired["n"] == 4 and paired["mean"] == -1.0
    assert -6.0 <= paired["ci95"][0] <= -1.0 <= paired["ci95"][1] <= 14.0
    assert summarize(rows)["metrics"]["adl_overshoot_usd"]["v"]["vs_baseline"] == paired
    assert [w["seed"] for w in out["worst"]["v"]] == [4, 3, 2]
    assert out["worst"]["v"][0]["replay"] == "crashfloor run x --seed 4 --adl-needed --json"


def test_the_sweep_command_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "game.cli", "sweep", str(MINI_LEVEL), "--variant",
           "optimal:exchange.adl_policy=optimal", "--seeds", "1-2", "--out", str(out),
           "--workers", "2", "--report", str(tmp_path / "r.html"), "--csv",
           str(tmp_path / "rows.csv"), "--json", str(tmp_path / "s.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ADL overshoot" in done.stdout and "4 runs in" in done.stdout
    assert "crashfloor sweep: 4/4 runs (100.0%)" in done.stderr  # no terminal: plain lines
    html = (tmp_path / "r.html").read_text()
    assert html.count("<svg") >= 5 and "<script" not in html and "replay" in html
    lines = (tmp_path / "rows.csv").read_text().splitlines()
    assert lines[0].startswith("level,level_sha256,engine_build,variant") and len(lines) == 5
    assert json.loads((tmp_path / "s.json").read_text())["variants"] == ["baseline", "optimal"]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 runs in" in again.stdout and "4 already in" in again.stdout
    report = subprocess.run([sys.executable, "-m", "game.cli", "sweep-report", str(out), "--json",
                             str(tmp_path / "again.json")], capture_output=True, text=True,
                            timeout=120)
    assert report.returncode == 0 and "4 runs in" in report.stdout
    assert json.loads((tmp_path / "again.json").read_text()) == \
        json.loads((tmp_path / "s.json").read_text())
    empty = subprocess.run([sys.executable, "-m", "game.cli", "sweep-report", str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2 and "no sweep here" in empty.stderr


def test_progress_without_a_terminal_is_a_line_a_minute():
    """A sweep whose stderr is a log file writes a plain line after the first run, at most once a
    minute after that, and after the last: runs done, the rate and the time left."""
    import io

    from game.sweep.cli import plain_progress
    now = [100.0]
    out = io.StringIO()
    progress = plain_progress(out, clock=lambda: now[0])
    for done, at in ((1, 110), (2, 140), (3, 170), (4, 200), (5, 230)):
        now[0] = float(at)
        progress(done, 5)
    assert out.getvalue().splitlines() == [
        "crashfloor sweep: 1/5 runs (20.0%), 0.100 runs/s, about 1 min left",
        "crashfloor sweep: 3/5 runs (60.0%), 0.043 runs/s, about 1 min left",
        "crashfloor sweep: 5/5 runs (100.0%), 0.038 runs/s"]
