"""Objectives, scoring and lesson checks: what a level asks of the player, measured after a run.

A level lists ``[[objectives]]``, each naming a *metric* from the vocabulary below and a target:
``at_least`` or ``at_most`` for a number, ``is`` (default true) for a yes/no metric, plus a
``weight``. Each objective earns a credit from 0 to 1:

* yes/no — 1 when the metric is what the objective asks, else 0;
* ``at_least X`` — 1 when the value reaches X, else value / X (0 when negative or X ≤ 0);
* ``at_most Y`` — 1 when the value is at most Y, else Y / value (0 when Y ≤ 0).

The score is 100 × Σ weight × credit / Σ weight, rounded; stars are how many of the level's
``scoring.stars`` thresholds the score reaches (0–3); ``par`` is the facilitator's expected score.
``[[lesson_checks]]`` use the same vocabulary without weights: the debrief says the lesson
"showed up" when all of them hold.

Every metric is read from the run's summary (``CrashRun.summary()``), so a score can be recomputed
from a ``crashfloor run --json`` file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str          # "bool" or "number"
    unit: str          # "usd", "pct", "count", ""
    doc: str
    read: Callable[[dict], Any]


def _player(key: str, default: Any = None) -> Callable[[dict], Any]:
    return lambda s: (s.get("player") or {}).get(key, default)


def _maker(key: str) -> Callable[[dict], Any]:
    return lambda s: ((s.get("player") or {}).get("maker") or {}).get(key)


def _funds_end(s: dict) -> float:
    return round(sum(f["end_usd"] for f in s["insurance_fund"].values()), 2)


def _fund_used(s: dict) -> float:
    start = sum(f["start_usd"] for f in s["insurance_fund"].values())
    low = sum(f["min_usd"] for f in s["insurance_fund"].values())
    return round(100 * (start - low) / start, 2) if start else 0.0


def _depth_min_pct(s: dict) -> float:
    d = s["tracked_depth"]
    return round(100 * d["min_usd"] / d["start_usd"], 2) if d["start_usd"] else 0.0


_LIST = [
    Metric("survived", "bool", "", "the player's account was never liquidated",
           _player("survived")),
    Metric("not_adld", "bool", "", "no position of the player's was auto-deleveraged",
           lambda s: (s.get("player") or {}).get("adl_hits", 0) == 0 if s.get("player") else None),
    Metric("adl_hits", "number", "count", "the player's positions closed by ADL (fills)",
           _player("adl_hits")),
    Metric("end_equity_usd", "number", "usd", "the player's equity at the end, USD",
           _player("equity_end")),
    Metric("pnl_usd", "number", "usd", "the player's equity change over the session, USD",
           _player("pnl_usd")),
    Metric("pnl_pct", "number", "pct", "the player's equity change, % of the starting equity",
           _player("pnl_pct")),
    Metric("max_drawdown_pct", "number", "pct", "the player's worst fall of equity from its "
           "running peak, %", _player("max_drawdown_pct")),
    Metric("quoting_uptime_pct", "number", "pct", "maker: share of the session quoting both "
           "sides within ±1% of the mark, %", _maker("uptime_pct")),
    Metric("obligations_met", "bool", "", "maker: the level's quoting obligations were met over "
           "the session (uptime at the obligated spread and depth)", _maker("obligations_met")),
    Metric("spread_earned_usd", "number", "usd", "maker: spread captured on fills, USD",
           _maker("spread_earned_usd")),
    Metric("rebates_usd", "number", "usd", "maker: fee rebates received, USD",
           _maker("rebates_usd")),
    Metric("inventory_pnl_usd", "number", "usd", "maker: PnL apart from spread, rebates and "
           "penalties — what holding inventory through the move made or lost, USD",
           _maker("inventory_pnl_usd")),
    Metric("liquidated_usd", "number", "usd", "market: notional liquidated, USD",
           lambda s: s["liquidations"]["notional_usd"]),
    Metric("liquidated_accounts", "number", "count", "market: accounts liquidated at least once",
           lambda s: s["liquidations"]["accounts"]),
    Metric("adl_count", "number", "count", "market: ADL fills", lambda s: s["adl"]["count"]),
    Metric("adl_usd", "number", "usd", "market: notional closed by ADL, USD",
           lambda s: s["adl"]["notional_usd"]),
    Metric("socialized_loss_usd", "number", "usd", "market: what ADL'd traders gave up (mark − "
           "bankruptcy price), or what every open position paid of a socialized loss (Drift), "
           "USD", lambda s: s["adl"]["socialized_usd"]),
    Metric("bad_debt_usd", "number", "usd", "market: what the exchange is owed and will not be "
           "paid at the end, USD: trader deficits the funds could not cover, and a fund's deficit "
           "(only an ADL breaker lets a fund go below zero)", lambda s: s["bad_debt_usd"]),
    Metric("fund_end_usd", "number", "usd", "market: the insurance funds' cash at the end, USD",
           _funds_end),
    Metric("fund_used_pct", "number", "pct", "market: the funds' deepest fall from the start, %",
           _fund_used),
    Metric("depth_min_pct", "number", "pct", "market: the tracked symbol's lowest ±1% depth, % "
           "of the start", _depth_min_pct),
    Metric("halts", "number", "count", "market: trading halts", lambda s: len(s["halts"])),
]
METRICS: dict[str, Metric] = {m.name: m for m in _LIST}
METRIC_NAMES = tuple(METRICS)
DEFAULT_STARS = (40, 70, 90)


def _credit(metric: Metric, value: Any, item: dict) -> tuple[bool, float]:
    if value is None:
        return False, 0.0
    if metric.kind == "bool":
        wanted = True if item.get("is") is None else item["is"]
        met = bool(value) == wanted
        return met, 1.0 if met else 0.0
    if item.get("at_least") is not None:
        target = item["at_least"]
        if value >= target:
            return True, 1.0
        return False, max(0.0, value / target) if target > 0 else 0.0
    target = item["at_most"]
    if value <= target:
        return True, 1.0
    return False, target / value if target > 0 else 0.0


def _target_text(metric: Metric, item: dict) -> str:
    if metric.kind == "bool":
        return "yes" if item.get("is") in (None, True) else "no"
    if item.get("at_least") is not None:
        return f"≥ {_fmt(metric, item['at_least'])}"
    return f"≤ {_fmt(metric, item['at_most'])}"


def _fmt(metric: Metric, value: Any) -> str:
    if value is None:
        return "—"
    if metric.kind == "bool":
        return "yes" if value else "no"
    if metric.unit == "usd":
        return f"{'−' if value < 0 else ''}${abs(value):,.0f}"
    if metric.unit == "pct":
        return f"{value:.1f}%"
    return f"{value:g}" if isinstance(value, float) else f"{value:,}"


def describe(item: dict) -> str:
    """A label for an objective: its own, or one made from the metric and the target."""
    metric = METRICS[item["metric"]]
    return item.get("label") or f"{metric.doc} {_target_text(metric, item)}"


def evaluate(items: list[dict], summary: dict) -> list[dict]:
    """Each objective (or lesson check) with its measured value, whether it was met and its
    credit."""
    out = []
    for item in items:
        metric = METRICS[item["metric"]]
        value = metric.read(summary)
        met, credit = _credit(metric, value, item)
        out.append({"metric": metric.name, "label": describe(item),
                    "target": _target_text(metric, item), "value": value,
                    "value_text": _fmt(metric, value), "met": met,
                    "credit": round(credit, 4), "weight": item.get("weight", 1.0)})
    return out


def score(level_data: dict, summary: dict) -> dict:
    """The ``objectives`` block of ``run --json``: every objective, the score, the stars, par and
    the lesson checks."""
    items = evaluate(level_data.get("objectives", []), summary)
    total = sum(i["weight"] for i in items)
    points = round(100 * sum(i["weight"] * i["credit"] for i in items) / total) if total else None
    scoring = level_data.get("scoring", {})
    stars_at = [scoring.get(k, d) for k, d in zip(("star1", "star2", "star3"), DEFAULT_STARS, strict=False)]
    stars = None if points is None else sum(points >= t for t in stars_at)
    checks = evaluate(level_data.get("lesson_checks", []), summary)
    return {"items": items, "score": points, "stars": stars, "stars_at": stars_at,
            "par": scoring.get("par"), "lesson": level_data.get("lesson", ""),
            "lesson_checks": checks,
            "lesson_showed": all(c["met"] for c in checks) if checks else None}
