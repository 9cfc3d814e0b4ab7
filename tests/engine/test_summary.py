"""The run summary is a typed record (``engine.summary.RunReport``) that serializes to the JSON
``crashfloor run --json`` has always printed."""

import json

from engine import CrashRun, load_level
from engine.summary import PlayerReport, RunReport

TOP_KEYS = ["level", "seed", "checksum", "sim_start", "sim_end", "symbols", "tracked_depth",
            "liquidations", "insurance_fund", "adl", "open_interest", "long_share_start",
            "hedger", "player", "groups", "bad_debt_usd", "halts", "market_makers",
            "conservation_error", "market", "finished", "rules", "objectives"]


def test_the_report_is_typed_and_its_json_keeps_every_key():
    run = CrashRun(load_level("levels/1011.toml", overrides=["crowd.accounts=2000",
                                                             "exchange.halt_drop_pct=0.5"]))
    run.run(until="04:06")
    report = run.report()
    assert isinstance(report, RunReport) and isinstance(report.player, PlayerReport)
    assert report.player.role == "hedger" and report.symbols["BTC"].open > 0
    out = run.summary()
    assert list(out) == TOP_KEYS and out == report.to_json()
    assert out["player"]["equity_start"] == report.player.equity_start
    assert out["hedger"]["equity_start"] == out["player"]["equity_start"]  # the alias
    assert all(set(h) == {"symbol", "from", "to"} for h in out["halts"])
    assert out["halts"], "a 0.5% halt rule halts something in six minutes"
    assert json.loads(json.dumps(out)) == out
    run.modified = "edited by hand"
    marked = run.summary()
    assert marked["modified"] is True and marked["modified_reason"] == "edited by hand"
