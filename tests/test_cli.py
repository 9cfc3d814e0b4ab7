"""The ``crashfloor`` command line: run, check, levels, bench, and running with no arguments.

Most tests call ``game.cli.main([...])`` in-process on the small fixture level (well under a
second a run); ``crashfloor`` with no arguments runs once, full size, in a subprocess
(``default_cli_run`` in conftest.py). Crash figures are never pinned: the level and the agents
are being calibrated. A figure is only compared with the same run computed by the engine, or with
a value the test itself put in through ``--set``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
import time

import pytest

import game.cli
from engine.clock import fmt_hhmm
from engine.crash import CrashRun
from engine.errors import LevelError
from engine.level import find_level, level_names, load_level

from .conftest import INVALID_FIXTURES, LEVELS_DIR, MINI_LEVEL, run_cli_subprocess

HHMM = re.compile(r"[0-9]{2}:[0-9]{2}")
HEX32 = re.compile(r"[0-9a-f]{32}")
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\))")
# The keys README.md promises for `crashfloor run --json` ("The JSON of crashfloor run --json
# has: ..."); None marks a per-symbol / per-fund table whose keys are the level's own names.
README_KEYS = {
    "level": (), "seed": (), "checksum": (), "sim_start": (), "sim_end": (),
    "symbols": {None: ("open", "low", "low_at", "close", "max_drawdown_pct", "adl_fills")},
    "tracked_depth": ("symbol", "pct", "start_usd", "min_usd", "min_at", "series"),
    "liquidations": ("count", "notional_usd", "long_share", "peak_minute", "per_minute"),
    "insurance_fund": {None: ("start_usd", "min_usd", "end_usd", "exhausted_at")},
    "adl": ("count", "notional_usd", "first_at", "accounts"),
    "open_interest": ("start_usd", "end_usd", "change_pct"),
    "long_share_start": (), "hedger": ("adl_at", "liquidated_at", "equity_start", "equity_end"),
    "player": ("role", "account", "equity_start", "equity_end", "adl_at", "liquidated_at"),
    "market_makers": (), "conservation_error": (),
}


def test_the_player_section_carries_what_its_old_name_did(mini_run):
    """``hedger`` is ``player`` under its first name (kept one more format version)."""
    old, new = mini_run["hedger"], mini_run["player"]
    assert all(new[key] == old[key] for key in old)


# --- helpers ----------------------------------------------------------------------------------
def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``crashfloor ARGS`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = game.cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_json_object(out: str) -> dict:
    """``out`` must be exactly one JSON object (on one line), nothing before or after it."""
    assert out.endswith("\n") and out.count("\n") == 1, out[:500]
    obj, end = json.JSONDecoder().raw_decode(out)
    assert out[end:].strip() == "", out[end:end + 200]
    assert isinstance(obj, dict)
    return obj


def run_json(capsys, *args: str) -> dict:
    code, out, err = cli(capsys, "run", *args, "--json")
    assert code == 0, err
    assert err == ""
    return one_json_object(out)


def engine_summary(path, seed=None, until=None, overrides=()) -> dict:
    """The same run straight from the engine, through a JSON round trip like the CLI's."""
    run = CrashRun(load_level(path, list(overrides)), seed=seed)
    run.run(until=until)
    return json.loads(json.dumps(run.summary()))


