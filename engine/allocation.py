"""Splitting lots in exact integers: pro rata by size (Drift) and by weight under caps (the
benchmark ADL policies by profit, ``engine.adl``).

``allocate`` is water-filling: each round gives every open position ``⌊left × w ÷ Σw⌋`` up to its
cap and takes the capped out. A pro-rata-by-profit ADL on the default level calls it about 1,400
times a run over about 700 positions and 40 rounds each; on Python ints that took 12 s of a 20 s
run. Here a round is a few numpy operations: the quotient ``left × w ÷ Σw`` (whose product can
pass int64) is taken in floating point, where its error is below 10⁻⁶ while ``left < 2³¹``, and
every quotient within 10⁻⁵ of a whole number is taken again on Python ints, so every floor is the
exact one. ``allocate_loop`` is the one-at-a-time definition (and the path for more lots);
``tests/engine/test_adl_benchmarks.py`` checks both give the same shares.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidInput

FLOAT_EXACT_LOTS = 2 ** 31
"""Below this many lots the floating-point quotient is within 10⁻⁶ of the exact one."""


def pro_rata(sizes: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` lots over positions in proportion to ``sizes``, in exact integers (Drift).

    Each share is first ``floor(total × size / S)`` (``S = sum(sizes)``); the lots left over, fewer
    than the number of positions, go one each to the largest remainders ``total × size mod S``,
    ties to the lower index. Shares sum to ``total`` and none exceeds its size.
    """
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or (sizes.size and sizes.dtype.kind not in "iu"):
        raise InvalidInput(f"sizes must be a 1-D integer array, got shape {sizes.shape} of "
                           f"{sizes.dtype}")
    sizes = sizes.astype(np.int64, copy=False)
    if sizes.size and int(sizes.min()) <= 0:
        raise InvalidInput(f"pro_rata sizes must all be > 0, got {int(sizes.min())}")
    whole = sum(sizes.tolist())  # Python int: no overflow
    total = int(total)
    if not 0 <= total <= whole:
        raise InvalidInput(f"pro_rata total must be in 0..{whole} (the sum of sizes), got {total}")
    if sizes.size == 0:
        return sizes.copy()
    if whole * int(sizes.max()) < 2**63:
        products = sizes * total  # ≤ max(sizes) × whole: fits in int64
        shares, remainders = np.divmod(products, whole)
    else:  # exact Python ints when size × total would overflow int64
        products = sizes.astype(object) * total
        shares, remainders = (products // whole).astype(np.int64), products % whole
    left = total - int(shares.sum())
    if left:
        # A stable sort keeps equal remainders in index order: ties go to the lower index.
        shares[np.argsort(-remainders, kind="stable")[:left]] += 1
    return shares


def allocate(weights: np.ndarray, caps: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` lots in proportion to ``weights`` (≥ 0), none above its ``caps`` (≥ 0),
    in exact integers: shares are floored, the capped are taken out and the rest shared again;
    single lots left over go to the largest weights with room (ties to the lower index). When
    every positive weight is capped, the rest goes pro rata over the room left (``pro_rata``).
    Requires ``total ≤ Σ caps``."""
    w = np.maximum(np.asarray(weights, dtype=np.int64), 0)
    cap = np.maximum(np.asarray(caps, dtype=np.int64), 0)
    total = int(total)
    room_total = sum(cap.tolist())  # Python int: no overflow
    if not 0 <= total <= room_total:
        raise InvalidInput(f"allocate total must be in 0..{room_total} (the sum of caps), "
                           f"got {total}")
    if total >= FLOAT_EXACT_LOTS or sum(w.tolist()) >= 2 ** 62:
        return allocate_loop(w, cap, total)
    shares = np.zeros(len(w), dtype=np.int64)
    left = total
    active = np.flatnonzero((w > 0) & (cap > 0))
    while left and len(active):
        wa = w[active]
        weight = int(wa.sum())
        x = np.minimum(_floor_share(left, wa, weight), cap[active] - shares[active])
        shares[active] += x
        gave = int(x.sum())
        left -= gave
        if left and not gave:  # fewer lots than it takes to give each a whole one
            order = active[np.lexsort((active, -wa))]  # largest weight first, ties lower index
            give = order[:left]
            shares[give] += 1
            left -= len(give)
        active = active[shares[active] < cap[active]]
    if left:
        room = cap - shares
        open_ = np.flatnonzero(room > 0)
        shares[open_] += pro_rata(room[open_], left)
    return shares


def _floor_share(left: int, w: np.ndarray, weight: int) -> np.ndarray:
    """⌊left × w ÷ weight⌋ per entry, exactly (``left < FLOAT_EXACT_LOTS``, 0 ≤ w ≤ weight)."""
    if left * weight < 2 ** 63:  # every product fits in int64
        return left * w // weight
    f = left * (w / weight)
    out = np.floor(f).astype(np.int64)
    near = np.flatnonzero(np.abs(f - np.round(f)) < 1e-5)  # maybe on the wrong side of a whole
    for k, wk in zip(near.tolist(), w[near].tolist(), strict=True):
        out[k] = left * wk // weight
    return out


def allocate_loop(weights: np.ndarray, caps: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` lots in proportion to ``weights`` (≥ 0), none above its ``caps`` (≥ 0),
    on Python ints, one position at a time: ``allocate``'s definition, and its path when the
    lots are too many for its floating-point shortcut."""
    w = [max(0, int(x)) for x in np.asarray(weights).tolist()]
    cap = [max(0, int(x)) for x in np.asarray(caps).tolist()]
    total = int(total)
    if not 0 <= total <= sum(cap):
        raise InvalidInput(f"allocate total must be in 0..{sum(cap)} (the sum of caps), "
                           f"got {total}")
    shares = [0] * len(w)
    left = total
    active = [i for i in range(len(w)) if w[i] > 0 and cap[i] > 0]
    while left and active:
        weight = sum(w[i] for i in active)
        gave = 0
        for i in active:
            x = min(left * w[i] // weight, cap[i] - shares[i])
            shares[i] += x
            gave += x
        left -= gave
        if left and not gave:  # fewer lots than it takes to give each a whole one
            for i in sorted(active, key=lambda i: (-w[i], i)):
                if left and shares[i] < cap[i]:
                    shares[i] += 1
                    left -= 1
        active = [i for i in active if shares[i] < cap[i]]
    out = np.asarray(shares, dtype=np.int64)
    if left:
        room = np.asarray(cap, dtype=np.int64) - out
        open_ = np.flatnonzero(room > 0)
        out[open_] += pro_rata(room[open_], left)
    return out
