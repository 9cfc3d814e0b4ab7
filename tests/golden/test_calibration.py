"""The default level reproduces the stylized facts F1–F10 of crash.md, full size, seeds 1..5,
and the causal facts C1–C4 on seed 1 (the same seed with one switch changed).

Five full-size runs, the ×20-fund run and four counterfactuals take about two minutes on two
cores (run in parallel).
Facts are defined once, in engine/facts.py. A fact that a seed does not meet yet is listed in
KNOWN_MISSES with the reason, and reported as an expected failure rather than hidden.
"""

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from engine.facts import CAUSAL_SWITCHES, check_causal, check_f10, check_facts

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"
SEEDS = (1, 2, 3, 4, 5)

KNOWN_MISSES: dict[tuple[int, str], str] = {
    (2, "F9"): "the hedger's DOGE ADL and its longs' liquidation fall in the same minute (05:07): "
               "the emergent cascade is faster than the article's",
    (3, "F5"): "DOGE's wick reaches −62% (−30..−55%): the thin local DOGE book",
}


def _run(job):
    seed, overrides = job
    from engine.crash import CrashRun
    from engine.level import load_level
    run = CrashRun(load_level(LEVEL, overrides), seed=seed)
    run.run()
    return run.summary()


@pytest.fixture(scope="session")
def summaries():
    jobs = [(seed, []) for seed in SEEDS] + [(1, ["exchange.fund_multiplier=20"])] \
        + [(1, switch) for switch in CAUSAL_SWITCHES.values()] \
        + [(1, ["exchange.adl_exempt_player=true"])]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_run, jobs))
    n, c = len(SEEDS), len(CAUSAL_SWITCHES)
    return (dict(zip(SEEDS, results[:n], strict=True)), results[n],
            dict(zip(CAUSAL_SWITCHES, results[n + 1:n + 1 + c], strict=True)), results[-1])


FACTS = ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fact", FACTS)
def test_default_level_reproduces_the_stylized_fact(summaries, seed, fact, request):
    if (seed, fact) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[(seed, fact)], strict=True))
    results = check_facts(summaries[0][seed])
    (name, (ok, measured)), = [(k, v) for k, v in results.items() if k.startswith(fact + " ")]
    assert ok, f"seed {seed}: {name}: measured {measured}"


def test_f10_a_bitmex_like_fund_all_but_ends_adl(summaries):
    ok, (before, after) = check_f10(summaries[0][1], summaries[1])
    assert before > 0
    assert ok, f"ADL fills {before} with the level's funds, {after} with funds ×20"


@pytest.mark.parametrize("fact", ("C1", "C2", "C3", "C4"))
def test_the_withdrawal_turns_a_correction_into_the_cascade(summaries, fact, request):
    """C1–C4 on seed 1: the cascade needs the makers' withdrawal, the crowd's skew and the
    shock, each (engine.facts.check_causal)."""
    if (1, fact) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[(1, fact)], strict=True))
    results = check_causal(summaries[0][1], summaries[2])
    (name, (ok, measured)), = [(k, v) for k, v in results.items() if k.startswith(fact + " ")]
    assert ok, f"seed 1: {name}: measured {measured}"


def test_f9_what_adl_did_to_the_hedger_by_a_counterfactual(summaries):
    """Seed 1 (F9 holds): the same run with the player last in every ADL queue. The longs are
    liquidated all the same (the DOGE short is isolated: its gain never backed them), no later
    than in the real run; what ADL took is the hedge's gain — the account ends with it instead of
    nothing. This is what the debrief can tell the player, measured, not asserted."""
    real, exempt = summaries[0][1]["player"], summaries[3]["player"]
    assert real["adl_at"] is not None and real["adl_at"] < real["liquidated_at"]
    assert exempt["adl_at"] is None and exempt["adl_hits"] == 0
    assert exempt["liquidated_at"] is not None and exempt["liquidated_at"] <= real["liquidated_at"]
    assert real["equity_end"] == 0 and exempt["equity_end"] > 50_000


def test_every_run_conserves_money_exactly(summaries):
    for s in [*summaries[0].values(), summaries[1], *summaries[2].values(), summaries[3]]:
        assert s["conservation_error"] == 0


GOLDEN = Path(__file__).with_name("1011_outcomes.json")


def key_figures(summary: dict) -> dict:
    """The figures a golden file pins: checksum and the headline numbers."""
    return {"checksum": summary["checksum"],
            "low": {sym: v["low"] for sym, v in summary["symbols"].items()},
            "liquidations": summary["liquidations"]["count"],
            "liquidated_usd": summary["liquidations"]["notional_usd"],
            "adl_fills": summary["adl"]["count"], "first_adl": summary["adl"]["first_at"],
            "hedger": summary["hedger"]}


def test_golden_outcomes_unchanged(summaries):
    """Same level + seed → same outcome as recorded. After a deliberate change to the engine or
    the level, regenerate with: python -m tests.golden.update"""
    import json
    golden = json.loads(GOLDEN.read_text())
    now = {str(seed): key_figures(s) for seed, s in summaries[0].items()}
    assert now == golden
