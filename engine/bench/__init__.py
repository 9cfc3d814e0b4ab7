"""``crashfloor bench``: the engine's speed, measured (wall-clock is read here only).

Prints, in one run:

* book operations per second on a seeded 1,000,000-operation mix, through ``OrderBook`` and
  through a plain ``SortedDict``-of-deques book on the same operations, with the ratio;
* the same mix through the public ``Exchange.place`` / ``Exchange.cancel`` path (human units in,
  margin checks included);
* settle-step time (marks, the incremental margin scan, the waterfall) for 10k, 100k and 1M
  accounts holding positions across 4 symbols, with the index moving a tick; the same step with
  the scan rebuilt (every pool valued, its triggers sorted: the first step, and after a load);
  and the ADL lights' refresh for every position
  (``Exchange.refresh_lights``, run when a view looks at them);
* the default level's full headless run: wall time and simulated seconds per wall second;
* with ``--full-scale``: the same crash with 1,600,000 crowd accounts, time and peak memory.
"""

from __future__ import annotations

import gc
import json
import resource
import time
from statistics import median

import numpy as np

from .book import CANCEL, make_stream, run_book_bench


def _timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_public_path(n_ops: int = 1_000_000, seed: int = 7) -> dict:
    """The book stream through ``Exchange.place``/``cancel`` in human units."""
    from ..exchange import Exchange
    from ..instruments import Instrument
    stream = make_stream(n_ops, seed)
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=1_000_000)
    ex.set_index("BTC", 122_000)
    owners = sorted({op[2] for op in stream})
    accounts = {o: ex.open_account(10_000_000_000) for o in owners}
    tif_names = {0: "gtc", 1: "ioc", 2: "fok", 3: "post_only"}
    ops: list[tuple[bool, int, int, str, float | None, float, str]] = []
    for kind, oid, owner, side, price, qty, tif in stream:
        if kind == CANCEL:
            ops.append((False, oid, 0, "", None, 0, ""))
        else:
            human_price = None if price is None else float(price) / 10
            ops.append((True, oid, accounts[owner], "buy" if side > 0 else "sell",
                        human_price, qty / 1000, "gtc" if price is None else tif_names[int(tif)]))
    ids: dict[int, int] = {}
    errors = 0

    def replay():
        nonlocal errors
        place, cancel = ex.place, ex.cancel
        for is_submit, oid, account, side, price, qty, tif in ops:
            try:
                if is_submit:
                    ids[oid] = place(account, "BTC", side, qty, price, tif)
                else:
                    cancel(ids.get(oid, -1))
            except ValueError:      # a post-only that would cross, a FOK that cannot fill
                errors += 1
            except LookupError:     # cancelling an order that already filled: a no-op
                pass
    gc.freeze()
    gc.disable()
    try:
        seconds = _timed(replay)
    finally:
        gc.enable()
        gc.unfreeze()
    return {"ops": n_ops, "ops_per_s": round(n_ops / seconds), "seconds": round(seconds, 2),
            "rejected": errors, "conserved": ex.total_money() == ex.net_deposits}


def bench_settle(n_accounts: int, repeats: int = 5, seed: int = 3) -> dict:
    """Median time of ``Exchange.settle`` with ``n_accounts`` holding one position each, spread
    over 4 symbols (87% long by count), with the index moving a little every step."""
    from ..exchange import Exchange
    from ..instruments import Instrument
    rng = np.random.default_rng(seed)
    syms = ["BTC", "ETH", "DOGE", "ALT"]
    prices = [1_220_000, 435_000, 25_000, 30_000]
    ex = Exchange([Instrument.preset(s) for s in syms], insurance_fund=10_000_000,
                  capacity=n_accounts + 16)
    for s, p in enumerate(prices):
        ex.set_index_ticks(s, p)
    ids = np.asarray(ex.open_accounts(np.full(n_accounts, 100_000 * 1_000_000, np.int64)))
    sym = rng.integers(0, 4, n_accounts)
    for s in range(4):
        acc = ids[sym == s]
        lots = rng.integers(1, 50, len(acc)) * np.where(rng.random(len(acc)) < 0.87, 1, -1)
        lots[-1] -= lots.sum()
        if lots[-1] == 0:
            lots[-1] = 1
            lots[0] -= 1
        ex.seed_positions(s, acc, lots, np.full(len(acc), prices[s]))
    ex.settle()
    times, rebuild, lights = [], [], []
    for k in range(repeats):
        for s, p in enumerate(prices):
            ex.set_index_ticks(s, p + (k % 3) - 1)
        times.append(_timed(ex.settle))
        lights.append(_timed(ex.refresh_lights))
        ex.scan.reset()  # the same step, the scan rebuilt: every pool valued
        rebuild.append(_timed(ex.settle))
    return {"accounts": n_accounts, "positions": int((ex.acc.qty[:, :ex.acc.n] != 0).sum()),
            "settle_ms": round(median(times) * 1000, 2),
            "scan_rebuild_ms": round(median(rebuild) * 1000, 2),
            "lights_ms": round(median(lights) * 1000, 2)}


