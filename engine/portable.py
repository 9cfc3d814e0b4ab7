"""Float sums and elementwise exp, log, log1p, expm1 and power that give the same bits on every
machine.

numpy's own ``np.exp``, ``np.log``, ``np.log1p``, ``np.expm1`` and float ``**`` on arrays pick a
SIMD implementation at run time by CPU (AVX2, AVX-512) and change it between releases: the last
bit of a result differs between machines and numpy versions (seen here: the outside market's
liquidation map, drawn with them, gave seed 1 of the default level one checksum under numpy 2.2,
another under 2.3 and 2.4, and a third on the machine that recorded the goldens before, with the
same trades and the same hedger's outcome: the bits of the map differed). A
checksum that depends on the machine breaks replays and golden outcomes, so the engine takes
these functions from the C library one element at a time (``math``), as the crowd's entries
always did. A float array's ``sum()`` and ``mean()`` are the same kind of hazard: numpy adds
pairwise in blocks whose shape changed in 2.3 (the liquidation map's notionals, 20,000 sizes
divided by their sum, differed in the last bit between numpy 2.2 and 2.4), so the engine sums
floats with ``math.fsum`` (correctly rounded: the same on any machine, in any order), dot
products too (``fsum(a * w)``: BLAS orders and fuses a dot's products by CPU). Sums of
integers are exact and stay numpy's; the basic operations (+, −, ×, ÷, sqrt) are correctly
rounded everywhere and stay vectorized.

The cost is a Python call per element: fine for what the engine needs them for (maps drawn once,
a handful of symbols a second)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def _each(f: Callable[[float], float], a: np.ndarray | list[float]) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    return np.fromiter(map(f, x.ravel().tolist()), dtype=float, count=x.size).reshape(x.shape)


def exp(a: np.ndarray | list[float]) -> np.ndarray:
    return _each(math.exp, a)


def log(a: np.ndarray | list[float]) -> np.ndarray:
    return _each(math.log, a)


def log1p(a: np.ndarray | list[float]) -> np.ndarray:
    return _each(math.log1p, a)


def expm1(a: np.ndarray | list[float]) -> np.ndarray:
    return _each(math.expm1, a)


def power(a: np.ndarray | list[float], exponent: float) -> np.ndarray:
    return _each(lambda x: math.pow(x, exponent), a)


def fsum(a: np.ndarray | list[float]) -> float:
    """The correctly rounded sum of a float array."""
    return math.fsum(np.asarray(a, dtype=float).ravel().tolist())


def mean(a: np.ndarray | list[float]) -> float:
    """``fsum(a) / len``: the mean of a non-empty float array."""
    x = np.asarray(a, dtype=float)
    return fsum(x) / x.size
