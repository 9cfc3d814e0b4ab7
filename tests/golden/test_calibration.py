"""The default level reproduces the facts of crash.md, full size: the stylized facts F1–F10, the
timing facts F11–F13 and the structure facts F15–F20 on seeds 1..5, F14 with an epilogue on
seed 1, and the causal facts C1–C4 on seed 1 (the same seed with one switch changed).

Five full-size runs, the ×20-fund run, four counterfactuals, the ADL-exempt run and an epilogue
take about two minutes on two cores (run in parallel).
Facts are defined once, in engine/facts.py. A fact that a seed does not meet yet is listed in
KNOWN_MISSES with the reason, and reported as an expected failure rather than hidden.
"""

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from engine.clock import parse_hhmm
from engine.facts import (CAUSAL_SWITCHES, check_causal, check_f10, check_facts, check_lows,
                          check_recovery, check_structure)
from tests.golden.measure import run_summary

SEEDS = (1, 2, 3, 4, 5)

KNOWN_MISSES: dict[tuple[int, str], str] = {
    (1, "F5"): "DOGE falls 28.7% (30–55%): its book holds on this seed",
    (4, "F5"): "DOGE falls 24.7% (30–55%): its book holds on this seed",
    (2, "F13"): "tracked depth bottoms at 05:09, a minute before 05:10: the wave comes early",
    (4, "F20"): "the busiest market-wide minute liquidates $997M, just under $1B",
}


@pytest.fixture(scope="session")
def summaries():
    jobs = [(seed, []) for seed in SEEDS] + [(1, ["exchange.fund_multiplier=20"])] \
        + [(1, switch) for switch in CAUSAL_SWITCHES.values()] \
        + [(1, ["exchange.adl_exempt_player=true"]), (1, ["clock.epilogue=06:15"])]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(run_summary, jobs))
    n, c = len(SEEDS), len(CAUSAL_SWITCHES)
    return (dict(zip(SEEDS, results[:n], strict=True)), results[n],
            dict(zip(CAUSAL_SWITCHES, results[n + 1:n + 1 + c], strict=True)), results[-2],
            results[-1])


FACTS = ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fact", FACTS)
def test_default_level_reproduces_the_stylized_fact(summaries, seed, fact, request):
    if (seed, fact) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[(seed, fact)], strict=True))
    results = check_facts(summaries[0][seed])
    (name, (ok, measured)), = [(k, v) for k, v in results.items() if k.startswith(fact + " ")]
    assert ok, f"seed {seed}: {name}: measured {measured}"


STRUCTURE = ("F11", "F12", "F13", "F15", "F16", "F17", "F19", "F20")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fact", STRUCTURE)
def test_default_level_has_the_crash_timing_and_structure(summaries, seed, fact, request):
    """When the firms leave and the cascade peaks; how large a share ADL takes, in how many
    contracts, how spread out; whether hedged traders who lose a leg to ADL are liquidated next;
    the market-wide liquidations at real scale (engine.facts.check_structure)."""
    if (seed, fact) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[(seed, fact)], strict=True))
    results = check_structure(summaries[0][seed])
    (name, (ok, measured)), = [(k, v) for k, v in results.items() if k.startswith(fact + " ")]
    assert ok, f"seed {seed}: {name}: measured {measured}"


def test_f18_no_low_sits_on_one_resting_order(summaries):
    ok, most = check_lows(list(summaries[0].values()))
    assert ok, f"seeds {SEEDS}: the most seeds sharing one low, per symbol: {most}"


def test_f14_the_firms_return_and_depth_recovers(summaries, request):
    """With an epilogue to 06:15 (seed 1): firms re-quote from 05:35 and the tracked depth is
    back to 90% of its start by 06:10."""
    if (1, "F14") in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[(1, "F14")], strict=True))
    ok, measured = check_recovery(summaries[4])
    assert ok, f"seed 1: first return, depth share at 06:10: {measured}"


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
    liquidated all the same (the DOGE short is isolated: its gain never backed them), within a
    minute of the real run (05:10:20 exempt, 05:11:02 real: the paths part after the first ADL);
    what ADL took was the hedge's gain — its proceeds went to the cross wallet and down with the
    longs: seed 1 ends at $0 instead of $98,833 (session 18). This is what the debrief can tell
    the player, measured, not asserted."""
    real, exempt = summaries[0][1]["player"], summaries[3]["player"]
    assert real["adl_at"] is not None and real["adl_at"] < real["liquidated_at"]
    assert exempt["adl_at"] is None and exempt["adl_hits"] == 0
    assert exempt["liquidated_at"] is not None
    gap = parse_hhmm(exempt["liquidated_at"]) - parse_hhmm(real["liquidated_at"])
    assert abs(gap) <= 60   # liquidated all the same: the exemption did not save the longs
    assert real["adl_hits"] > 0 and exempt["equity_end"] > real["equity_end"] >= 0


def test_every_run_conserves_money_exactly(summaries):
    for s in [*summaries[0].values(), summaries[1], *summaries[2].values(), *summaries[3:]]:
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
