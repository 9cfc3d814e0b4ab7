"""What the debrief says: the player's own timeline, what the market did, one what-if to try.

Built from the run's recorder (``CrashRun.summary()``) and the floor's event log; the score is
the level's objectives measured on the run (``engine.objectives``). Pure Python: no textual.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.clock import parse_hhmm
from engine.units import MONEY_PER_USD

from . import fmt


@dataclass(frozen=True, slots=True)
class ChartMark:
    clock: int
    glyph: str
    style: str
    label: str


@dataclass(frozen=True, slots=True)
class Debrief:
    title: str
    equity: tuple[tuple[int, float], ...]
    marks: tuple[ChartMark, ...]
    yours: tuple[str, ...]
    market: tuple[str, ...]
    what_if: tuple[str, str]          # (why, command line)
    lesson: str
    window: tuple[int, int]
    score: tuple[str, ...] = ()
    """Score and stars, then one line per objective (✓ / ✗, value against target)."""
    lesson_showed: str = ""


def _clock(text: str | None) -> int | None:
    return None if text is None else parse_hhmm(text)


def build(model) -> Debrief:
    run, sim = model.run, model.sim
    s = run.summary()
    equity = tuple((c, v / MONEY_PER_USD) for c, v in run.recorder.equity_curve)
    if model.player is not None:
        equity += ((sim.clock, float(model.ex.equity(model.player))),)
    score = tuple(score_lines(s["objectives"], sim.finished))
    if s.get("modified"):
        score = (f"⚠ Modified session: {s['modified_reason']}. Its score is not comparable with "
                 f"clean sessions and results does not rank it.",) + score
    return Debrief(
        title=f"{run.level.data['title']} · level {run.level.name} · seed {run.seed} · "
              f"{s['sim_start']}–{fmt.hhmm(sim.clock, seconds=True)} HKT"
              + (f" · rules: {', '.join(model.rules())}" if model.rules() else "")
              + (" · MODIFIED" if s.get("modified") else ""),
        equity=equity, marks=tuple(_marks(s, model)), yours=tuple(your_lines(model, s)),
        market=tuple(market_lines(s)), what_if=what_if(s, run.level.name, run.seed, model.role,
                                         [v for v in run.level.data["variants"] if v["set"]]),
        lesson=lesson_text(run.level),
        window=(sim.start, sim.end), score=score,
        lesson_showed=lesson_line(s["objectives"]))


ROLE_LESSONS = {
    "maker": "Quoting pays a few basis points of spread; a cascade costs the whole book. With no "
             "obligation, leaving is the rational move: that is why the market makers pulled "
             "together.",
    "hedger": "When market makers withdraw together, liquidations cannot fill, the insurance "
              "fund drains, and ADL closes the most profitable positions first: a hedge is no "
              "protection.",
}
"""The lesson of each role, for a level played in the role it was not written for."""


def lesson_text(level) -> str:
    """The level's lesson (a level played in another role than its own carries that role's
    lesson: ``game.app.load``)."""
    return " ".join(level.data.get("lesson", "").split())


def has_causes(model) -> bool:
    """Whether the debrief re-runs the session to show causes: a hedger's (one switch changed
    each time) and a market maker's (its desk scripted to stay and widen, or to pull early)."""
    if model.player is None:
        return False
    return model.role == "hedger" or (model.role == "maker" and model.run.desk is not None)


def counterfactuals(model) -> dict:
    """The real run's outcome and the same session re-run (``engine.counterfactual.what_if``
    for a hedger, ``maker_what_if`` for a market maker): slow, run it in a worker."""
    from engine.counterfactual import maker_what_if, what_if
    cached = model.causes
    if cached is not None and cached[0] == (model.sim.t, len(model.sim.command_log)):
        return cached[1]
    outcomes = maker_what_if(model.run) if model.role == "maker" else what_if(model.run)
    model.causes = ((model.sim.t, len(model.sim.command_log)), outcomes)
    return outcomes


def cause_lines(outcomes: dict) -> list[str]:
    """The lessons the re-runs show, then one line per run: how it ended (for a market maker,
    where its money came from)."""
    from engine.counterfactual import MakerOutcome, lessons, maker_lessons
    if isinstance(outcomes.get("real"), MakerOutcome):
        lines = maker_lessons(outcomes)
        for name, m in outcomes.items():
            end = "survived" if m.survived else f"liquidated {m.liquidated_at}"
            until = f"quoting until {m.quoting_until}" if m.quoting_until else "never quoting"
            lines.append(f"{name}: {fmt.usd(m.pnl_usd, signed=True)} = spread "
                         f"{fmt.usd(m.spread_earned_usd)} + rebates {fmt.usd(m.rebates_usd)} − "
                         f"penalties {fmt.usd(m.penalties_usd)} + inventory "
                         f"{fmt.usd(m.inventory_pnl_usd, signed=True)}; uptime "
                         f"{m.uptime_pct:.0f}%, {until}, {end}")
        return lines
    lines = lessons(outcomes)
    for name, o in outcomes.items():
        end = "survived" if o.survived else f"liquidated {o.liquidated_at}"
        adl = f", ADL'd {o.adl_hits}× from {o.adl_at}" if o.adl_hits else ""
        lines.append(f"{name}: {fmt.usd(o.pnl_usd, signed=True)} over both wallets, {end}{adl}")
    return lines