def is_time(value) -> bool:
    return isinstance(value, str) and HHMM.fullmatch(value) is not None


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def mini_run() -> dict:
    """``crashfloor run mini_crash.toml --seed 11 --json``, in-process, once for this module."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = game.cli.main(["run", str(MINI_LEVEL), "--seed", "11", "--json"])
    assert code == 0
    return one_json_object(buffer.getvalue())


# --- run --json -------------------------------------------------------------------------------
def test_run_json_has_every_key_the_readme_lists(mini_run):
    level = load_level(MINI_LEVEL)
    missing = [key for key in README_KEYS if key not in mini_run]
    assert not missing, f"missing top-level keys: {missing}"
    for key, spec in README_KEYS.items():
        value = mini_run[key]
        if isinstance(spec, dict):
            assert isinstance(value, dict) and value, key
            for name, table in value.items():
                absent = [k for k in spec[None] if k not in table]
                assert not absent, f"{key}.{name} lacks {absent}"
        elif spec:
            assert isinstance(value, dict), f"{key} = {value!r}"
            absent = [k for k in spec if k not in value]
            assert not absent, f"{key} lacks {absent}"
    assert list(mini_run["symbols"]) == level.symbols
    assert set(mini_run["insurance_fund"]) == set(level.symbols)  # one fund per contract here
    assert mini_run["tracked_depth"]["symbol"] == level.tracked_symbol


def test_run_json_identity_seed_and_conservation(mini_run):
    assert mini_run["level"] == MINI_LEVEL.stem
    assert mini_run["seed"] == 11  # echoes --seed, not the level's seed (7)
    assert load_level(MINI_LEVEL).data["seed"] != 11
    assert isinstance(mini_run["checksum"], str) and HEX32.fullmatch(mini_run["checksum"])
    assert mini_run["conservation_error"] == 0


def test_run_json_times_are_hhmm_hkt(mini_run):
    times = load_level(MINI_LEVEL).times
    s = mini_run
    assert s["sim_start"] == fmt_hhmm(times.start)
    assert s["sim_end"] == fmt_hhmm(times.stop)
    required = [s["sim_start"], s["sim_end"], s["tracked_depth"]["min_at"]]
    required += [v["low_at"] for v in s["symbols"].values()]
    required += [t for t, _ in s["tracked_depth"]["series"]]
    required += [t for t, _ in s["liquidations"]["per_minute"]]
    required += [row[0] for row in s["market_makers"]]
    optional = [s["liquidations"]["peak_minute"], s["adl"]["first_at"],
                s["hedger"]["adl_at"], s["hedger"]["liquidated_at"]]
    optional += [f["exhausted_at"] for f in s["insurance_fund"].values()]
    bad = [t for t in required if not is_time(t)] + [t for t in optional
                                                    if t is not None and not is_time(t)]
    assert not bad, f"not HH:MM: {bad}"
    # every time lies within the run (same day, so HH:MM strings compare in order)
    inside = [t for t in required + optional if t is not None]
    assert all(s["sim_start"] <= t <= s["sim_end"] for t in inside), inside


def test_run_json_values_are_consistent(mini_run):
    """Shapes and internal consistency only: no calibrated figure is pinned."""
    s = mini_run
    for sym, v in s["symbols"].items():
        assert all(is_number(v[k]) for k in ("open", "low", "close", "max_drawdown_pct")), sym
        assert 0 < v["low"] <= min(v["open"], v["close"]), sym
        assert 0 <= v["max_drawdown_pct"] <= 100 and isinstance(v["adl_fills"], int), sym
    depth = s["tracked_depth"]
    assert 0 <= depth["min_usd"] <= depth["start_usd"]
    assert all(is_number(usd) and usd >= depth["min_usd"] for _, usd in depth["series"])
    liq = s["liquidations"]
    assert isinstance(liq["count"], int) and liq["count"] >= 0
    per_minute = [usd for _, usd in liq["per_minute"]]
    assert sum(per_minute) == pytest.approx(liq["notional_usd"], abs=0.01 * len(per_minute) + 0.01)
    assert liq["long_share"] is None or 0 <= liq["long_share"] <= 1
    if liq["count"]:
        assert liq["peak_minute"] == max(liq["per_minute"], key=lambda row: row[1])[0]
    for name, fund in s["insurance_fund"].items():
        assert fund["min_usd"] <= min(fund["start_usd"], fund["end_usd"]), name
    adl = s["adl"]
    assert adl["count"] == sum(v["adl_fills"] for v in s["symbols"].values())
    assert 0 <= adl["accounts"] <= adl["count"]
    assert (adl["first_at"] is None) == (adl["count"] == 0)
    assert 0 <= s["long_share_start"] <= 1
    assert all(isinstance(name, str) and isinstance(state, str)
               for _, name, state in s["market_makers"])
    equity = load_level(MINI_LEVEL).data["player"]["equity_usd"]
    assert s["hedger"]["equity_start"] == pytest.approx(equity, rel=1e-3)


def test_run_json_is_the_engines_summary(mini_run):
    assert mini_run == engine_summary(MINI_LEVEL, seed=11)


def test_run_without_seed_uses_the_levels_seed(capsys):
    s = run_json(capsys, str(MINI_LEVEL), "--until", "04:51")
    assert s["seed"] == load_level(MINI_LEVEL).data["seed"]


def test_until_stops_there(capsys, mini_run):
    s = run_json(capsys, str(MINI_LEVEL), "--seed", "11", "--until", "04:53")
    assert s["sim_start"] == "04:50" and s["sim_end"] == "04:53"
    assert s["tracked_depth"]["series"][-1][0] == "04:53"
    assert s["conservation_error"] == 0
    assert s["checksum"] == engine_summary(MINI_LEVEL, seed=11, until="04:53")["checksum"]
    assert s["checksum"] != mini_run["checksum"]


def test_until_past_the_end_stops_at_the_end(capsys, mini_run):
    s = run_json(capsys, str(MINI_LEVEL), "--seed", "11", "--until", "23:00")
    assert s == mini_run


def test_until_with_seconds_still_reports_hhmm(capsys):
    s = run_json(capsys, str(MINI_LEVEL), "--until", "04:51:30")
    assert s["sim_end"] == "04:51"


@pytest.mark.parametrize("until", ["25:99", "0450", "noon", "04:60"])
def test_bad_until_exits_2(capsys, until):
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--until", until, "--json")
    assert code == 2 and out == ""
    assert "--until" in err and until in err


def test_set_changes_a_field(capsys):
    base = run_json(capsys, str(MINI_LEVEL), "--until", "04:51")
    assert base["long_share_start"] == pytest.approx(
        load_level(MINI_LEVEL).get("crowd.long_share"), abs=0.03)
    s = run_json(capsys, str(MINI_LEVEL), "--until", "04:51", "--set", "crowd.long_share=0.5",
                 "--set", "exchange.insurance_fund.BTC=123456")
    assert s["long_share_start"] == pytest.approx(0.5, abs=0.03)
    assert s["insurance_fund"]["BTC"]["start_usd"] == 123456
    assert s["insurance_fund"]["DOGE"]["start_usd"] == base["insurance_fund"]["DOGE"]["start_usd"]
    assert s["checksum"] != base["checksum"]


@pytest.mark.parametrize("override, key, why", [
    ("crowd.long_shar=0.5", "crowd.long_shar", "unknown key"),
    ("nosuch.key=1", "nosuch", "unknown key"),
    ("crowd.long_share=abc", "crowd.long_share", "must be a number"),
    ("crowd.long_share=1.7", "crowd.long_share", "between 0 and 1"),
    ("crowd.accounts=1.5", "crowd.accounts", "whole number"),
    ("clock.start=25:99", "clock.start", "HH:MM"),
    ("crowd.long_share", "crowd.long_share", "key=value"),
], ids=["unknown-key", "unknown-section", "string-for-number", "out-of-range", "float-for-int",
        "bad-time", "no-equals"])
def test_bad_set_exits_2_naming_the_key(capsys, override, key, why):
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--until", "04:51", "--set", override,
                         "--json")
    assert code == 2
    assert out == ""
    assert key in err and why in err and "--set" in err, err
    assert "Traceback" not in err


def test_bad_set_in_a_subprocess_has_no_traceback():
    proc = run_cli_subprocess(["run", str(MINI_LEVEL), "--json", "--set", "crowd.long_share=abc",
                               "--set", "crowd.accounts=lots"], timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr  # both reported, one line each
    assert any(line.startswith("--set crowd.long_share=abc: ") for line in lines)
    assert any(line.startswith("--set crowd.accounts=lots: ") for line in lines)


def test_bad_seed(capsys):
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--seed", "-1", "--json")
    assert code == 2 and out == "" and "seed" in err
    with pytest.raises(SystemExit) as exited:  # argparse: not an integer
        game.cli.main(["run", str(MINI_LEVEL), "--seed", "abc"])
    assert exited.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_a_level_with_no_crowd_runs(capsys):
    s = run_json(capsys, str(MINI_LEVEL), "--until", "04:51", "--set", "crowd.accounts=0",
                 "--set", "player.role=none")
    assert s["conservation_error"] == 0


def test_a_hedger_with_no_crowd_to_trade_against_is_a_clear_error(capsys):
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--json", "--set", "crowd.accounts=0")
    assert code == 2 and out == ""
    assert "crowd holds no" in err and "crowd.accounts" in err and "Traceback" not in err


# --- run without --json -----------------------------------------------------------------------
def test_run_on_a_tty_shows_progress_and_the_same_result(capsys, monkeypatch):
    """On a terminal `run` draws a progress bar; the run itself must not change."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    drawn = []
    progress = game.cli._run_with_progress
    monkeypatch.setattr(game.cli, "_run_with_progress",
                        lambda run, until: drawn.append(until) or progress(run, until))
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--until", "04:52")
    assert drawn == ["04:52"], "the terminal path was not taken"
    assert code == 0, err
    out = ANSI.sub("", out)  # a terminal gets colours and cursor control
    expected = engine_summary(MINI_LEVEL, until="04:52")["checksum"]
    assert f"checksum {expected}" in out
    assert "money conservation error" in out


