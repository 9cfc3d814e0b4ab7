"""Hostile level files and ``--set`` values (issue 11): each gets one clear line naming the file or
field, the bad value and what is allowed, and a refusal within seconds — never a traceback, a hang
or a run that ``check`` passed and that then crashes.

* files: only regular files are read (a FIFO, a directory, a device, an oversized file are refused
  before they are opened or read);
* structure: nesting, dotted keys and digits are capped, in the file and in ``--set``;
* bounds: every USD field, count and price has an upper bound, and a level at the bounds runs (or
  ``check`` refuses it, with the reason);
* the crowd builder builds every crowd the schema accepts (a handful of accounts, all long, ...);
* size: symbols and accounts × symbols are capped;
* ``base`` stays inside the levels folders unless allowed;
* control characters from a file are escaped wherever its text is printed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import game.cli
from engine.crash import CrashRun
from engine.errors import LevelError
from engine.level import (SHIPPED_LEVELS_DIR, escape_text, level_from_raw, load_level,
                          schema_reference_markdown, validate)
from engine.level.schema import (MAX_ACCOUNT_CELLS, MAX_LEVEL_BYTES, MAX_NESTING,
                                 MAX_QUOTE_LEVELS, MAX_SYMBOLS, SCHEMA, Field, walk)
from engine.text import has_control, shorten
from engine.units import MAX_USD

from ..conftest import LEVELS_DIR, MINI_LEVEL, run_cli_subprocess

MINIMAL = "[symbols.BTC]\nprice = 122000\n"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""What must never reach the terminal from a file (newline and tab aside, which join lines)."""
FULL_RUN = None
"""The mini level runs 04:50–05:05 (through its crash) in about a second: bounds tests run it
whole, so that liquidations and ADL at the largest values are part of the check."""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path, overrides=(), **kwargs) -> list[str]:
    with pytest.raises(LevelError) as caught:
        load_level(path, list(overrides), **kwargs)
    return caught.value.problems


def one_problem(path, overrides=(), **kwargs) -> str:
    problems = problems_of(path, overrides, **kwargs)
    assert len(problems) == 1, "\n".join(problems)
    assert len(problems[0]) < 1_000, problems[0][:300]  # one readable line, not a dump
    assert "\n" not in problems[0] and not CONTROL.search(problems[0])
    return problems[0]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = game.cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def short_run(level, until: str | None = FULL_RUN) -> dict:
    """Run ``level`` to ``until`` (default: its end); the summary, money conserved."""
    run = CrashRun(level)
    run.run(until=until)
    summary = run.summary()
    assert summary["conservation_error"] == 0
    return summary


# --- only regular files -----------------------------------------------------------------------
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    started = time.monotonic()
    problem = one_problem(fifo)
    assert time.monotonic() - started < 5
    assert problem.startswith(f"{fifo}: ") and "named pipe" in problem and "regular file" in problem