def score_lines(o: dict, finished: bool = True) -> list[str]:
    """The score line, then each objective with its measured value."""
    if not o["items"]:
        return []
    stars = "★" * o["stars"] + "☆" * (3 - o["stars"])
    head = f"Score {o['score']}/100  {stars}  (par {o['par']}; stars at " \
           f"{', '.join(map(str, o['stars_at']))})"
    if not finished:
        head += " — so far: the session is not over"
    lines = [head]
    for item in o["items"]:
        mark = "✓" if item["met"] else "✗"
        lines.append(f"{mark} {item['label']}: {item['value_text']} (target {item['target']})")
    return lines


def lesson_line(o: dict) -> str:
    """Whether the level's lesson showed up in this run, and the evidence."""
    checks = o.get("lesson_checks") or []
    if not checks:
        return ""
    evidence = "; ".join(f"{c['label']}: {c['value_text']}" for c in checks)
    if o["lesson_showed"]:
        return f"It showed up in your run — {evidence}."
    return f"It did not show up in your run — {evidence}. Try the passive line, or compare."


def _marks(s: dict, model) -> list[ChartMark]:
    marks = [ChartMark(c, "N", "panel--accent", f"news: {h}") for c, h in model.log.news]
    liq = _clock(s["liquidations"].get("peak_minute"))
    if liq is not None:
        marks.append(ChartMark(liq, "L", "panel--warn", "peak liquidation minute"))
    adl = _clock(s["adl"].get("first_at"))
    if adl is not None:
        marks.append(ChartMark(adl, "A", "panel--bad", "first ADL on the exchange"))
    for m in model.timeline:
        if m.kind in ("adl", "liquidation"):
            marks.append(ChartMark(m.clock, "★", "panel--mine", m.text))
    return marks


def your_lines(model, s: dict) -> list[str]:
    lines = [f"{fmt.hhmm(m.clock)}  {m.text}" for m in model.timeline]
    h = s.get("player")
    if not lines:
        lines.append(_quiet_session(model, h))
    if h and h.get("equity_start"):
        change = h["equity_end"] / h["equity_start"] - 1
        lines.append(f"Equity {fmt.usd(h['equity_start'])} → {fmt.usd(h['equity_end'])} "
                     f"({fmt.pct(change)}).")
    desk = model.desk_view()
    if desk is not None:
        lines.append(f"Your desk: spread earned {fmt.usd(desk.spread_earned_usd)}, "
                     f"mark-to-market {fmt.usd(desk.mtm_pnl_usd, signed=True)}, "
                     f"two-sided {desk.uptime_pct:.0f}% of the time, inventory "
                     f"{desk.inventory:,g} {desk.symbol}.")
        maker = (h or {}).get("maker") or {}
        if maker.get("obligated") or maker.get("rebates_usd"):
            met = maker.get("obligations_met")
            lines.append(f"Rebates {fmt.usd(maker.get('rebates_usd') or 0)}, penalties "
                         f"{fmt.usd(maker.get('penalties_usd') or 0)}"
                         + ("" if not maker.get("obligated") else
                            f" ({maker.get('minutes_missed', 0)} minutes under the obligation; "
                            f"obligations {'met' if met else 'not met'})") + ".")
    return lines


def _quiet_session(model, h: dict | None) -> str:
    """What to say when the player's timeline is empty, without contradicting the rest."""
    forced = h is not None and (h.get("adl_hits") or h.get("liquidations"))
    desk = model.desk_view()
    if desk is not None and desk.uptime_pct > 0:
        return (f"You quoted {desk.symbol} {desk.uptime_pct:.0f}% of the time; no order of "
                f"yours was placed by hand" + ("." if not forced else
                                              ", but positions of yours were forced closed."))
    if forced:
        return "You sent no orders; the exchange closed positions of yours (see below)."
    return "You sent no orders, and nothing was forced on you."


GROUP_NAMES = {"crowd_long": "crowd longs", "crowd_short": "crowd shorts",
               "market_makers": "market makers", "arbitrageurs": "arbitrageurs",
               "player": "you"}


