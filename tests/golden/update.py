"""Regenerate tests/golden/1011_outcomes.json after a deliberate change: python -m tests.golden.update"""

import json
from concurrent.futures import ProcessPoolExecutor

from .measure import run_summary
from .test_calibration import GOLDEN, SEEDS, key_figures

if __name__ == "__main__":
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(run_summary, [(seed, []) for seed in SEEDS]))
    GOLDEN.write_text(json.dumps({str(seed): key_figures(s) for seed, s in zip(SEEDS, results, strict=False)},
                                 indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