# --- check ------------------------------------------------------------------------------------
def expectations(path) -> list[list[str]]:
    """The ``# expect:`` header of an invalid fixture: fragments of each expected problem."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [[part.strip() for part in line.split(":", 1)[1].split("|")]
            for line in text.splitlines() if line.startswith("# expect:")]


def reported(out: str, path, fragments: list[str]) -> bool:
    """A line of ``out`` reports this problem: ``<file>: line N: ...`` with every fragment."""
    lines = [f for f in fragments if re.fullmatch(r"line \d+", f)]
    prefix = f"{path}: {lines[0]}: " if lines else f"{path}: "
    return any(line.startswith(prefix) and all(f in line for f in fragments)
               for line in out.splitlines())


def test_check_valid_level_prints_ok(capsys):
    code, out, err = cli(capsys, "check", str(MINI_LEVEL))
    assert code == 0, out + err
    assert out == f"{MINI_LEVEL}: ok — {load_level(MINI_LEVEL).data['title']}\n"


def test_check_a_shipped_level_by_name(capsys):
    code, out, _ = cli(capsys, "check", game.cli.DEFAULT_LEVEL)
    assert code == 0 and ": ok — " in out


@pytest.mark.parametrize("name", ["bad_choice", "unknown_key_in_section", "malformed_unclosed_bracket"])
def test_check_invalid_level_lists_the_problem_with_file_and_line(capsys, name):
    path = INVALID_FIXTURES / f"{name}.toml"
    code, out, err = cli(capsys, "check", str(path))
    assert code == 1
    expected = expectations(path)
    assert expected and any(re.fullmatch(r"line \d+", f) for f in expected[0])
    for fragments in expected:
        assert reported(out, path, fragments), f"{fragments} not in:\n{out}"
    assert ": ok — " not in out


def test_check_several_files_reports_all(capsys, tmp_path):
    several = INVALID_FIXTURES / "several_problems.toml"
    bad_choice = INVALID_FIXTURES / "bad_choice.toml"
    missing = tmp_path / "nope.toml"
    paths = [several, MINI_LEVEL, bad_choice, missing]
    code, out, err = cli(capsys, "check", *map(str, paths))
    assert code == 1
    assert len(expectations(several)) > 3
    for path in (several, bad_choice):
        for fragments in expectations(path):
            assert reported(out, path, fragments), f"{path.name}: {fragments} not in:\n{out}"
    assert f"{MINI_LEVEL}: ok — " in out
    assert f"{missing}: " in out
    # exactly the engine's problems, all of them, in the order of the files
    lines = []
    for path in paths:
        try:
            level = load_level(find_level(str(path), LEVELS_DIR))
        except LevelError as error:
            lines += error.problems
        else:
            lines.append(f"{path}: ok — {level.data['title']}")
    assert out.splitlines() == lines


def test_check_all_valid_exits_0(capsys):
    code, out, _ = cli(capsys, "check", str(MINI_LEVEL), str(LEVELS_DIR / "1011.toml"))
    assert code == 0 and out.count(": ok — ") == 2


# --- levels -----------------------------------------------------------------------------------
def test_levels_lists_every_shipped_level_with_its_title(capsys):
    names = level_names(LEVELS_DIR)
    assert names == sorted(p.stem for p in LEVELS_DIR.glob("*.toml"))
    assert game.cli.DEFAULT_LEVEL in names
    code, out, _ = cli(capsys, "levels")
    assert code == 0
    for name in names:
        title = load_level(LEVELS_DIR / f"{name}.toml").data["title"]
        assert re.search(rf"^{re.escape(name)}\s+{re.escape(title)}\s*$", out, re.M), \
            f"{name} / {title!r} not listed:\n{out}"


def test_levels_marks_an_invalid_level(capsys, monkeypatch, tmp_path):
    shutil.copy(MINI_LEVEL, tmp_path / "good.toml")
    shutil.copy(INVALID_FIXTURES / "bad_choice.toml", tmp_path / "broken.toml")
    monkeypatch.setattr(game.cli, "LEVELS_DIR", tmp_path)
    code, out, _ = cli(capsys, "levels")
    assert code == 0
    assert re.search(r"^broken\s+\(invalid: line \d+: exchange\.adl_policy", out, re.M), out
    assert re.search(rf"^good\s+{re.escape(load_level(MINI_LEVEL).data['title'])}", out, re.M)


# --- unknown level ----------------------------------------------------------------------------
def test_unknown_level_exits_2_and_lists_the_levels(capsys):
    code, out, err = cli(capsys, "run", "no_such_level", "--json")
    assert code == 2 and out == ""
    assert "no_such_level" in err and "available levels:" in err
    available = err.split("available levels:", 1)[1]
    for name in level_names(LEVELS_DIR):
        assert name in available


def test_unknown_level_suggests_a_close_name(capsys):
    code, _, err = cli(capsys, "run", game.cli.DEFAULT_LEVEL + "x")
    assert code == 2 and f"did you mean {game.cli.DEFAULT_LEVEL}?" in err


# --- crashfloor with no arguments -------------------------------------------------------------
def test_no_arguments_runs_the_default_level_headless(default_cli_run):
    proc = default_cli_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out  # stdout is a pipe: no progress bar, no colour codes
    level = load_level(LEVELS_DIR / f"{game.cli.DEFAULT_LEVEL}.toml")
    first = out.splitlines()[0]
    assert re.fullmatch(
        rf"{level.name} seed {level.data['seed']}\s+{fmt_hhmm(level.times.start)}–"
        rf"{fmt_hhmm(level.times.stop)} HKT\s+checksum [0-9a-f]{{32}}", first), first
    for sym in level.symbols:
        assert re.search(rf"^\W*{sym}\W", out, re.M), f"no price row for {sym}"
    for row in ("liquidations", "ADL", "open interest", "insurance fund"):
        assert row in out
    assert re.search(r"money conservation error\W+0\W*$", out, re.M), out[-800:]


# --- bench ------------------------------------------------------------------------------------
def test_bench_quick_json(capsys):
    """`bench --quick --json` takes ~9 s here plus ~4 s for the floor (measured); only its shape is
    checked, never speed."""
    code, out, err = cli(capsys, "bench", "--quick", "--json")
    assert code == 0, err
    result = one_json_object(out)
    for key in ("book", "public_path", "settle", "level"):
        assert key in result, key
    assert result["book"]["identical"] is True  # the book agrees with the SortedDict reference
    assert result["public_path"]["conserved"] is True
    assert result["settle"] and all(row["settle_ms"] >= 0 for row in result["settle"])
    assert HEX32.fullmatch(result["level"]["checksum"])
    assert "full_scale" not in result
    tui = result["tui"]  # the floor at 60x (game.bench_tui): present, shaped, never timed
    assert tui["speed"] == 60 and 1 <= tui["keys_handled"] <= tui["key_presses"]
    for key in ("redraws_per_s", "sim_seconds_per_wall_second", "key_latency_ms_median",
                "key_latency_ms_max", "seconds"):
        assert isinstance(tui[key], (int, float)) and tui[key] >= 0, key


def test_bench_no_tui_skips_the_floor(capsys, monkeypatch):
    """`--no-tui` leaves the floor measurement out (the engine part stubbed: shape only)."""
    import engine.bench
    monkeypatch.setattr(engine.bench, "run_all", lambda quick, full_scale: {"stub": quick})
    code, out, err = cli(capsys, "bench", "--quick", "--json", "--no-tui")
    assert code == 0, err
    assert one_json_object(out) == {"stub": True}


# --- hostile command-line arguments (issue 11): one line, exit 2, within seconds ---------------
def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", err)
    return lines[0]


@pytest.fixture
def no_floor(monkeypatch):
    """A terminal as far as ``play`` can tell, and an app that must never start."""
    import game.app
    monkeypatch.setattr(game.cli, "_interactive", lambda: True)

    def must_not_run(self):
        raise AssertionError("the app started with bad arguments")
    monkeypatch.setattr(game.app.CrashfloorApp, "run", must_not_run)


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295, got -1"),
    (["--seed", str(2**64)], "--seed must be a whole number from 0 to 4294967295"),
    (["--seed", "4294967296"], "got 4294967296"),
    (["--speed", "0"], "--speed must be 0.1 to 600"),
    (["--speed", "nan"], "got nan"),
    (["--speed", "inf"], "got inf"),
    (["--speed", "-5"], "got -5"),
    (["--role", "hedger", "--seed", "-1"], "--seed"),
], ids=["seed-negative", "seed-2**64", "seed-2**32", "speed-0", "speed-nan", "speed-inf",
        "speed-negative", "role-and-seed"])
def test_play_refuses_bad_arguments_before_the_app_starts(capsys, no_floor, args, fragment):
    code, out, err = cli(capsys, "play", "1011", *args)
    assert code == 2 and out == ""
    assert fragment in one_error_line(err)


def test_play_with_a_bad_seed_in_a_subprocess_is_one_line():
    """`crashfloor play 1011 --seed -1` printed a 690-line traceback from inside the app."""
    for args in (["--seed", "-1"], ["--speed", "1e999"], ["--seed", "x"]):
        proc = run_cli_subprocess(["play", "1011", *args], timeout=60)
        assert proc.returncode == 2 and proc.stdout == ""
        assert "Traceback" not in proc.stderr
        assert len([line for line in proc.stderr.splitlines() if line.startswith(
            ("crashfloor:", "crashfloor play: error:"))]) == 1, proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--seed", str(2**64)], "--seed must be a whole number from 0 to 4294967295"),
    (["--seed", "-1"], "--seed must be a whole number"),
    (["--until", "99:99"], "(hours 0–47), got '99:99'"),
    (["--until", "4:60"], "got '4:60'"),
    (["--until", "9" * 5000], "--until must be"),
    (["--variant", "nosuch"], "--variant nosuch: the level defines no variant"),
    (["--variant", "\x1b[2J"], "--variant \\x1b[2J"),
])
def test_run_refuses_hostile_arguments(capsys, args, fragment):
    code, out, err = cli(capsys, "run", str(MINI_LEVEL), "--json", *args)
    assert code == 2 and out == ""
    assert fragment in one_error_line(err), err


@pytest.mark.parametrize("seeds, fragment", [
    ("1-100000000", "that is 100,000,000 seeds; compare runs at most 1,000"),
    ("1-1001", "that is 1,001 seeds"),
    (f"1-{2**64}", "expected seeds like 1-20"),
    ("4294967296", "a seed is at most 4294967295"),
    ("5-1", "runs backwards"),
    ("-1", "expected seeds like 1-20"),
    ("1-²", "expected seeds like 1-20"),
    ("", "expected seeds like 1-20"),
])
def test_compare_refuses_hostile_seeds_before_running(capsys, seeds, fragment):
    started = time.monotonic()
    code, out, err = cli(capsys, "compare", str(MINI_LEVEL), "--seeds", seeds, "--json")
    assert time.monotonic() - started < 10
    assert code == 2 and out == ""
    assert fragment in one_error_line(err), err


def test_compare_counts_distinct_seeds():
    from engine.compare import count_seeds, parse_seeds
    from engine.errors import InvalidInput
    with pytest.raises(InvalidInput, match="that is 100,000,000 seeds"):
        parse_seeds("1-100000000")  # counted, never listed: refused at once
    assert count_seeds("1-1000,1,5-9") == 1000
    assert count_seeds("1,3,7") == 3 and count_seeds(" 2 - 4 ") == 3


def test_compare_with_a_huge_seed_range_exits_within_seconds():
    proc = run_cli_subprocess(["compare", "1011", "--seeds", "1-100000000", "--variant",
                               "x:crowd.long_share=0.5"], timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert one_error_line(proc.stderr).startswith("crashfloor: --seeds '1-100000000': ")


@pytest.mark.parametrize("variant", ["\x1b[2J", "x:crowd.long_share=" + "[" * 400 + "]" * 400,
                                     "x:" + "a" * 20_000])
def test_compare_refuses_hostile_variants(capsys, variant):
    code, out, err = cli(capsys, "compare", str(MINI_LEVEL), "--seeds", "1", "--variant",
                         variant, "--json")
    assert code == 2 and out == ""
    assert len(one_error_line(err)) < 1000
