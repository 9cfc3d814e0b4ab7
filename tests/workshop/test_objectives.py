"""Objectives, score and stars from a summary; the level file's objective, variant and base
errors."""

from __future__ import annotations

import pytest

from engine.errors import LevelError
from engine.level import load_level
from engine.objectives import METRICS, evaluate, score

from .conftest import LEVELS

SUMMARY = {
    "player": {"survived": True, "adl_hits": 2, "equity_end": 150_000.0, "pnl_usd": -50_000.0,
               "pnl_pct": -25.0, "max_drawdown_pct": 60.0, "maker": None},
    "liquidations": {"notional_usd": 1e8, "accounts": 4000},
    "adl": {"count": 10, "notional_usd": 1e6, "socialized_usd": 5e4},
    "bad_debt_usd": 0.0, "halts": [],
    "insurance_fund": {"BTC": {"start_usd": 100.0, "min_usd": 25.0, "end_usd": 40.0}},
    "tracked_depth": {"start_usd": 200.0, "min_usd": 4.0},
}


def test_credits_for_yes_no_at_least_and_at_most():
    items = evaluate([{"metric": "survived", "is": None, "weight": 1},
                      {"metric": "not_adld", "is": None, "weight": 1},
                      {"metric": "not_adld", "is": False, "weight": 1},
                      {"metric": "end_equity_usd", "at_least": 300_000, "weight": 1},
                      {"metric": "max_drawdown_pct", "at_most": 30, "weight": 1},
                      {"metric": "fund_used_pct", "at_most": 80, "weight": 1},
                      {"metric": "depth_min_pct", "at_least": 1, "weight": 1}], SUMMARY)
    assert [(i["met"], i["credit"]) for i in items] == [
        (True, 1.0), (False, 0.0), (True, 1.0), (False, 0.5), (False, 0.5), (True, 1.0),
        (True, 1.0)]
    assert items[5]["value"] == 75.0 and items[6]["value"] == 2.0
    assert items[3]["value_text"] == "$150,000" and items[3]["target"] == "≥ $300,000"


def test_score_weights_and_stars():
    level = {"objectives": [{"metric": "survived", "is": None, "weight": 3.0},
                            {"metric": "end_equity_usd", "at_least": 300_000, "weight": 1.0}],
             "scoring": {"par": 60, "star1": 40, "star2": 70, "star3": 90},
             "lesson_checks": [{"metric": "adl_hits", "at_least": 1}]}
    out = score(level, SUMMARY)
    assert out["score"] == round(100 * (3 + 0.5) / 4) == 88
    assert out["stars"] == 2 and out["par"] == 60 and out["lesson_showed"] is True


def test_a_maker_metric_without_a_maker_scores_nothing():
    out = score({"objectives": [{"metric": "quoting_uptime_pct", "at_least": 50, "weight": 1}]},
                SUMMARY)
    assert out["items"][0]["value"] is None and out["score"] == 0


def test_every_metric_documents_itself():
    for metric in METRICS.values():
        assert metric.doc and metric.kind in ("bool", "number")


def _problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LevelError) as caught:
        load_level(path)
    return caught.value.problems


HEAD = "[symbols.BTC]\nprice = 122000\n"


@pytest.mark.parametrize("body, expected", [
    ('[[objectives]]\nmetric = "survived"\nat_least = 1\n',
     "line 5: objectives[0].at_least = 1 — survived is a yes/no metric: use is = true"),
    ('[[objectives]]\nmetric = "pnl_usd"\n',
     "objectives[0].metric = \"pnl_usd\" — pnl_usd is a number: give exactly one of at_least, "
     "at_most (got neither)"),
    ('[[objectives]]\nmetric = "pnl"\nat_least = 1\n', "objectives[0].metric = \"pnl\" — must "
     "be one of:"),
    ('[[lesson_checks]]\nmetric = "adl_count"\nis = true\n',
     "lesson_checks[0].is = true — adl_count is a number: use at_least or at_most"),
    ('[scoring]\nstar1 = 80\nstar2 = 50\n', "scoring.star2 = 50 — must be at least scoring.star1"),
    ('[[variants]]\nname = "a"\n[[variants]]\nname = "a"\n',
     'variants[1].name = "a" — duplicate: variants[0] has that name'),
    ('[[variants]]\nname = "a"\nset = ["exchange.nope=1"]\n',
     "variants[0].set[0] = \"exchange.nope=1\" — exchange.nope=1: unknown key exchange.nope"),
    ('[[variants]]\nname = "a"\nset = "exchange.fund_multiplier=2"\n',
     "variants[0].set = \"exchange.fund_multiplier=2\" — must be a list of strings"),
])
def test_objective_and_variant_mistakes_are_named(tmp_path, body, expected):
    problems = _problems(tmp_path, HEAD + body)
    assert any(expected in p for p in problems), problems


def test_base_levels_merge_and_report_their_problems(tmp_path):
    (tmp_path / "a.toml").write_text('base = "b"\ntitle = "A"\n[crowd]\naccounts = 10\n',
                                     encoding="utf-8")
    (tmp_path / "b.toml").write_text('title = "B"\n' + HEAD + '[crowd]\nlong_share = 0.5\n',
                                     encoding="utf-8")
    level = load_level(tmp_path / "a.toml")
    assert level.get("title") == "A" and level.get("crowd.accounts") == 10
    assert level.get("crowd.long_share") == 0.5 and level.raw["title"] == "A"
    (tmp_path / "b.toml").write_text('base = "a"\n' + HEAD, encoding="utf-8")
    with pytest.raises(LevelError) as caught:
        load_level(tmp_path / "a.toml")
    assert "the bases form a loop: a.toml → b.toml → a.toml" in caught.value.problems[0]
    (tmp_path / "c.toml").write_text('base = "nope"\n', encoding="utf-8")
    with pytest.raises(LevelError) as caught:
        load_level(tmp_path / "c.toml")
    assert 'base = "nope" — no such level next to this file' in caught.value.problems[0]
    (tmp_path / "d.toml").write_text(HEAD + "[crowd]\nlong_share = 7\n", encoding="utf-8")
    (tmp_path / "e.toml").write_text('base = "d"\n', encoding="utf-8")
    with pytest.raises(LevelError) as caught:
        load_level(tmp_path / "e.toml")
    assert caught.value.problems[0].endswith("its base has problems:")
    assert "d.toml: line 4: crowd.long_share = 7" in caught.value.problems[1]


def test_shipped_variants_load():
    for name in ("fund", "breaker"):
        level = load_level(LEVELS / f"{name}.toml")
        for variant in level.data["variants"]:
            load_level(LEVELS / f"{name}.toml", variant["set"])