def bench_level(level_name: str = "1011", crowd_accounts: int | None = None,
                until: str | None = None) -> dict:
    """The level's headless run (to ``until``, HKT, or the end): wall seconds and sim-seconds
    per wall-second."""
    from pathlib import Path

    from ..crash import CrashRun
    from ..level import find_level, load_level
    levels = Path(__file__).resolve().parents[2] / "levels"  # engine/bench/ -> the repository
    overrides = [] if crowd_accounts is None else [f"crowd.accounts={crowd_accounts}"]
    level = load_level(find_level(level_name, levels), overrides)
    build_start = time.perf_counter()
    run = CrashRun(level)
    build = time.perf_counter() - build_start
    seconds = _timed(lambda: run.run(until=until))
    return {"level": level_name, "crowd_accounts": level.data["crowd"]["accounts"],
            "build_s": round(build, 2), "run_s": round(seconds, 2),
            "sim_seconds_per_wall_second": round(run.sim.t / seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "checksum": run.checksum()}


def run_all(quick: bool = False, full_scale: bool = False) -> dict:
    n = 100_000 if quick else 1_000_000
    out = {"book": run_book_bench(n), "public_path": bench_public_path(n),
           "settle": [bench_settle(k) for k in ((10_000, 100_000) if quick
                                               else (10_000, 100_000, 1_000_000))]}
    # --quick: a smoke test of the figures, 30 sim-minutes with 2,000 crowd accounts
    out["level"] = bench_level(crowd_accounts=2_000, until="04:30") if quick else bench_level()
    if full_scale:
        out["full_scale"] = bench_level(crowd_accounts=1_600_000)
    return out


def main(json_out: bool = False, quick: bool = False, full_scale: bool = False) -> int:
    results = run_all(quick, full_scale)
    if json_out:
        print(json.dumps(results))
    else:
        print_results(results)
    return 0


def print_results(results: dict) -> None:
    """The text report of ``run_all``'s results (keys it does not know are left to the caller)."""
    b, p = results["book"], results["public_path"]
    print(f"book: {b['book_ops_per_s']:,.0f} ops/s; SortedDict book: "
          f"{b['sorteddict_ops_per_s'] or 0:,.0f} ops/s; ratio {b['ratio'] or 0:.2f}x "
          f"({b['ops']:,} ops, identical: {b['identical']})")
    print(f"public Exchange.place/cancel path: {p['ops_per_s']:,} ops/s "
          f"(money conserved: {p['conserved']})")
    for s in results["settle"]:
        print(f"settle: {s['settle_ms']} ms at {s['accounts']:,} accounts "
              f"({s['positions']:,} positions); rebuilding the scan: "
              f"{s['scan_rebuild_ms']} ms; ADL lights refresh: {s['lights_ms']} ms")
    for key in ("level", "full_scale"):
        if key in results:
            lv = results[key]
            print(f"{key}: {lv['level']} with {lv['crowd_accounts']:,} crowd accounts: "
                  f"{lv['run_s']} s ({lv['sim_seconds_per_wall_second']} sim-s per s), "
                  f"build {lv['build_s']} s, peak RSS {lv['peak_rss_mb']} MB")
