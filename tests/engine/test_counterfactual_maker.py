"""The market maker's debrief (``engine.counterfactual.maker_what_if``): the player's session
re-run with its desk scripted — staying and widening as the firms thin, or pulling when the first
firm leaves — its other commands kept. The maker level made quick (2-second steps, the firms
thinning from 04:34 and gone by 04:40), played to 04:50:01 by a scripted session."""

from dataclasses import replace
from pathlib import Path

import pytest

from engine import CrashRun, InvalidInput, load_level
from engine.agents.market_makers import Stance
from engine.clock import fmt_hhmm, parse_hhmm
from engine.commands import CancelAll, PlaceOrder, PullQuotes, SetQuotes
from engine.counterfactual import (CALM, MATTERS_USD, MakerOutcome, maker_lessons, maker_outcome,
                                   maker_rerun, maker_what_if, outcome)

LEVELS = Path(__file__).resolve().parents[2] / "levels"
SMALL = ["clock.step_seconds=2", "market_makers.thin_from=04:34", "market_makers.pull_at=04:40"]
END = "04:50:01"
SHORT_STEP_AT = "04:35:00"
"""The session cuts this step to one second (as ``CrashRun.run(until=...)`` cuts one), so later
steps start on odd seconds: the re-runs must cut the same step."""


def _play() -> CrashRun:
    """The scripted session: pull, quote 8 bps and $100k a level, buy ETH, re-spread (ignored by
    the scripted desks), rest a bid and cancel it, pull at 04:45; one more order queued at the
    end."""
    run = CrashRun(load_level(LEVELS / "maker.toml", SMALL), seed=1)
    sim, a = run.sim, run.player
    script = [("04:30:30", PullQuotes(a)),
              ("04:31:00", SetQuotes(a, True, 8.0, 8.0, 100_000.0, 100_000.0)),
              ("04:32:00", PlaceOrder(a, "ETH", "buy", qty="20")),
              ("04:33:00", SetQuotes(a, True, bid_spread_bps=30.0)),
              ("04:34:00", PlaceOrder(a, "ETH", "buy", qty="5", price="3900")),
              ("04:36:00", CancelAll(a, "ETH")),
              ("04:45:00", PullQuotes(a))]
    stop = parse_hhmm(END)
    while sim.clock < stop:
        while script and sim.clock >= parse_hhmm(script[0][0]):
            sim.submit(script.pop(0)[1])
        sim.step(1 if sim.hhmm == SHORT_STEP_AT else stop - sim.clock)
    sim.submit(PlaceOrder(a, "ETH", "sell", qty="10"))
    return run


@pytest.fixture(scope="module")
def played():
    run = _play()
    before = (run.checksum(), run.summary(), list(run.sim.command_log))
    outcomes = maker_what_if(run)
    return run, before, outcomes


@pytest.fixture(scope="module")
def reruns(played):
    """``maker_rerun`` of the played session by policy name (None: the player's own desk)."""
    run = played[0]
    return {name: maker_rerun(run, name) for name in (None, "stay and widen", "pull early")}


def _cents(x: float) -> int:
    return round(x * 100)


def _desk_records(run) -> list[tuple[int, dict]]:
    return [(t, r) for t, r in run.sim.command_log if r["type"] in ("SetQuotes", "PullQuotes")]


def _other_records(run) -> list[tuple[int, dict]]:
    return [(t, r) for t, r in run.sim.command_log
            if r["type"] not in ("SetQuotes", "PullQuotes")]


