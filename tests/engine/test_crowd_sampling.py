"""The crowd's thinned draw (engine/agents/crowd.py): rows in with chance p each, independently."""

import numpy as np
import pytest

from engine.agents.crowd import _bernoulli_rows


@pytest.mark.parametrize("n,p", [(1_000, 0.01), (50, 0.3), (10_000, 0.0007)])
def test_each_row_is_in_with_its_chance(n, p):
    rng = np.random.default_rng(5)
    trials = 4_000
    counts = np.zeros(n)
    sizes = []
    for _ in range(trials):
        rows = _bernoulli_rows(rng, n, p)
        assert rows.dtype.kind == "i" and np.all(np.diff(rows) > 0)
        assert rows.size == 0 or (rows[0] >= 0 and rows[-1] < n)
        counts[rows] += 1
        sizes.append(len(rows))
    # the count per draw is Binomial(n, p): mean n·p, variance n·p·(1−p)
    assert np.mean(sizes) == pytest.approx(n * p, rel=0.05)
    assert np.var(sizes) == pytest.approx(n * p * (1 - p), rel=0.15)
    # no position is favoured: first, middle and last rows alike
    per_row = counts / trials
    sd = np.sqrt(p * (1 - p) / trials)
    for part in (per_row[: n // 10], per_row[n // 2: n // 2 + n // 10], per_row[-(n // 10):]):
        assert abs(part.mean() - p) < 6 * sd / np.sqrt(len(part))


def test_edges():
    rng = np.random.default_rng(1)
    assert _bernoulli_rows(rng, 0, 0.5).size == 0
    assert _bernoulli_rows(rng, 7, 1.0).tolist() == list(range(7))