@needs_fifo
@pytest.mark.parametrize("command", [["check"], ["run", "--until", "04:01", "--json"]])
def test_check_and_run_on_a_fifo_exit_within_seconds(tmp_path, command):
    """In a subprocess with a timeout: a regression would hang, not fail."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    link = tmp_path / "link.toml"  # a symlink to a FIFO is no better
    link.symlink_to(fifo)
    for target in (fifo, link):
        args = [command[0], str(target), *command[1:]]
        proc = run_cli_subprocess(args, timeout=60)
        assert proc.returncode in (1, 2), proc.stderr
        text = proc.stdout + proc.stderr
        assert "Traceback" not in text and "named pipe" in text and str(target) in text


@needs_fifo
def test_a_fifo_as_a_base_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    level = write(tmp_path, "top.toml", 'base = "pipe"\n')
    problem = one_problem(level)
    assert "pipe.toml" in problem and "named pipe" in problem


@pytest.mark.parametrize("target, kind", [("directory", "a directory"),
                                          ("/dev/zero", "a character device"),
                                          ("/dev/null", "a character device")])
def test_a_directory_or_a_device_is_refused(tmp_path, target, kind):
    path = tmp_path if target == "directory" else Path(target)
    if not path.exists():
        pytest.skip(f"no {target} here")
    started = time.monotonic()
    problem = one_problem(path)
    assert time.monotonic() - started < 5
    assert problem.startswith(f"{path}: is {kind}, not a level file")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as file:  # sparse: 5 GB on paper, nothing on disk
        file.truncate(5 * 1024**3)
    problem = one_problem(huge)
    assert f"at most {MAX_LEVEL_BYTES:,} bytes" in problem and "5,368,709,120" in problem


def test_a_huge_base_is_refused(tmp_path):
    write(tmp_path, "big.toml", "# " + "x" * MAX_LEVEL_BYTES + "\n")
    problem = one_problem(write(tmp_path, "top.toml", 'base = "big"\n'))
    assert "big.toml" in problem and f"at most {MAX_LEVEL_BYTES:,} bytes" in problem


# --- nesting, dotted keys, digits -------------------------------------------------------------
HOSTILE_TEXTS = {
    "arrays_400_deep": "a = " + "[" * 400 + "]" * 400 + "\n" + MINIMAL,
    "arrays_1000_deep": "a = " + "[" * 1000 + "]" * 1000 + "\n" + MINIMAL,
    "inline_tables_400_deep": "a = " + "{b = " * 400 + "1" + "}" * 400 + "\n" + MINIMAL,
    "dotted_key_3000_parts": ".".join(["a"] * 3000) + " = 1\n" + MINIMAL,
    "table_header_3000_parts": MINIMAL + "[" + ".".join(["a"] * 3000) + "]\nx = 1\n",
    "integer_5000_digits": MINIMAL + "[crowd]\naccounts = " + "9" * 5000 + "\n",
}


@pytest.mark.parametrize("name", list(HOSTILE_TEXTS))
def test_deep_or_long_toml_gives_one_line(tmp_path, name):
    path = write(tmp_path, f"{name}.toml", HOSTILE_TEXTS[name])
    started = time.monotonic()
    problem = one_problem(path)
    assert time.monotonic() - started < 5
    assert problem.startswith(f"{path}: ")
    assert f"at most {MAX_NESTING} deep" in problem or "4,300 digits" in problem


def test_nesting_just_inside_the_cap_is_only_an_unknown_key(tmp_path):
    text = "a = " + "[" * (MAX_NESTING - 2) + "]" * (MAX_NESTING - 2) + "\n" + MINIMAL
    problem = one_problem(write(tmp_path, "ok_depth.toml", text))
    assert "unknown key" in problem


def test_big_numbers_are_range_errors_not_crashes(tmp_path):
    """400 digits (under Python's limit, over any float): reported against the field's range."""
    big = "9" * 400
    text = f"[symbols.BTC]\nprice = {big}\nwaypoints = [[\"04:30\", {big}]]\n[crowd]\n" \
           f"accounts = {big}\nlong_share = {big}\n"
    problems = problems_of(write(tmp_path, "big.toml", text))
    assert len(problems) == 4, problems
    assert all("must be" in p and len(p) < 400 for p in problems), problems
    text = "[symbols.BTC]\nprice = 1e400\n[crowd]\nnotional_usd.BTC = -1e400\n"
    problems = problems_of(write(tmp_path, "inf.toml", text))
    assert len(problems) == 2 and all("finite" in p for p in problems), problems


@pytest.mark.parametrize("override, fragment", [
    ("crowd.accounts=" + "9" * 5000, "4,300 digits"),
    ("crowd.long_share=" + "[" * 400 + "]" * 400, "nested too deeply"),
    ("crowd.long_share=" + "{a=" * 400 + "1" + "}" * 400, "nested too deeply"),
    ("crowd.long_share=" + "[" * 40 + "]" * 40, "nested too deeply"),
    (".".join(["a"] * 3000) + "=1", "a key path is at most 256"),
    ("news[" + "9" * 30 + "].at=04:00", "is not a key path"),
    ("crowd.accounts=" + "9" * 400, "must be between 0 and 5_000_000"),
    ("symbols.BTC.price=1e400", "finite"),
])
def test_hostile_set_values_give_one_line(override, fragment):
    problem = one_problem(MINI_LEVEL, [override])
    assert problem.startswith("--set ") and fragment in problem, problem
    assert len(problem) < 600


def test_hostile_set_through_the_cli_exits_2_with_one_line():
    proc = run_cli_subprocess(["run", str(MINI_LEVEL), "--json",
                               "--set", "crowd.accounts=" + "9" * 5000,
                               "--set", ".".join(["a"] * 3000) + "=1"], timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 2, proc.stderr


def test_a_save_table_nested_too_deep_is_refused_without_recursion():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    for raw in (deep, {1: 2}, ["not", "a", "table"]):
        with pytest.raises(LevelError) as caught:
            level_from_raw(raw, "x.cfsave")
        assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith("x.cfsave: ")
    assert validate(deep)[1] and validate({1: 2})[1]


# --- every numeric field is bounded; a level at the bounds runs --------------------------------
def test_every_number_field_has_both_bounds():
    from engine.level import _bounds
    for path, spec in walk():
        if spec.kind in ("int", "float", "usd", "fraction"):
            low, high = _bounds(spec)
            assert low is not None and high is not None, path
            if spec.kind == "usd":
                assert high <= MAX_USD, path


def _concrete(path: str, symbols: list[str]) -> list[str]:
    if "<SYM>" in path:
        return [path.replace("<SYM>", s) for s in symbols]
    return [path.replace("player.positions[]", "player.positions[0]")]


USD_FIELDS = [path for path, spec in walk() if spec.kind == "usd"
              and ("[]" not in path or path.startswith("player.positions[]"))]


@pytest.mark.parametrize("path", USD_FIELDS)
def test_a_usd_field_above_its_bound_is_refused(path):
    from engine.level import _bounds
    spec = dict(walk())[path]
    high = _bounds(spec)[1]
    key = _concrete(path, ["BTC"])[0]
    for value in (int(high) + 1, 10**13, 10**30):
        problem = one_problem(MINI_LEVEL, [f"{key}={value}"])
        assert problem.startswith(f"--set {key}={value}: must be between")
        assert f"{int(high):_}" in problem


@pytest.mark.parametrize("path", USD_FIELDS)
def test_a_usd_field_at_its_bound_runs_or_is_refused_by_check(path):
    """Each USD field at its maximum (every symbol's at once): the level either loads and runs
    two simulated minutes with money conserved, or load refuses it with one clear line."""
    from engine.level import _bounds
    high = int(_bounds(dict(walk())[path])[1])
    overrides = [f"{key}={high}" for key in _concrete(path, ["BTC", "DOGE"])]
    if path.startswith("player.obligations"):
        overrides += ["player.role=maker", "player.obligations.enabled=true"]
    try:
        level = load_level(MINI_LEVEL, overrides)
    except LevelError as error:
        assert len(error.problems) == 1 and "at most" in error.problems[0], error.problems
        return
    short_run(level)


NUMBER_FIELDS = [(path, spec) for path, spec in walk()
                 if spec.kind in ("int", "float", "fraction") and "[]" not in path
                 and path not in ("format", "seed")]


@pytest.mark.parametrize("path, spec", NUMBER_FIELDS, ids=[p for p, _ in NUMBER_FIELDS])
def test_every_number_field_at_either_bound_runs_or_is_refused(path, spec):
    """Each number field at its lowest and at its highest value: loads and runs two simulated
    minutes, or load refuses it in one line that names what is allowed (e.g. leverage_min above
    leverage_max, a waypoint above ten times a lowered start price)."""
    from engine.level import _bounds
    for bound in _bounds(spec):
        value = int(bound) if spec.kind == "int" else bound
        overrides = [f"{key}={value}" for key in _concrete(path, ["BTC", "DOGE"])]
        if path.startswith("player.maker") or path.startswith("player.obligations"):
            overrides.append("player.role=maker")
        try:
            level = load_level(MINI_LEVEL, overrides)
        except LevelError as error:
            assert all(("must" in p or "at most" in p or "less than" in p) and len(p) < 600
                       for p in error.problems), error.problems
            continue
        short_run(level, until="04:52")


def test_every_usd_field_at_its_bound_at_once_is_refused_by_the_money_budget():
    from engine.level import _bounds
    overrides = [f"{key}={int(_bounds(spec)[1])}" for path, spec in walk()
                 if spec.kind == "usd" and "[]" not in path and path != "exchange.fund_floor"
                 for key in _concrete(path, ["BTC", "DOGE"])]
    problem = one_problem(MINI_LEVEL, overrides)
    assert "money adds up to" in problem and "at most 1_000_000_000_000 USD" in problem


def test_the_largest_crowd_the_money_budget_allows_runs():
    """Crowd open interest at its cap on both symbols with a margin buffer of 10 (the budget's
    estimate ≈ $480B) plus large capital: accepted, and it runs."""
    overrides = ["crowd.notional_usd.BTC=10_000_000_000", "crowd.notional_usd.DOGE=10_000_000_000",
                 "crowd.margin_buffer=10", "crowd.leverage_min=1", "crowd.leverage_max=1",
                 "crowd.entry_spread_pct=50", "crowd.accounts=40",
                 "market_makers.capital_usd=10_000_000_000",
                 "arbitrage.capital_usd=100_000_000_000",
                 "player.equity_usd=100_000_000_000", "exchange.insurance_fund.BTC=100_000_000_000",
                 "crowd.stink_bids_usd.BTC=10_000_000_000", "crowd.cut_clip_usd=10_000_000_000",
                 "crowd.chase_usd_per_min=10_000_000_000", "crowd.chase_leverage=125",
                 "player.positions[0].notional_usd=10_000_000_000"]
    short_run(load_level(MINI_LEVEL, overrides))


def test_prices_at_their_bounds_run(tmp_path):
    """The largest prices (10¹⁰ ticks of the preset, $10M at most), reached at the start or by a
    waypoint ten times the start, and a fall to the smallest: runs, money conserved."""
    text = ('[clock]\nstart = "04:00"\nend = "04:05"\n'
            '[symbols.BTC]\nprice = 1_000_000\nwaypoints = [["04:01", 10_000_000]]\n'
            '[symbols.ETH]\nprice = 10_000_000\nwaypoints = [["04:01", 1e-6]]\n'
            '[symbols.DOGE]\nprice = 100_000\nwaypoints = [["04:01", 100_000]]\n'
            '[symbols.ALT]\nprice = 100_000\nwaypoints = [["04:01", 1_000_000]]\n'
            '[crowd]\naccounts = 2000\n')
    short_run(load_level(write(tmp_path, "prices.toml", text)), until="04:02")


@pytest.mark.parametrize("overrides, fragment", [
    (["symbols.DOGE.price=100000.1"], "at most 100_000 with preset DOGE"),
    (['symbols.BTC.waypoints=[["04:53", 1220001]]'], "at most 10 × the start price"),
    (['symbols.BTC.waypoints=[["04:53", 1e300]]'], "at most 10_000_000"),
    (["exchange.insurance_fund.BTC=200_000_000", "exchange.fund_multiplier=1000"],
     "a fund is at most 100_000_000_000"),
    (["exchange.fund_floor=60000"], "at most the smallest fund"),
    (["market_makers.firms=50", "market_makers.levels=50"], "quote levels"),
], ids=["doge-price", "waypoint-rise", "waypoint-huge", "fund-multiplied", "fund-floor",
        "quote-levels"])
def test_cross_field_bounds_are_one_line(overrides, fragment):
    problem = one_problem(MINI_LEVEL, overrides)
    assert fragment in problem, problem


@pytest.mark.parametrize("overrides, fragment", [
    (["player.equity_usd=1000.0000001"], "at most 6 decimals"),
    (["exchange.fund_floor=0.0000001"], "at most 6 decimals"),
    (["player.positions[0].notional_usd=1"], "less than half a lot"),
    (["player.positions[1].margin=isolated", "player.equity_usd=9999.99"],
     "must cover the isolated margin of the player's positions, 10,000.00 USD"),
], ids=["equity-decimals", "floor-decimals", "position-under-a-lot", "isolated-margin"])
def test_values_the_engine_cannot_seed_are_refused_by_check(overrides, fragment):
    """These passed `check` and then failed as the run was built."""
    assert fragment in one_problem(MINI_LEVEL, overrides)


def test_values_at_the_edge_of_those_rules_run():
    for overrides in (["player.positions[1].margin=isolated", "player.equity_usd=10000"],
                      ["player.positions[0].notional_usd=62"], ["player.equity_usd=1000.000001"],
                      ["crowd.stink_bids_usd.BTC=55434"]):  # × 1.01 is off the micro-dollar grid
        short_run(load_level(MINI_LEVEL, overrides), until="04:51")


def test_a_stress_sized_fund_is_bounded():
    problem = one_problem(MINI_LEVEL, ["exchange.fund_sizing=stress", "exchange.fund_stress_pct=95",
                                       "exchange.fund_multiplier=1000",
                                       "crowd.notional_usd.BTC=10_000_000_000"])
    assert "with fund_sizing = stress" in problem and "at most 100_000_000_000" in problem


# --- the crowd builder builds whatever the schema accepts --------------------------------------
@pytest.mark.parametrize("overrides", [
    ["crowd.accounts=1"], ["crowd.accounts=2"], ["crowd.accounts=3"], ["crowd.accounts=30"],
    ["crowd.accounts=1", "crowd.long_share=1", "crowd.hedged_share=0"],
    ["crowd.long_share=1"], ["crowd.long_share=0"],
    ["crowd.long_share=1", "crowd.hedged_share=0"], ["crowd.long_share=0", "crowd.hedged_share=1"],
    ["crowd.hedged_share=1", "crowd.isolated_share=0"], ["crowd.isolated_share=1"],
    ["crowd.notional_usd.BTC=0", "crowd.notional_usd.DOGE=0"], ["crowd.notional_usd.DOGE=0"],
    ["crowd.notional_usd.BTC=0", "crowd.accounts=5"],
    ["crowd.accounts=0", "player.role=none"], ["crowd.accounts=0", "player.role=maker"],
    ["crowd.accounts=1", "player.role=maker"],
], ids=lambda o: ",".join(o))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_crowd_the_schema_accepts_builds(overrides, seed):
    level = load_level(MINI_LEVEL, overrides)
    run = CrashRun(level, seed=seed)
    ex = run.sim.exchange
    n = ex.acc.n
    for s, symbol in enumerate(ex.symbols):
        assert int(ex.acc.qty[s, :n].sum()) == 0, symbol  # every long has a short
    if level.data["player"]["role"] == "hedger":
        for position in level.data["player"]["positions"]:
            s = ex.symbols.index(position["symbol"])
            held = int(ex.acc.qty[s, run.player])
            assert held != 0 and (held > 0) == (position["side"] == "long"), position
    run.run(until="04:51")
    assert run.summary()["conservation_error"] == 0


def test_a_hedger_without_a_crowd_is_refused_by_check():
    problem = one_problem(MINI_LEVEL, ["crowd.accounts=0"])
    assert "crowd holds no" in problem and "crowd.accounts" in problem


# --- size: symbols, accounts × symbols, quote levels -------------------------------------------
def _symbols_text(count: int) -> str:
    return "".join(f'[symbols.S{i}]\npreset = "BTC"\nprice = 122000\n' for i in range(count))


def test_too_many_symbols_is_refused_quickly(tmp_path):
    started = time.monotonic()
    problem = one_problem(write(tmp_path, "many.toml", _symbols_text(2000)))
    assert time.monotonic() - started < 10
    assert "2,000 symbols" in problem and f"at most {MAX_SYMBOLS}" in problem
    one_problem(write(tmp_path, "seventeen.toml", _symbols_text(MAX_SYMBOLS + 1)))
    load_level(write(tmp_path, "sixteen.toml", _symbols_text(MAX_SYMBOLS)))


def test_sixteen_symbols_run(tmp_path):
    text = '[clock]\nstart = "04:00"\nend = "04:05"\n[crowd]\naccounts = 3000\n' \
        + _symbols_text(MAX_SYMBOLS)
    short_run(load_level(write(tmp_path, "sixteen.toml", text)), until="04:01")


def test_accounts_times_symbols_is_capped(tmp_path):
    path = write(tmp_path, "sixteen.toml", _symbols_text(MAX_SYMBOLS))
    most = MAX_ACCOUNT_CELLS // MAX_SYMBOLS - 200  # 200 dip buyers by default
    load_level(path, [f"crowd.accounts={most}"])
    problem = one_problem(path, [f"crowd.accounts={most + 1}"])
    assert f"at most {MAX_ACCOUNT_CELLS:_}" in problem and f"at most {most:_} crowd" in problem
    # the full-scale crash (1.6M accounts × 4 symbols) still fits
    load_level(LEVELS_DIR / "1011.toml", ["crowd.accounts=1600000"])


def test_quote_levels_are_capped(tmp_path):
    path = write(tmp_path, "sixteen.toml", _symbols_text(MAX_SYMBOLS))
    firms = MAX_QUOTE_LEVELS // (MAX_SYMBOLS * 10)
    load_level(path, ["market_makers.levels=10", f"market_makers.firms={firms}"])
    problem = one_problem(path, ["market_makers.levels=10", f"market_makers.firms={firms + 1}"])
    assert f"at most {MAX_QUOTE_LEVELS:_}" in problem


# --- base stays inside the levels folders -------------------------------------------------------
SECRET = 'title = "SECRET TITLE"\n[symbols.BTC]\nprice = 1\n[crowd]\nlong_share = 777\n'


@pytest.fixture
def outside(tmp_path):
    """A workshop folder and, beside it, a folder with a file that is not a level."""
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    write(other, "secret.toml", SECRET)
    return work, other


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked_folder"])
def test_a_base_outside_the_levels_folders_is_refused(outside, how):
    work, other = outside
    if how == "absolute":
        base = str(other / "secret.toml")
    elif how == "dotdot":
        base = "../other/secret"
    elif how == "symlink":
        (work / "alias.toml").symlink_to(other / "secret.toml")
        base = "alias"
    else:
        (work / "sub").symlink_to(other, target_is_directory=True)
        base = "sub/secret.toml"
    level = write(work, "top.toml", f'base = "{base}"\n')
    problem = one_problem(level)
    assert problem.startswith(f"{level}: base = ") and "outside the levels folders" in problem
    assert "--allow-outside-base" in problem
    assert "SECRET" not in problem and "777" not in problem  # nothing of the file is echoed
    # allowed on purpose: read, and its own problems reported against it
    problems = problems_of(level, allow_outside_base=True)
    assert any("777" in p for p in problems)


def test_allow_outside_base_on_the_command_line(outside, capsys):
    work, other = outside
    write(other, "fine.toml", MINIMAL)
    level = write(work, "top.toml", f'base = "{other / "fine.toml"}"\ntitle = "Top"\n')
    code, out, _ = cli(capsys, "check", str(level))
    assert code == 1 and "outside the levels folders" in out
    code, out, _ = cli(capsys, "check", "--allow-outside-base", str(level))
    assert code == 0 and out == f"{level}: ok — Top\n"
    code, out, err = cli(capsys, "run", str(level), "--until", "04:00:02", "--json")
    assert code == 2 and "outside the levels folders" in err
    code, out, err = cli(capsys, "run", str(level), "--allow-outside-base", "--until", "04:00:02",
                         "--json")
    assert code == 0, err


def test_bases_inside_the_folders_still_work(outside):
    work, _ = outside
    (work / "parts").mkdir()
    write(work / "parts", "common.toml", MINIMAL)
    assert load_level(write(work, "a.toml", 'base = "parts/common.toml"\n')).symbols == ["BTC"]
    # a bare name that is not next to the file is a shipped level
    shipped = load_level(write(work, "b.toml", 'base = "1011"\ntitle = "Mine"\n'))
    assert shipped.data["title"] == "Mine" and shipped.symbols == load_level(
        SHIPPED_LEVELS_DIR / "1011.toml").symbols
    for name in ("hedge", "fund", "breaker"):  # the shipped chains
        load_level(SHIPPED_LEVELS_DIR / f"{name}.toml")


@pytest.mark.parametrize("base", ["", "a\u0000b", "x\u001b[2J", "y" * 5000])
def test_a_base_name_that_is_no_name_is_one_line(tmp_path, base):
    text = f'base = "{base}"\n'.replace("\u0000", "\\u0000").replace("\u001b", "\\u001b")
    problem = one_problem(write(tmp_path, "top.toml", text))
    assert "base = " in problem


# --- control characters are escaped ------------------------------------------------------------
def test_escape_text():
    assert escape_text("plain ASCII, ünïcödé, emoji 🚀, tabs\tand\nlines") == \
        "plain ASCII, ünïcödé, emoji 🚀, tabs\\x09and\\x0alines"
    assert escape_text("\x1b[2J\x07\x9b31m\x7f\u202eevil\u2028") == \
        "\\x1b[2J\\x07\\x9b31m\\x7f\\u202eevil\\u2028"
    assert escape_text(escape_text("\x1b")) == "\\x1b" and not has_control(escape_text("\x85"))
    assert shorten("a" * 500, 40) == "a" * 39 + "…" and shorten("abc", 40) == "abc"


def test_control_characters_from_a_level_are_never_printed_raw(tmp_path, capsys):
    text = ('title = "T\\u001b[2J\\u0007"\n"k\\u001b[31m\\u009b" = "v\\u001b]0;pwn\\u0007"\n'
            '[symbols.BTC]\nprice = 122000\npreset = "\\u001b[5m"\n')
    path = write(tmp_path, "esc.toml", text)
    code, out, err = cli(capsys, "check", str(path))
    assert code == 1 and len(out.splitlines()) == 2
    assert not CONTROL.search(out + err) and "\\u001b" in out
    title_only = write(tmp_path, "title.toml", 'title = "T\\u001b[2J\\u0007"\n' + MINIMAL)
    code, out, _ = cli(capsys, "check", str(title_only))
    assert code == 0 and out == f"{title_only}: ok — T\\x1b[2J\\x07\n"
    for override, shown in (("crowd.long_share=\x1b[2Jboo", "\\x1b[2Jboo"),
                            ("\x1b[31m=1", "\\x1b[31m"), ("title=\x9b2J", None)):
        code, out, err = cli(capsys, "run", str(title_only), "--json", "--until", "04:00:01",
                             "--set", override)
        assert not CONTROL.search(out + err)
        if shown is None:  # a title with a control character is fine: it is escaped when shown
            assert code == 0, err
        else:
            assert code == 2 and len(err.splitlines()) == 1 and shown in err, err


def test_a_level_file_name_with_escapes_is_escaped(tmp_path, capsys):
    path = write(tmp_path, "bad\x1b[31mname.toml", "[symbols.BTC]\nprice = -1\n")
    code, out, _ = cli(capsys, "check", str(path))
    assert code == 1 and not CONTROL.search(out) and "bad\\x1b[31mname.toml" in out


def test_the_reference_states_the_bounds():
    reference = schema_reference_markdown()
    assert "| `crowd.notional_usd.<SYM>` | usd | `10_000_000` | 0 – 10_000_000_000 |" in reference
    assert "| `player.equity_usd` | usd | `1_000_000` | 0 – 100_000_000_000 |" in reference
    fields = SCHEMA.fields["symbols"].node.fields
    assert isinstance(fields["price"], Field) and fields["price"].max == 1e7
    assert sys.getrecursionlimit() > MAX_NESTING * 4  # the scanner's recursion stays far below
    assert np.iinfo(np.int64).max > 9 * MAX_USD * 1_000_000


def test_levels_lists_titles_escaped(tmp_path, capsys, monkeypatch):
    write(tmp_path, "odd.toml", 'title = "Odd\\u001b[2J"\nsummary = "s\\u009b1m"\n' + MINIMAL)
    monkeypatch.setattr(game.cli, "LEVELS_DIR", tmp_path)
    code, out, _ = cli(capsys, "levels")
    assert code == 0 and not CONTROL.search(out) and "Odd\\x1b[2J" in out and "s\\x9b1m" in out


def test_thousands_of_problems_are_listed_up_to_a_hundred(tmp_path):
    from engine.level import MAX_PROBLEMS
    text = MINIMAL + "".join(f"k{i} = 1\n" for i in range(5000))
    problems = problems_of(write(tmp_path, "keys.toml", text))
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1] == "... and 4,900 more problems"


def test_key_paths_are_bounded():
    from engine.level.tomlpos import MAX_PATH_PARTS, parse_path
    assert parse_path("news[2].at") == ("news", 2, "at")
    assert parse_path("news[123456789].at") == ("news", 123456789, "at")
    assert parse_path("news[1234567890].at") is None  # an index of 10 digits
    assert parse_path(".".join(["a"] * MAX_PATH_PARTS)) is not None
    assert parse_path(".".join(["a"] * (MAX_PATH_PARTS + 1))) is None
