"""Float sums and elementwise exp, log, log1p, expm1 and power that do not depend on the CPU or
the numpy release.

Seen here: seed 1 of the default level gave one checksum under numpy 2.2.6, another under 2.4.6
(same machine) and a third on the machine that had recorded the goldens, with the same trades and
the same hedger's outcome. The 2.2/2.4 difference was the outside market's liquidation map, whose
20,000 sizes were divided by their float ``sum()``: numpy changed how it adds floats in 2.3. Its
``np.exp``, ``np.log``, ``np.log1p``, ``np.expm1`` and float ``**`` pick SIMD code by CPU at run
time (AVX2, AVX-512), and BLAS orders and fuses a dot product's terms by CPU — the same hazard.
A checksum that depends on the machine breaks replays, golden outcomes and a sweep's rows on a
Dask cluster of mixed machines, so the engine:

* sums floats (and dot products, ``fsum(a * w)``) with ``math.fsum``: correctly rounded, so the
  same in any order on any machine;
* takes exp, log, log1p, expm1 and pow from the C library one element at a time (``math``), as
  the crowd's entries always did: the C library's answer does not change with numpy's release or
  its SIMD dispatch (a different C library could still differ in a last bit; not seen).

Sums of integers are exact and stay numpy's; the basic operations (+, −, ×, ÷, sqrt) are correctly
rounded everywhere and stay vectorized. The cost is a Python call per element: fine for what the
engine needs them for (a map drawn once, a handful of symbols a second).
``tests/engine/test_portable.py`` keeps numpy's machine-dependent functions out of the engine."""

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
