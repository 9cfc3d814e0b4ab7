"""The counterfactual compare: one level, the same seeds, under different rules, side by side.

    from engine.compare import Variant, compare
    table = compare("levels/hedge.toml", [Variant.parse("breaker:exchange.adl_breaker_usd_per_min=50000")],
                    seeds=[1, 2, 3])
    table.rows["breaker"]["adl_count"].mean

A variant is a name and a list of ``--set`` overrides; ``NAME`` alone names one of the level's
``[[variants]]``. The baseline (the level as it is) is always the first column. Each (variant,
seed) run is independent and deterministic, so runs go to worker processes in any order and the
table is the same as running them one by one (``workers=1``).
"""

from __future__ import annotations

import math
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from .errors import InvalidInput, LevelError
from .level import load_level
from .text import shorten

BASELINE = "baseline"
_KEY_AHEAD = re.compile(r"\s*[A-Za-z_][\w.\[\]]*\s*=")


def _split(text: str) -> list[str]:
    """Split ``key=value,key=value`` at the commas that start a new key, outside brackets,
    braces and quotes (values may be TOML arrays or inline tables)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0 and _KEY_AHEAD.match(text, i + 1):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True)
class Variant:
    name: str
    overrides: tuple[str, ...] = ()

    @staticmethod
    def parse(text: str) -> Variant:
        """``NAME:key=value[,key=value...]``, or ``NAME`` for a variant the level defines."""
        name, colon, rest = text.partition(":")
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"--variant {text!r}: the name must be 1–32 letters, digits, "
                               f"'_', '-' or '.', then ':key=value,...' (e.g. "
                               f"breaker:exchange.adl_breaker_usd_per_min=50000)")
        if not colon:
            return Variant(name, ())
        parts = [p.strip() for p in _split(rest) if p.strip()]
        if not parts:
            raise InvalidInput(f"--variant {text!r}: no key=value after the ':'")
        for part in parts:
            if "=" not in part:
                raise InvalidInput(f"--variant {text!r}: {part!r} is not key=value")
        return Variant(name, tuple(parts))


# (key, label, how to read it from a summary) — every number in USD unless the label says
def _group(name: str) -> Callable[[dict], float | None]:
    return lambda s: (s.get("groups", {}).get(name) or {}).get("pnl_usd")


METRICS: list[tuple[str, str, Callable[[dict], float | None]]] = [
    ("liquidated_usd", "liquidated notional", lambda s: s["liquidations"]["notional_usd"]),
    ("liquidated_accounts", "liquidated accounts", lambda s: s["liquidations"]["accounts"]),
    ("adl_count", "ADL fills", lambda s: s["adl"]["count"]),
    ("adl_usd", "ADL notional", lambda s: s["adl"]["notional_usd"]),
    ("socialized_usd", "ADL socialized loss", lambda s: s["adl"]["socialized_usd"]),
    ("bad_debt_usd", "bad debt", lambda s: s["bad_debt_usd"]),
    ("fund_end_usd", "insurance funds at end",
     lambda s: round(sum(f["end_usd"] for f in s["insurance_fund"].values()), 2)),
    ("pnl_crowd_long_usd", "PnL crowd long", _group("crowd_long")),
    ("pnl_crowd_short_usd", "PnL crowd short", _group("crowd_short")),
    ("pnl_market_makers_usd", "PnL market makers", _group("market_makers")),
    ("pnl_player_usd", "PnL player", _group("player")),
    ("halts", "trading halts", lambda s: len(s["halts"])),
]


def _drawdown(symbol: str) -> Callable[[dict], float]:
    return lambda s: s["symbols"][symbol]["max_drawdown_pct"]


@dataclass(frozen=True)
class Stat:
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def sd(self) -> float:
        """Sample standard deviation over seeds (0 for one seed)."""
        if len(self.values) < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (len(self.values) - 1))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


@dataclass
class CompareTable:
    level: str
    seeds: list[int]
    variants: list[Variant]
    metrics: list[tuple[str, str]]
    rows: dict[str, dict[str, Stat]] = field(default_factory=dict)
    """variant name → metric key → Stat over the seeds."""
    runs: dict[str, list[dict]] = field(default_factory=dict)
    """variant name → the per-seed metric dicts (seed order)."""

    def to_json(self) -> dict:
        return {"level": self.level, "seeds": self.seeds,
                "variants": [{"name": v.name, "set": list(v.overrides)} for v in self.variants],
                "metrics": [{"key": k, "label": lab} for k, lab in self.metrics],
                "results": {name: {key: {"mean": round(st.mean, 4), "sd": round(st.sd, 4),
                                         "min": st.low, "max": st.high,
                                         "values": list(st.values)}
                                   for key, st in row.items()}
                            for name, row in self.rows.items()}}


def run_metrics(level_path: str, overrides: tuple[str, ...], seed: int) -> dict:
    """One run's comparison figures (what a worker process computes)."""
    from .crash import CrashRun
    run = CrashRun(load_level(level_path, list(overrides)), seed=seed)
    run.run()
    return metrics_of(run.summary())


def metrics_of(summary: dict) -> dict:
    out = {key: read(summary) for key, _, read in METRICS}
    for symbol in summary["symbols"]:
        out[f"max_drawdown_{symbol}_pct"] = _drawdown(symbol)(summary)
    out["checksum"] = summary["checksum"]
    return out