def test_the_parts_add_up_to_the_pnl_to_the_cent(played):
    _, _, outcomes = played
    assert list(outcomes) == ["real", "stay and widen", "pull early"]
    for o in outcomes.values():
        parts = _cents(o.spread_earned_usd) + _cents(o.rebates_usd) - _cents(o.penalties_usd) \
            + _cents(o.inventory_pnl_usd)
        assert parts == _cents(o.pnl_usd), o.name
        assert o.spread_earned_usd > 0 and o.rebates_usd > 0 and o.penalties_usd == 0
        assert o.survived and o.liquidated_at is None
    real, stay, pull = outcomes["real"], outcomes["stay and widen"], outcomes["pull early"]
    # this session: the inventory lost more than the spread earned, in every run; staying longer
    # lost more ($5,443: more than MATTERS_USD, so the debrief says so; $558 while a step-down
    # released an isolated position's margin to the wallet), pulling at the first thinning lost
    # least — by more than rounding
    assert all(o.inventory_pnl_usd < -(o.spread_earned_usd + o.rebates_usd) < 0
               for o in outcomes.values())
    assert stay.pnl_usd + MATTERS_USD < real.pnl_usd < pull.pnl_usd - MATTERS_USD < 0
    assert (_cents(real.pnl_usd), _cents(stay.pnl_usd)) == (-460_551, -1_004_879)


def test_the_real_outcome_is_the_runs_own_numbers(played):
    run, (_, summary, log), outcomes = played
    real, p = outcomes["real"], summary["player"]
    m = p["maker"]
    assert (real.pnl_usd, real.spread_earned_usd, real.rebates_usd, real.penalties_usd,
            real.uptime_pct) == (p["pnl_usd"], m["spread_earned_usd"], m["rebates_usd"],
                                 m["penalties_usd"], m["uptime_pct"])
    assert abs(real.inventory_pnl_usd - m["inventory_pnl_usd"]) <= 0.011
    assert real.equity_curve == outcome("real", run).equity_curve and len(real.equity_curve) == 20
    # the desk stopped with the player's 04:45 pull, applied by the step that started then (on
    # an odd second since the short step)
    pulled = [t for t, r in log if r["type"] == "PullQuotes"][-1]
    assert real.quoting_until == fmt_hhmm(run.sim.start + pulled, with_seconds=True) == "04:45:01"


def test_the_real_run_is_only_read(played):
    run, (checksum, summary, log), _ = played
    assert run.checksum() == checksum and run.summary() == summary and run.sim.command_log == log
    assert run.sim.hhmm == END


def test_re_running_with_the_players_own_desk_commands_reproduces_the_run(played, reruns):
    """How the real desk's stop time is found: the re-run is the run, to the checksum."""
    run, _, _ = played
    fresh, quoting_until = reruns[None]
    assert fresh.sim.t == run.sim.t and fresh.checksum() == run.checksum()
    assert fresh.sim.short_steps == run.sim.short_steps and quoting_until == "04:45:01"


def test_the_scripted_desks_keep_every_other_command_and_replace_the_desk_ones(played, reruns):
    run, _, outcomes = played
    for name in ("stay and widen", "pull early"):
        fresh, quoting_until = reruns[name]
        assert maker_outcome(name, fresh, quoting_until) == outcomes[name]
        assert fresh.sim.t == run.sim.t and fresh.sim.short_steps == run.sim.short_steps
        # the orders and the cancel at their times, and the order queued at the end queued again
        assert _other_records(fresh) == _other_records(run)
        assert _other_records(fresh)[-1][0] == fresh.sim.t
        desk = _desk_records(fresh)
        # the base: the player's first SetQuotes that turned quoting on, from the start
        assert desk[0] == (0, {"type": "SetQuotes", "account": run.player, "quoting": True,
                               "bid_spread_bps": 8.0, "ask_spread_bps": 8.0,
                               "bid_size_usd": 100_000.0, "ask_size_usd": 100_000.0,
                               "skew": None})
        assert all(r["bid_size_usd"] == 100_000.0 for _, r in desk if r["type"] == "SetQuotes")
        assert [r["type"] for _, r in desk].count("PullQuotes") == (name == "pull early")


