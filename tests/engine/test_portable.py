"""The engine's floating point gives the same bits on every machine (engine/portable.py).

A run's checksum must not depend on the CPU or the numpy release: numpy picks SIMD code for
exp/log/pow by CPU and changed how ``sum()`` adds floats in 2.3 (seed 1 of the default level had
one checksum under numpy 2.2, another under 2.4, with the same trades). The engine takes those
from ``engine.portable`` (the C library one element at a time, ``math.fsum``). These tests check
the helpers, and keep numpy's machine-dependent functions out of the engine's source."""

from __future__ import annotations

import ast
import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import portable

ENGINE = Path(__file__).resolve().parents[2] / "engine"

FLOATS = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@given(st.lists(FLOATS, min_size=1, max_size=200), st.randoms(use_true_random=False))
def test_fsum_is_the_correctly_rounded_sum_in_any_order(xs, rnd):
    shuffled = xs[:]
    rnd.shuffle(shuffled)
    assert portable.fsum(np.array(xs)) == portable.fsum(shuffled) == math.fsum(xs)
    assert portable.mean(np.array(xs)) == math.fsum(xs) / len(xs)


def test_fsum_keeps_what_a_running_float_sum_loses():
    # 1e16 + 1 + 1 + ...: each 1 alone is below half a unit in the last place of 1e16
    xs = [1e16] + [1.0] * 1000
    assert portable.fsum(np.array(xs)) == 1e16 + 1000


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "expm1"])
def test_elementwise_functions_are_the_c_library_s(name):
    rng = random.Random(7)
    xs = [rng.uniform(0.01, 5.0) for _ in range(500)]
    got = getattr(portable, name)(np.array(xs).reshape(20, 25))
    assert got.shape == (20, 25)
    assert got.ravel().tolist() == [getattr(math, name)(x) for x in xs]
    assert portable.power(np.array(xs), -0.8).tolist() == [math.pow(x, -0.8) for x in xs]


MACHINE_DEPENDENT = {"exp", "log", "log1p", "expm1", "power", "float_power", "exp2", "log2",
                     "log10", "tanh", "sinh", "cosh", "arctan", "cbrt", "hypot", "logaddexp",
                     "dot", "vdot", "inner", "matmul", "einsum", "tensordot"}


def _engine_sources():
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ENGINE).as_posix()
        if rel == "portable.py" or rel.startswith("bench/"):
            continue
        yield rel, ast.parse(path.read_text(), filename=str(path))


def test_the_engine_calls_no_machine_dependent_numpy_function():
    """Nor a dot product (``@``, ``np.dot``): BLAS sums its products in an order, with or without
    fused multiply-adds, that depends on the CPU."""
    found = []
    for rel, tree in _engine_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "np" and node.attr in MACHINE_DEPENDENT:
                found.append(f"{rel}:{node.lineno} np.{node.attr}")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                found.append(f"{rel}:{node.lineno} @")
    assert not found, f"use engine.portable instead: {found}"


EXACT_SUMS = {
    # where a numpy .sum()/.mean() is not wrapped in int(): integer or boolean arrays (exact), a
    # sequential axis-0 sum over a handful of symbols, or a report figure outside the run's state
    "exchange/scan.py": 3,      # int64 PnL, maintenance and rounding slack (exact)
    "recorder.py": 2,           # counts of booleans (the crowd's long share at the start)
    "saves/checks.py": 3,       # validating a save's magnitudes before loading it
}


def test_float_sums_in_the_engine_go_through_fsum():
    """A numpy ``.sum()`` or ``.mean()`` outside ``int(...)`` is counted per file: a new one must be
    an exact (integer) sum, listed above with why, or ``portable.fsum``/``portable.mean``."""
    counts: dict[str, int] = {}
    for rel, tree in _engine_sources():
        wrapped = {id(arg) for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                   and node.func.id == "int" for arg in node.args}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("sum", "mean") and id(node) not in wrapped \
                    and not (isinstance(node.func.value, ast.Name)
                             and node.func.value.id in ("math", "portable")):
                counts[rel] = counts.get(rel, 0) + 1
    assert counts == EXACT_SUMS
