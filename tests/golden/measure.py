"""Measure the default level against every fact of crash.md on many seeds, for the README's
calibration table: ``python -m tests.golden.measure --seeds 1-10 [--set KEY=VALUE ...]``.

Per seed: the level's run (F1–F9, F11–F13, F15–F20), the same seed under each causal switch
(C1–C4), and an epilogue to 06:15 (F14); F10 (funds ×20) on the first seed; F18 over all seeds.
Prints one line per fact with every seed's measure (a miss marked ``**``) and the count of misses;
``--json FILE`` keeps the raw results. Runs go to one process per core.
"""

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from engine.compare import parse_seeds
from engine.facts import (CAUSAL_SWITCHES, check_causal, check_f10, check_facts, check_lows,
                          check_recovery, check_structure)

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"


def run_summary(job: tuple[int, list[str]]) -> dict:
    """The summary of one full-size run of the default level: ``(seed, overrides)``."""
    seed, overrides = job
    from engine.crash import CrashRun
    from engine.level import load_level
    run = CrashRun(load_level(LEVEL, overrides), seed=seed)
    run.run()
    return run.summary()


def measure(seeds: list[int], extra: list[str], workers: int) -> dict[str, dict[int, tuple]]:
    """fact name → seed → (ok, measured)."""
    jobs = [(s, extra + v) for s in seeds
            for v in ([], *CAUSAL_SWITCHES.values(), ["clock.epilogue=06:15"])]
    jobs.append((seeds[0], extra + ["exchange.fund_multiplier=20"]))
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(run_summary, jobs))
    per = 2 + len(CAUSAL_SWITCHES)
    table: dict[str, dict[int, tuple]] = {}
    bases = []
    for i, seed in enumerate(seeds):
        base, *causal, epilogue = results[i * per:(i + 1) * per]
        bases.append(base)
        facts = {**check_facts(base), **check_structure(base),
                 **check_causal(base, dict(zip(CAUSAL_SWITCHES, causal, strict=True))),
                 "F14 the return (epilogue to 06:15)": check_recovery(epilogue)}
        for name, result in facts.items():
            table.setdefault(name, {})[seed] = result
    table["F10 funds ×20: ADL fills fall ≥ 90%"] = {seeds[0]: check_f10(bases[0], results[-1])}
    table["F18 lows on one resting order ≤ 3 seeds"] = {0: check_lows(bases)}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    table = measure(parse_seeds(args.seeds), args.overrides, args.workers)
    misses = 0
    for name in sorted(table, key=lambda n: int(n.split()[0][1:]) + (100 if n[0] == "C" else 0)):
        cells = []
        for seed, (ok, measured) in table[name].items():
            misses += not ok
            cells.append(f"{'' if ok else '**'}{seed}: {measured}{'' if ok else '**'}")
        held = sum(ok for ok, _ in table[name].values())
        print(f"{name} [{held}/{len(table[name])}]\n    " + "\n    ".join(cells))
    print(f"misses: {misses}")
    if args.json:
        args.json.write_text(json.dumps(
            {name: {str(s): r for s, r in row.items()} for name, row in table.items()},
            indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