def test_staying_widens_with_the_firms_and_never_pulls(played, reruns):
    _, _, outcomes = played
    fresh, _ = reruns["stay and widen"]
    records = _desk_records(fresh)
    assert all(r["type"] == "SetQuotes" and r["quoting"] for _, r in records)
    # at most once a minute, both sides alike, never tighter than the base, ever wider
    assert len({(fresh.sim.start + t) // 60 for t, _ in records}) == len(records) > 3
    spreads = [r["bid_spread_bps"] for _, r in records]
    assert spreads == [r["ask_spread_bps"] for _, r in records] == sorted(spreads)
    # calm until 04:34, then widest once every firm has pulled to its token presence (1 / 0.12)
    assert [bps for (t, _), bps in zip(records, spreads, strict=True)
            if fresh.sim.start + t < parse_hhmm("04:34")] == [8.0]
    assert spreads[-1] == pytest.approx(8.0 / 0.12)
    assert outcomes["stay and widen"].quoting_until == END


def test_pulling_early_stops_at_the_first_firms_thinning(played, reruns):
    """The scripted firms thin at the same times in every run: the first one's thinning (the
    recorder's first maker event that leaves calm) is when the desk pulls, before the next
    step."""
    run, _, outcomes = played
    first = next(c for c, _, state in run.recorder.maker_events
                 if state in (Stance.THINNING, Stance.PULLED))
    fresh, _ = reruns["pull early"]
    assert next(c for c, _, state in fresh.recorder.maker_events if state not in CALM) == first
    assert [t for t, r in _desk_records(fresh) if r["type"] == "PullQuotes"] == \
        [first - fresh.sim.start]
    pull, stay = outcomes["pull early"], outcomes["stay and widen"]
    assert pull.quoting_until == fmt_hhmm(first, with_seconds=True)
    assert "04:34:00" <= pull.quoting_until < "04:36:00"   # the scripted firms' stagger
    assert pull.uptime_pct < outcomes["real"].uptime_pct < stay.uptime_pct
    assert pull.spread_earned_usd < stay.spread_earned_usd


def test_the_counterfactuals_are_deterministic(played):
    run, _, outcomes = played
    assert maker_what_if(run) == outcomes


def test_a_designated_maker_that_pulls_early_pays_for_every_minute_it_left():
    """dmm.toml (a $5,000 penalty a minute under 80% compliance), its default ladder quoted from
    04:30: penalties are one of the parts, and pulling early costs one for every minute after."""
    run = CrashRun(load_level(LEVELS / "dmm.toml", SMALL), seed=1)
    run.run(until="04:50")
    outcomes = maker_what_if(run)
    real, pull = outcomes["real"], outcomes["pull early"]
    maker = run.summary()["player"]["maker"]
    assert real.quoting_until == "04:50:00" and real.penalties_usd == maker["penalties_usd"] \
        == 5_000 * maker["minutes_missed"] > 0
    for o in outcomes.values():
        assert _cents(o.spread_earned_usd) + _cents(o.rebates_usd) - _cents(o.penalties_usd) \
            + _cents(o.inventory_pnl_usd) == _cents(o.pnl_usd)
    # pulled in the minute of 04:34:18: that minute and every later one to 04:50 missed
    assert pull.quoting_until == "04:34:18" and pull.penalties_usd == 16 * 5_000
    text = maker_lessons(outcomes)
    assert f"Missed obligations cost you ${real.penalties_usd:,.0f} in penalties." in text
    assert any(line.startswith("Pulling your quotes when the first firm left its calm") and
               "penalties $80,000" in line for line in text)


def test_with_nothing_for_the_scripts_to_change_they_are_the_real_session():
    """The default ladder from 04:30, stopped at 04:36 before any firm thins: neither scripted
    desk sends a command, so both re-runs are the real run, and the lessons say so."""
    run = CrashRun(load_level(LEVELS / "maker.toml", ["clock.step_seconds=2"]), seed=1)
    run.run(until="04:36")
    outcomes = maker_what_if(run)
    real = outcomes["real"]
    assert real.quoting_until == "04:36:00" and real.spread_earned_usd > 0
    assert outcomes["stay and widen"] == replace(real, name="stay and widen")
    assert outcomes["pull early"] == replace(real, name="pull early")
    text = maker_lessons(outcomes)
    assert "would have made no difference to your account" in text[1]
    assert text[2] == "No firm left its calm while your desk could quote, so pulling early " \
                      "would never have pulled."


def test_a_run_without_a_desk_has_no_maker_debrief():
    run = CrashRun(load_level(LEVELS / "1011.toml", ["crowd.accounts=300"]), seed=1)
    with pytest.raises(InvalidInput, match="no market-making desk"):
        maker_what_if(run)


def _hand(name: str, pnl: float, spread: float, inventory: float, until: str | None = "05:35:00",
          rebates: float = 0.0, penalties: float = 0.0) -> MakerOutcome:
    return MakerOutcome(name, pnl, spread, rebates, penalties, inventory, 90.0, until, True,
                        None, ())


def test_the_lessons_follow_the_numbers():
    real = _hand("real", -100_000, 250_000, -350_000)
    stay = _hand("stay and widen", 200_000, 320_000, -120_000)
    pull = _hand("pull early", -20_000, 1_000, -21_000, until="04:40:18")
    text = maker_lessons({"real": real, "stay and widen": stay, "pull early": pull})
    assert text == [
        "Your inventory lost $350,000, more than the $250,000 your spread and rebates earned.",
        "Staying all session and widening your spreads as the firms' depth fell would have left "
        "you $300,000 better off: $200,000 instead of −$100,000 (spread and rebates $320,000, "
        "inventory −$120,000).",
        "Pulling your quotes when the first firm left its calm (at 04:40:18) would have left you "
        "$80,000 better off: −$20,000 instead of −$100,000 (spread and rebates $1,000, inventory "
        "−$21,000)."]
    # the same session where the spread paid for the inventory, staying lost money and pulling
    # made no difference: every sentence changes with its numbers
    real = _hand("real", 50_000, 120_000, -70_000)
    stay = replace(stay, pnl_usd=-30_000, inventory_pnl_usd=-350_000)
    pull = replace(pull, pnl_usd=50_400, inventory_pnl_usd=49_400)
    text = maker_lessons({"real": real, "stay and widen": stay, "pull early": pull})
    assert text[0] == "Your spread and rebates earned $120,000 and paid for the $70,000 your " \
                      "inventory lost."
    assert text[1].startswith("Staying all session and widening your spreads as the firms' "
                              "depth fell would have left you $80,000 worse off: −$30,000")
    assert text[2].startswith("Pulling your quotes when the first firm left its calm (at "
                              "04:40:18) would have made no difference to your account ($50,400")


def test_the_lessons_name_penalties_liquidations_and_a_pull_that_never_came():
    real = _hand("real", 5_000, 4_000, 500, rebates=1_000, penalties=500)
    stay = replace(_hand("stay and widen", -400_000, 10_000, -410_000), survived=False,
                   liquidated_at="05:12:40")
    pull = _hand("pull early", 9_000, 20_000, -1_000, penalties=10_000)
    text = maker_lessons({"real": real, "stay and widen": stay, "pull early": pull})
    assert text[0] == "Your spread and rebates earned $5,000; your inventory made no " \
                      "difference ($500)."
    assert "Staying and widening, you would have been liquidated at 05:12:40." in text
    assert "No firm left its calm while your desk could quote, so pulling early would never " \
           "have pulled." in text
    real = replace(real, penalties_usd=25_000, pnl_usd=-20_000, inventory_pnl_usd=0.0)
    pull = replace(pull, quoting_until="04:41:00")
    text = maker_lessons({"real": real, "stay and widen": stay, "pull early": pull})
    assert "Missed obligations cost you $25,000 in penalties." in text
    assert any(line.startswith("Pulling your quotes when the first firm left its calm (at "
                               "04:41:00) would have left you $29,000 better off")
               and "penalties $10,000" in line for line in text)