def resolve(level_path: str, variants: list[Variant]) -> list[Variant]:
    """The baseline plus each variant with its overrides (a bare name looked up in the level's
    ``[[variants]]``); every variant's level is loaded once here so that a bad key is reported
    before anything runs."""
    level = load_level(level_path)
    out = [Variant(BASELINE)]
    seen = {BASELINE}
    for v in variants:
        if v.name in seen:
            raise InvalidInput(f"--variant {v.name}: the name is used twice (the baseline is "
                               f"always '{BASELINE}')")
        seen.add(v.name)
        if not v.overrides:
            v = Variant(v.name, tuple(level.variant_overrides(v.name)))
        try:
            load_level(level_path, list(v.overrides))
        except LevelError as exc:
            raise LevelError([f"--variant {v.name}: {p.removeprefix('--set ')}"
                              for p in exc.problems]) from None
        out.append(v)
    return out


def compare(level_path: str | Path, variants: list[Variant], seeds: list[int],
            workers: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> CompareTable:
    """Run every variant (and the baseline) for every seed; ``progress(done, total)``."""
    level_path = str(level_path)
    if not seeds:
        raise InvalidInput("give at least one seed")
    full = resolve(level_path, variants)
    jobs = [(v, seed) for v in full for seed in seeds]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    results: dict[tuple[str, int], dict] = {}
    if workers <= 1:
        for k, (v, seed) in enumerate(jobs):
            results[(v.name, seed)] = run_metrics(level_path, v.overrides, seed)
            if progress:
                progress(k + 1, len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_metrics, level_path, v.overrides, seed): (v.name, seed)
                       for v, seed in jobs}
            for done, future in enumerate(as_completed(futures)):
                results[futures[future]] = future.result()
                if progress:
                    progress(done + 1, len(jobs))
    return table_of(level_path, full, seeds, results)


def table_of(level_path: str, full: list[Variant], seeds: list[int],
             results: dict[tuple[str, int], dict]) -> CompareTable:
    """The table of every (variant name, seed) run's ``metrics_of`` figures."""
    first = results[(BASELINE, seeds[0])]
    keys = [(key, label) for key, label, _ in METRICS] + \
        [(k, f"max drawdown {k.split('_')[2]} %") for k in first if k.startswith("max_drawdown_")]
    table = CompareTable(Path(level_path).stem, list(seeds), full, keys)
    for v in full:
        per_seed = [results[(v.name, seed)] for seed in seeds]
        table.runs[v.name] = per_seed
        table.rows[v.name] = {key: Stat(tuple(r[key] if r[key] is not None else 0.0
                                              for r in per_seed)) for key, _ in keys}
    return table


MAX_SEED = 2**32 - 1
MAX_SEEDS = 1000
"""The most seeds one compare runs."""


def count_seeds(text: str) -> int:
    """How many seeds ``--seeds TEXT`` names, counted without listing them (a range of a
    hundred million is refused at once, not enumerated), or ``InvalidInput``: each seed
    0..4294967295, at most ``MAX_SEEDS`` in all."""
    shown = shorten(text, 60)
    if not isinstance(text, str) or len(text) > 10_000:
        raise InvalidInput(f"--seeds {shown!r}: expected seeds like 1-20 or 1,3,7")
    ranges = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        bounds = (lo, hi) if dash else (lo,)
        if not all(re.fullmatch(r"[0-9]{1,12}", b.strip()) for b in bounds):
            raise InvalidInput(f"--seeds {shown!r}: expected seeds like 1-20 or 1,3,7 (whole "
                               f"numbers from 0 to {MAX_SEED})")
        numbers = [int(b) for b in bounds]
        if any(n > MAX_SEED for n in numbers):
            raise InvalidInput(f"--seeds {shown!r}: a seed is at most {MAX_SEED}")
        if dash and numbers[1] < numbers[0]:
            raise InvalidInput(f"--seeds {shown!r}: the range {shorten(part.strip(), 40)} "
                               f"runs backwards")
        ranges.append((numbers[0], numbers[-1]))
    total, reach = 0, -1  # distinct seeds: the union of the ranges
    for first, last in sorted(ranges):
        if last > reach:
            total += last - max(first, reach + 1) + 1
            reach = last
    if total > MAX_SEEDS:
        raise InvalidInput(f"--seeds {shown!r}: that is {total:,} seeds; compare runs at most "
                           f"{MAX_SEEDS:,}")
    return total


def parse_seeds(text: str) -> list[int]:
    """``"1-20"``, ``"1,3,7"`` or ``"1-5,9"`` → the seeds, in order, without repeats (counted
    first, so a range of a hundred million is refused at once, never listed)."""
    count_seeds(text)
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, dash, hi = part.partition("-")
        try:
            rng = range(int(lo), int(hi) + 1) if dash else [int(part)]
        except ValueError:
            raise InvalidInput(f"--seeds {text!r}: expected seeds like 1-20 or 1,3,7") from None
        for seed in rng:
            if not 0 <= seed <= 2**32 - 1:
                raise InvalidInput(f"--seeds {text!r}: seed {seed} is outside 0..4294967295")
            if seed not in seeds:
                seeds.append(seed)
    if not seeds or len(seeds) > 1000:
        raise InvalidInput(f"--seeds {text!r}: give 1 to 1000 seeds")
    return seeds
