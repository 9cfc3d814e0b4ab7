"""What a sweep's rows show: per variant and metric the distribution over seeds (mean, sd, p5,
p50, p95), the paired difference against the baseline on the same seeds with a bootstrap 95%
interval, and the seeds where a variant did worst (with the command that replays each).

The bootstrap draws from its own ``numpy.random.default_rng(seed)``: the same rows give the same
intervals.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .rows import METRIC_COLUMNS

KEY_METRICS = [
    ("liquidated_usd", "liquidated notional (USD)"),
    ("adl_count", "ADL fills"),
    ("adl_usd", "ADL notional (USD)"),
    ("adl_taken_usd", "ADL profit taken (USD)"),
    ("adl_needed_usd", "ADL budget needed (USD)"),
    ("adl_overshoot_usd", "ADL overshoot (USD)"),
    ("adl_max_share", "largest haircut share"),
    ("adl_hhi", "haircut HHI"),
    ("adl_accounts_hit", "accounts hit by ADL"),
    ("adl_profitable_share", "hit while in profit"),
    ("adl_median_leverage", "median leverage of those hit"),
    ("adl_reopened_1m", "re-opened within a minute"),
    ("bad_debt_usd", "bad debt (USD)"),
    ("pnl_player_usd", "PnL player (USD)"),
    ("max_drawdown_pct", "max drawdown %"),
]
"""The metrics a summary shows, in order, with their labels."""

RESAMPLES = 2_000


def _stats(values: list[float]) -> dict:
    x = np.asarray(values, dtype=np.float64)
    if not x.size:
        return {"n": 0}
    p5, p50, p95 = np.percentile(x, [5, 50, 95]).tolist()
    return {"n": int(x.size), "mean": float(x.mean()),
            "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
            "p5": p5, "p50": p50, "p95": p95, "min": float(x.min()), "max": float(x.max())}


def _paired(diffs: list[float], rng: np.random.Generator) -> dict:
    x = np.asarray(diffs, dtype=np.float64)
    if not x.size:
        return {"n": 0}
    means = x[rng.integers(0, x.size, size=(RESAMPLES, x.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5]).tolist()
    return {"n": int(x.size), "mean": float(x.mean()), "ci95": [low, high]}


def summarize(rows: list[dict], *, baseline: str = "baseline", seed: int = 0,
              worst_metric: str = "adl_overshoot_usd", worst: int = 3) -> dict:
    """The summary of ``rows`` (a sweep's, ``SweepStore.rows``): variants in the order first
    seen, the baseline first."""
    if not rows:
        return {"variants": [], "seeds": 0, "metrics": {}, "worst": {}}
    order: list[str] = []
    for r in rows:
        if r["variant"] not in order:
            order.append(r["variant"])
    if baseline in order:
        order.remove(baseline)
        order.insert(0, baseline)
    by: dict[str, dict[int, dict]] = {v: {} for v in order}
    for r in rows:
        by[r["variant"]][r["seed"]] = r
    rng = np.random.default_rng(seed)
    metrics: dict[str, dict] = {}
    for key in METRIC_COLUMNS:
        per: dict[str, dict] = {}
        for v in order:
            values = [r[key] for r in by[v].values() if _ok(r[key])]
            per[v] = {"dist": _stats(values)}
            if v != baseline and baseline in by:
                diffs = [r[key] - by[baseline][s][key] for s, r in sorted(by[v].items())
                         if s in by[baseline] and _ok(r[key]) and _ok(by[baseline][s][key])]
                per[v]["vs_baseline"] = _paired(diffs, rng)
        metrics[key] = per
    worst_seeds = {}
    for v in order:
        ranked = sorted((r for r in by[v].values() if _ok(r.get(worst_metric))),
                        key=lambda r: (-r[worst_metric], r["seed"]))[:worst]
        worst_seeds[v] = [{"seed": r["seed"], worst_metric: r[worst_metric],
                           "replay": replay_command(r)} for r in ranked]
    return {"level": rows[0]["level"], "variants": order,
            "seeds": len({r["seed"] for r in rows}), "runs": len(rows), "metrics": metrics,
            "worst_metric": worst_metric, "worst": worst_seeds}


def replay_command(row: dict) -> str:
    """The ``crashfloor run`` command that replays the row's run (same level, seed, overrides)."""
    parts = ["crashfloor run", row["level"], f"--seed {row['seed']}",
             *(f"--set {o}" for o in json.loads(row["overrides"])), "--adl-needed --json"]
    return " ".join(parts)


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def fmt(key: str, value: float | None) -> str:
    """A number as the tables show it."""
    if value is None:
        return "—"
    if key.endswith("_usd"):
        if abs(value) >= 1e6:
            return f"{value / 1e6:,.2f}M"
        return f"{value / 1e3:,.1f}k" if abs(value) >= 1e3 else f"{value:,.0f}"
    if key.endswith("_pct"):
        return f"{value:.1f}"
    if key in ("adl_max_share", "adl_hhi", "adl_profitable_share"):
        return f"{value:.3f}"
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