def market_lines(s: dict) -> list[str]:
    out = []
    for sym, v in s["symbols"].items():
        out.append(f"{sym}: {v['open']:,} → low {v['low']:,} at {v['low_at']} "
                   f"(−{v['max_drawdown_pct']:.1f}% peak to trough), close {v['close']:,}"
                   + (f"; {v['adl_fills']:,} ADL fills" if v.get("adl_fills") else ""))
    d = s["tracked_depth"]
    fall = d["min_usd"] / d["start_usd"] - 1 if d["start_usd"] else None
    out.append(f"{d['symbol']} depth ±1%: {fmt.usd_short(d['start_usd'])} → "
               f"{fmt.usd_short(d['min_usd'])} at {d['min_at']} ({fmt.pct(fall, digits=0)}).")
    liq = s["liquidations"]
    if liq["count"]:
        share = liq.get("long_share")
        longs = f", {share:.0%} of it long" if share is not None else ""
        out.append(f"Liquidations: {liq['count']:,} positions, "
                   f"{fmt.usd_short(liq['notional_usd'])}{longs}; peak minute "
                   f"{liq['peak_minute']}.")
    for name, f in s["insurance_fund"].items():
        if f.get("exhausted_at"):
            out.append(f"Insurance fund {name}: {fmt.usd_short(f['start_usd'])}, could carry no "
                       f"more from {f['exhausted_at']} (ADL took the rest; its cash was never "
                       f"below {fmt.usd_short(f['min_usd'])}).")
    adl = s["adl"]
    out.append(f"ADL: {adl['count']:,} fills on {adl['accounts']:,} accounts, "
               f"{fmt.usd_short(adl['notional_usd'])}" +
               (f", first at {adl['first_at']}" if adl.get("first_at") else "") +
               (f"; winners gave up {fmt.usd_short(adl['socialized_usd'])} to it."
                if adl.get("socialized_usd") else "."))
    hit = {k: v for k, v in (adl.get("by_group") or {}).items() if v}
    if hit:
        out.append("Who ADL hit: " + ", ".join(f"{GROUP_NAMES.get(k, k)} {v:,}"
                                               for k, v in hit.items()) + ".")
    if s.get("bad_debt_usd"):
        out.append(f"Bad debt left with the exchange: {fmt.usd_short(s['bad_debt_usd'])} (what "
                   f"the insurance funds could not cover).")
    elif adl["count"]:
        out.append("Bad debt left with the exchange: none — what the insurance funds could not "
                   "carry was socialized by ADL.")
    for h in s.get("halts") or []:
        out.append(f"Trading halt: {h['symbol']} {h['from']}–{h['to']}.")
    groups = s.get("groups") or {}
    if groups:
        out.append("PnL by group: " + ", ".join(
            f"{GROUP_NAMES.get(k, k)} {fmt.usd_short(v['pnl_usd'])}" for k, v in groups.items()
            if v["accounts"]) + ".")
    oi = s["open_interest"]
    if oi.get("change_pct") is not None:
        out.append(f"Open interest {fmt.usd_short(oi['start_usd'])} → "
                   f"{fmt.usd_short(oi['end_usd'])} ({fmt.pct(oi['change_pct'] / 100)}).")
    makers = s.get("market_makers") or []
    first_pull: dict[str, str] = {}
    for at, name, state in makers:
        if state == "pulled":
            first_pull.setdefault(name, at)
    pulled = [f"{name} {at}" for name, at in first_pull.items()]
    if pulled:
        out.append("Market makers pulled: " + ", ".join(pulled) + ".")
    return out


def what_if(s: dict, level: str, seed: int, role: str,
            variants: list[dict] = ()) -> tuple[str, str]:
    """One counterfactual worth replaying, chosen from what happened."""
    base = f"crashfloor run {level} --seed {seed}"
    if variants:
        flags = " ".join(f"--variant {v['name']}" for v in variants)
        return ("The same crash under this level's other rules, side by side over five seeds:",
                f"crashfloor compare {level} {flags} --seeds 1-5")
    if role == "maker":
        return ("The same crash with every firm a designated market maker, obliged to keep half "
                "its depth on every venue — does the flow you quote into stay less toxic?",
                f"{base} --role maker --set market_makers.obligated_firms=5")
    if s["adl"]["count"]:
        return ("A BitMEX-sized insurance fund (×20) absorbs the bad debt, so ADL should hardly "
                "fire:", f"{base} --set exchange.fund_multiplier=20")
    if s["liquidations"]["count"]:
        return ("A crowd on lower leverage (at most 20×) leaves fewer liquidations to cascade:",
                f"{base} --set crowd.leverage_max=20")
    return ("A crowd that is 95% long before the headline:", f"{base} --set crowd.long_share=0.95")
