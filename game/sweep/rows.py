"""One sweep row: what one (variant, seed) run measured, flattened into named columns.

``run_row`` and ``no_adl_row`` are plain functions of plain arguments, so a process pool and a
Dask cluster run them alike; a row holds nothing that differs between machines or runs (no wall
time, no host), so the same sweep gives the same rows wherever it runs.
"""

from __future__ import annotations

import json

COLUMNS: list[tuple[str, str]] = [
    ("level", "string"), ("level_sha256", "string"), ("engine_build", "string"),
    ("variant", "string"), ("overrides", "string"), ("seed", "int64"), ("checksum", "string"),
    ("liquidated_usd", "float64"), ("liquidated_accounts", "float64"),
    ("adl_count", "float64"), ("adl_usd", "float64"), ("socialized_usd", "float64"),
    ("bad_debt_usd", "float64"), ("fund_end_usd", "float64"),
    ("pnl_crowd_long_usd", "float64"), ("pnl_crowd_short_usd", "float64"),
    ("pnl_market_makers_usd", "float64"), ("pnl_player_usd", "float64"), ("halts", "float64"),
    ("max_drawdown_pct", "float64"),
    ("adl_taken_usd", "float64"), ("adl_taken_vs_mark_usd", "float64"),
    ("adl_needed_usd", "float64"), ("adl_overshoot_usd", "float64"),
    ("adl_needed_lower_bound", "bool"),
    ("adl_max_share", "float64"), ("adl_hhi", "float64"), ("adl_gini", "float64"),
    ("adl_accounts_hit", "float64"), ("adl_profitable_share", "float64"),
    ("adl_median_leverage", "float64"), ("adl_reopened_1m", "float64"),
    ("adl_waves", "float64"), ("adl_waves_json", "string"), ("symbols_json", "string"),
]
"""Every column of a sweep row, in order, with its Arrow type. ``max_drawdown_pct`` is the
largest drawdown over the level's symbols (each symbol's is in ``symbols_json``)."""

METRIC_COLUMNS = [name for name, kind in COLUMNS if kind == "float64"]
"""The columns a report summarises."""

_RESEARCH = {"adl_taken_usd": "taken_usd", "adl_taken_vs_mark_usd": "taken_vs_mark_usd",
             "adl_needed_usd": "needed_usd", "adl_overshoot_usd": "overshoot_usd",
             "adl_max_share": "max_share", "adl_hhi": "hhi", "adl_gini": "gini",
             "adl_accounts_hit": "accounts_hit", "adl_profitable_share": "profitable_share",
             "adl_median_leverage": "median_leverage", "adl_reopened_1m": "reopened_1m"}


def no_adl_row(level_path: str, overrides: tuple[str, ...], seed: int) -> tuple:
    """The no-ADL pass of (level, overrides, seed) (``engine.adl_research.no_adl_pass``)."""
    from engine.adl_research import no_adl_pass
    from engine.level import load_level
    return no_adl_pass(load_level(level_path, list(overrides)), seed)


def run_row(level_path: str, identity: dict, overrides: tuple[str, ...], seed: int,
            passed: tuple | None = None) -> dict:
    """Run one (variant, seed) and return its row; ``passed``: its no-ADL pass, or None for a
    row without the needed budget. ``identity``: level, level_sha256, engine_build, variant."""
    from engine.adl_research import measure_needed
    from engine.crash import CrashRun
    from engine.level import load_level
    run = CrashRun(load_level(level_path, list(overrides)), seed=seed)
    run.run()
    if passed is not None:
        measure_needed(run, passed)
    summary = run.summary()
    return row_of(summary, identity, overrides, seed)


def row_of(summary: dict, identity: dict, overrides: tuple[str, ...], seed: int) -> dict:
    """A row from a run's summary (``crashfloor run --json``)."""
    from engine.compare import metrics_of
    metrics = metrics_of(summary)
    research = summary["adl"].get("research") or {}
    row: dict = {**identity, "overrides": json.dumps(list(overrides)), "seed": seed,
                 "checksum": metrics.pop("checksum")}
    drawdowns = {k.removeprefix("max_drawdown_").removesuffix("_pct"): v
                 for k, v in metrics.items() if k.startswith("max_drawdown_")}
    for name, _kind in COLUMNS:
        if name in row:
            continue
        if name in metrics:
            row[name] = _num(metrics[name])
        elif name in _RESEARCH:
            row[name] = _num(research.get(_RESEARCH[name]))
    row["max_drawdown_pct"] = max(drawdowns.values()) if drawdowns else None
    row["adl_needed_lower_bound"] = bool(research.get("needed_lower_bound", False))
    waves = research.get("waves", [])
    row["adl_waves"] = float(len(waves))
    row["adl_waves_json"] = json.dumps(waves, sort_keys=True)
    row["symbols_json"] = json.dumps(drawdowns)  # the level's symbol order
    return {name: row.get(name) for name, _ in COLUMNS}


def metrics_of_row(row: dict) -> dict:
    """A row's figures as ``engine.compare.metrics_of`` gives them (``crashfloor compare``)."""
    from engine.compare import METRICS
    out = {key: row[key] for key, _, _ in METRICS}
    for symbol, value in json.loads(row["symbols_json"]).items():
        out[f"max_drawdown_{symbol}_pct"] = value
    out["checksum"] = row["checksum"]
    return out


def _num(value) -> float | None:
    return None if value is None else float(value)
