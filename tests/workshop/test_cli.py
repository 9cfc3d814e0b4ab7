"""crashfloor compare, new-level and results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from engine.compare import Variant, parse_seeds, run_metrics
from engine.level import load_level
from game.cli import main


def test_compare_table_equals_the_separate_runs(small_level, capsys):
    path = small_level("hedge")
    code = main(["compare", str(path), "--variant", "cap:exchange.adl_breaker_usd_per_min=50000",
                 "--seeds", "3", "--json", "--workers", "2"])
    assert code == 0
    table = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in table["variants"]] == ["baseline", "cap"]
    assert table["seeds"] == [3]
    alone = run_metrics(str(path), ("exchange.adl_breaker_usd_per_min=50000",), 3)
    for key, cell in table["results"]["cap"].items():
        assert cell["values"] == [alone[key]] and cell["mean"] == alone[key], key
        assert cell["sd"] == 0
    base, cap = table["results"]["baseline"], table["results"]["cap"]
    assert cap["adl_usd"]["mean"] < base["adl_usd"]["mean"]
    keys = {m["key"] for m in table["metrics"]}
    assert {"liquidated_usd", "liquidated_accounts", "adl_count", "adl_usd", "bad_debt_usd",
            "fund_end_usd", "pnl_crowd_long_usd", "pnl_crowd_short_usd",
            "pnl_market_makers_usd", "pnl_player_usd", "max_drawdown_BTC_pct"} <= keys


def test_compare_names_a_bad_variant_before_running(capsys):
    assert main(["compare", "hedge", "--variant", "x:exchange.adl_brekaer=1"]) == 2
    err = capsys.readouterr().err
    assert "--variant x: exchange.adl_brekaer=1: unknown key exchange.adl_brekaer; did you mean " \
           "exchange.adl_breaker_usd_per_min? valid keys in [exchange]:" in err
    assert main(["compare", "hedge", "--variant", "thin"]) == 2
    assert "the level defines no variant of that name" in capsys.readouterr().err
    assert main(["compare", "hedge", "--seeds", "5-x"]) == 2
    assert "expected seeds like 1-20" in capsys.readouterr().err


def test_variant_and_seed_syntax():
    v = Variant.parse("reforms:exchange.fund_multiplier=20,market_makers.obligated_firms=3")
    assert v == Variant("reforms", ("exchange.fund_multiplier=20",
                                    "market_makers.obligated_firms=3"))
    assert Variant.parse('w:player.positions=[{symbol="BTC",side="long",notional_usd=1}]') \
        .overrides == ('player.positions=[{symbol="BTC",side="long",notional_usd=1}]',)
    assert parse_seeds("1-3,7,2") == [1, 2, 3, 7]


def test_new_level_writes_a_loadable_commented_file(tmp_path, capsys):
    assert main(["new-level", "flash", "--dir", str(tmp_path)]) == 0
    level = load_level(tmp_path / "flash.toml")
    assert level.get("title") == "flash"
    assert main(["new-level", "flash", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new-level", "../up", "--dir", str(tmp_path)]) == 2


def _session(tmp_path, name, score, stars, equity, survived):
    data = {"level": "hedge", "seed": 1, "sim_end": "05:35",
            "player": {"role": "hedger", "equity_end": equity, "survived": survived,
                       "adl_hits": 0 if survived else 1},
            "objectives": {"score": score, "stars": stars, "lesson_showed": not survived}}
    (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")


def test_results_ranks_sessions_and_skips_bad_files(tmp_path, capsys):
    _session(tmp_path, "ana", 40, 1, 150_000.0, False)
    _session(tmp_path, "bo", 91, 3, 310_000.0, True)
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    assert main(["results", str(tmp_path), "--csv"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows[0][:5] == ["session", "level", "seed", "role", "score"]
    assert [r[0] for r in rows[1:]] == ["bo", "ana"] and rows[1][5] == "3"  # a number
    assert rows[1][6] == "310000.0" and rows[1][11] == "yes"
    assert "skipped" in captured.err and "junk.json" in captured.err


def test_results_reads_saves(tmp_path, capsys):
    from engine.crash import CrashRun
    from engine.saves import save_run
    short = load_level(Path(__file__).resolve().parents[1] / "game" / "fixtures" / "short.toml")
    run = CrashRun(short)
    run.run(until="04:02")
    save_run(run, tmp_path / "cleo.cfsave")
    _session(tmp_path, "dan", 10, 0, 5.0, False)
    assert main(["results", str(tmp_path), "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    cleo = next(r for r in rows if r[0] == "cleo")
    assert cleo[1] == "short" and cleo[2] == "7" and cleo[9] == "04:02"


def test_run_applies_a_named_variant(capsys):
    assert main(["run", "fund", "--variant", "nope"]) == 2
    assert "its variants: thin, as-is, bitmex, stress" in capsys.readouterr().err
    assert main(["run", "fund", "--variant", "bitmex", "--set", "crowd.accounts=1500",
                 "--until", "05:01", "--json"]) == 0
    funds = json.loads(capsys.readouterr().out)["insurance_fund"]
    assert funds["BTC"]["start_usd"] == 60_000_000


def test_results_one_row_per_session_grouped_and_finished_first(tmp_path, capsys):
    """A save and its replay are one session (the save speaks for it); sessions group by level
    and rules; in a group the finished ones rank by score then equity, the unfinished after."""
    def session(name, score, equity, finished=True, rules=()):
        data = {"level": "hedge", "seed": 1, "sim_end": "05:35" if finished else "05:00",
                "finished": finished, "rules": list(rules),
                "player": {"role": "hedger", "equity_end": equity, "survived": True,
                           "adl_hits": 0},
                "objectives": {"score": score, "stars": 1, "lesson_showed": True}}
        (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    session("early", 99, 900_000.0, finished=False)
    session("tie_rich", 50, 400_000.0)
    session("tie_poor", 50, 100_000.0)
    session("bitmex", 10, 50_000.0, rules=["exchange.fund_multiplier=20"])
    assert main(["results", str(tmp_path), "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [r[0] for r in rows[1:]] == ["tie_rich", "tie_poor", "early", "bitmex"]
    assert rows[3][11] == "no" and rows[4][12] == "exchange.fund_multiplier=20"
    assert main(["results", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    bitmex = next(line for line in table.splitlines() if "bitmex" in line)
    assert bitmex.split("│")[1].strip() == "1"  # ranked first in its own group
    assert "unfinished" in next(line for line in table.splitlines() if "early" in line)


def test_results_counts_a_save_and_its_replay_once(tmp_path, capsys):
    from engine.crash import CrashRun
    from engine.saves import save_run
    from engine.saves.replay import save_replay
    short = load_level(Path(__file__).resolve().parents[1] / "game" / "fixtures" / "short.toml")
    run = CrashRun(short)
    run.sim.record_checksums()
    run.run(until="04:02")
    save_run(run, tmp_path / "autosave-x.cfsave")
    save_replay(run, tmp_path / "autosave-x.cfreplay")
    assert main(["results", str(tmp_path), "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [r[0] for r in rows[1:]] == ["autosave-x"]
