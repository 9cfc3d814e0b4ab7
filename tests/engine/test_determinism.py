"""Same inputs and seed → same checksum: 3 seeds × 2 runs, also across PYTHONHASHSEED values."""

import os
import subprocess
import sys
from pathlib import Path

from .test_exchange_soak import soak

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ("from tests.engine.test_exchange_soak import soak\n"
          "print(' '.join(soak(p, s, 300)[1].checksum() for s in (1, 2, 3) "
          "for p in ('article', 'dydx')))")


def test_same_seed_same_checksum_and_different_seeds_differ():
    sums = {seed: [soak("article", seed, 300)[1].checksum() for _ in range(2)] for seed in (1, 2, 3)}
    for seed, (first, second) in sums.items():
        assert first == second, f"seed {seed} is not deterministic"
    assert len({v[0] for v in sums.values()}) == 3


def test_checksums_do_not_depend_on_hash_seed():
    outputs = []
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                             cwd=ROOT, env=env, check=True)
        outputs.append(run.stdout.split())
    assert len(outputs[0]) == 6
    assert outputs[0] == outputs[1]
