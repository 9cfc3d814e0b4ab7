"""Which margin pools can be below maintenance, without valuing every position every step.

The waterfall needs, every step, the pools (cross accounts and isolated positions) whose equity is
below their maintenance margin. Valuing every position at every step costs a pass over the whole
population; with a million accounts that was most of a step. Instead every healthy pool gets
**trigger prices**: how far each of its marks may move before the pool could possibly be under
water. Only pools whose trigger was crossed, pools that traded or moved money since they were last
valued (``Accounts.touched``) and *hot* pools are valued, exactly; every other pool is provably
healthy.

The bound. A pool valued at marks m⁰ has slack ``B₀ = equity − Σ MM ≥ 0``. When the mark of leg s
moves Δ ticks, the pool's equity moves by exactly ``q·u·Δ`` and the leg's maintenance margin
``MM(|q|·u·m)``, which grows with the price, by at most ``|q|·u·|Δ|·r`` (r, the top bracket's MMR,
is below 1) plus rounding: the ceiling and the integer maintenance amounts at bracket edges, at
most ``C`` units per leg. So a move *for* a position costs the slack at most ``C`` (a long's gain
outgrows its margin; a short's margin shrinks), and a move against it at most ``f·|q|·u·|Δ| + C``,
with ``f = 1`` for a long (its margin shrinks as it loses) and ``f = 1 + r`` for a short. With
``B = B₀ − C·legs`` shared over the legs in proportion to ``f·N`` (N: notional), leg s may move
against its position by ``d_s = ⌊B·m_s / Σ f·N⌋`` ticks (the same percentage for every leg), since
then ``Σ f_s·|q_s|·u_s·d_s ≤ B``. Its trigger is one tick past that: ``m_s − d_s − 1`` for a long
(it fires when the mark is at or below it), ``m_s + d_s + 1`` for a short (at or above). A pool with
``B < 0`` (within rounding of maintenance) and a pool under water are *hot*: valued at every scan
until they are neither (a liquidation touches its pool anyway; a trading halt may keep one waiting).

Storage, per symbol and direction: trigger prices sorted so that the ones that fire are a suffix
(the shorts' stored negated), with each entry's pool key (``account × (S+1) + k``; ``k = S`` is the
cross pool, ``k = s`` the isolated position in s) and generation. Valuing an account bumps the
generation of all its pools, so their older triggers are dropped when they fire or at the next
merge. New triggers wait in an unsorted buffer that every scan checks in full, merged into the
sorted arrays when it outgrows a quarter of them.

Exactness is checked, not hoped for: with ``verify`` on (``CRASHFLOOR_VERIFY_SCAN=1``, set by the
test suite for every test), ``liquidation.run_waterfall`` compares every scan with a full valuation
and raises on any difference.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

import numpy as np

from ..margin import mm_basis, mm_vector

if TYPE_CHECKING:
    from .front import Exchange

_SAFETY = 1.0 - 1e-9
"""Float headroom on ``B·m/ΣN``: its relative error is ~1e-16, so bands never exceed the bound."""
_FAR = 2**61
"""Band cap in ticks (a pool with no leverage would otherwise never fire)."""
_FEW = 24
"""Up to this many accounts a scan values them one at a time (``MarginScan._value_few``)."""
_NONE = -(2**63)
"""``_Triggers.top`` when it holds no trigger: below every threshold."""


class _Triggers:
    """Trigger prices of one symbol and direction: entries fire when ``T ≥ threshold``."""

    __slots__ = ("price", "key", "gen", "new_price", "new_key", "new_gen", "pending",
                 "pending_n", "top")

    def __init__(self) -> None:
        empty = np.zeros(0, dtype=np.int64)
        self.price, self.key, self.gen = empty, empty, empty
        self.new_price, self.new_key, self.new_gen = empty, empty, empty
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        """New triggers not yet joined to the ``new_*`` buffer (joined when one may fire)."""
        self.pending_n = 0
        self.top = _NONE
        """The highest trigger price held (sorted, new and pending), ``_NONE`` when there is
        none: most scans fire nothing, and this says so without touching the arrays."""

    def add(self, price: np.ndarray, key: np.ndarray, gen: np.ndarray) -> None:
        if len(price):
            self.pending.append((price, key, gen))
            self.pending_n += len(price)
            self.top = max(self.top, int(price.max()))

    def _join(self) -> None:
        """The pending triggers into the ``new_*`` buffer."""
        if self.pending:
            prices, keys, gens = zip(*self.pending, strict=True)
            self.new_price = np.concatenate([self.new_price, *prices])
            self.new_key = np.concatenate([self.new_key, *keys])
            self.new_gen = np.concatenate([self.new_gen, *gens])
            self.pending, self.pending_n = [], 0

    def fire(self, threshold: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Remove and return (key, gen) of every entry with price ≥ threshold (None: none)."""
        if self.top < threshold:
            return None
        self._join()
        i = int(np.searchsorted(self.price, threshold, side="left"))
        keys, gens = [self.key[i:]], [self.gen[i:]]
        self.price, self.key, self.gen = self.price[:i], self.key[:i], self.gen[:i]
        hit = self.new_price >= threshold
        if hit.any():
            keys.append(self.new_key[hit])
            gens.append(self.new_gen[hit])
            keep = ~hit
            self.new_price, self.new_key = self.new_price[keep], self.new_key[keep]
            self.new_gen = self.new_gen[keep]
        self._retop()
        return np.concatenate(keys), np.concatenate(gens)

    def _retop(self) -> None:
        top = int(self.price[-1]) if len(self.price) else _NONE
        self.top = max(top, int(self.new_price.max())) if len(self.new_price) else top

    def merge_if_due(self, current_gen: np.ndarray) -> None:
        if len(self.new_price) + self.pending_n <= max(4096, len(self.price) // 4):
            return
        self._join()
        price = np.concatenate([self.price, self.new_price])
        key = np.concatenate([self.key, self.new_key])
        gen = np.concatenate([self.gen, self.new_gen])
        live = current_gen[key] == gen
        price, key, gen = price[live], key[live], gen[live]
        order = np.argsort(price, kind="stable")
        self.price, self.key, self.gen = price[order], key[order], gen[order]
        empty = np.zeros(0, dtype=np.int64)
        self.new_price, self.new_key, self.new_gen = empty, empty, empty
        self._retop()


class MarginScan:
    """The incremental under-water scan of an exchange (derived state: rebuilt, never saved)."""

    def __init__(self, instruments: list):
        self.S = len(instruments)
        self.rounding = [4 + 2 * len(inst.brackets) for inst in instruments]
        """C per leg: the ceiling and the maintenance amounts' integer rounding at bracket edges."""
        self.short_factor = [1.0 + max(b.mmr_ppm for b in inst.brackets) / 1e6
                             for inst in instruments]
        """1 + r: what a move against a short costs per unit of notional."""
        self.columns = (np.array(self.rounding, dtype=np.int64)[:, None],
                        np.array(self.short_factor)[:, None])
        """``rounding`` and ``short_factor`` as columns, for ``_value``'s symbol-by-account
        arrays."""
        self.verify = os.environ.get("CRASHFLOOR_VERIFY_SCAN") == "1"
        """Compare every scan with a full valuation and raise on a difference
        (``liquidation.run_waterfall``); the test suite turns it on with
        ``CRASHFLOOR_VERIFY_SCAN=1``. It reads no state, so results are the same either way."""
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next scan values every pool."""
        self.built = False
        self.triggers = [[_Triggers(), _Triggers()] for _ in range(self.S)]
        self.gen = np.zeros(0, dtype=np.int64)
        self.hot = np.zeros(0, dtype=np.int64)
        self.valued = 0
        """Accounts valued by the last scan (for benchmarks and tests)."""
        self.deficits = np.zeros(0, np.int64)
        """Accounts the last scan found with a wallet below zero and no cross position open:
        deficits for the insurance funds to cover (``liquidation._cover_deficit``)."""

    # --- the scan --------------------------------------------------------------------------------
    def underwater(self, ex: Exchange) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Cross accounts below maintenance (ascending) and (account, symbol) of isolated positions
        below it (sorted), leaving out pools a trading halt freezes: exactly what a full
        valuation finds."""
        acc = ex.acc
        n = acc.n
        K = self.S + 1
        if len(self.gen) < acc.capacity * K:
            grown = np.zeros(acc.capacity * K, dtype=np.int64)
            grown[: len(self.gen)] = self.gen
            self.gen = grown
        touched = np.asarray(acc.touched, dtype=np.int64)
        acc.touched.clear()
        if not self.built:
            ids = np.flatnonzero(~acc.is_fund[:n])
            self.built = True
        else:
            parts = [touched, self.hot // K]
            marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() scans only then
            for s, mark in enumerate(marks):
                for side, threshold in ((0, mark), (1, -mark)):
                    fired = self.triggers[s][side].fire(threshold)
                    if fired is not None and len(fired[0]):
                        key, gen = fired
                        parts.append(key[self.gen[key] == gen] // K)
            ids = np.unique(np.concatenate(parts))
            ids = ids[ids < n]
            ids = ids[~acc.is_fund[ids]]
        self.valued = len(ids)
        value = self._value_few if len(ids) <= _FEW else self._value
        cross, isolated = value(ex, ids)
        for pair in self.triggers:
            for t in pair:
                t.merge_if_due(self.gen)
        return cross, isolated

    def _value(self, ex: Exchange, ids: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Value every pool of accounts ``ids`` (ascending) exactly; set triggers for the healthy
        ones, keep the rest hot; return the ones under water, halts applied."""
        acc, S, K = ex.acc, self.S, self.S + 1
        keys = ids[:, None] * K + np.arange(K, dtype=np.int64)
        self.gen[keys] += 1
        marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() scans only then
        slack_c = self.rounding
        hot: list[np.ndarray] = []
        isolated: list[tuple[int, int]] = []
        halted = [s for s in range(S) if ex.halted(s)]
        # every symbol at once: rows are symbols, columns the accounts
        q = acc.qty[:, ids]
        cost = acc.cost[:, ids]
        value = q * np.array([[marks[s] * inst.unit_per_tick_lot]
                              for s, inst in enumerate(ex.instruments)], dtype=np.int64)
        notional = np.abs(value)
        upnl = value - cost
        open_ = q != 0
        iso = acc.iso[:, ids] & open_
        basis = ex.pools.mm_basis
        mm = np.stack([mm_vector(inst, mm_basis(basis, notional[s], cost[s], iso[s]))
                       for s, inst in enumerate(ex.instruments)]) if S else notional
        cross = open_ & ~iso
        slack_col, short_col = self.columns
        weighted = notional * np.where(q < 0, short_col, 1.0)
        equity = acc.wallet[ids] + np.where(cross, upnl, 0).sum(axis=0)
        mm_sum = np.where(cross, mm, 0).sum(axis=0)
        exposure = np.zeros(len(ids), dtype=np.float64)
        for row in np.where(cross, weighted, 0.0):  # in symbol order: float sums keep it
            exposure += row
        rounding = (cross * slack_col).sum(axis=0)
        if iso.any():
            for s in range(S):
                if not iso[s].any():
                    continue
                rows = np.flatnonzero(iso[s])
                slack = acc.iso_margin[s, ids[rows]] + upnl[s, rows] - mm[s, rows]
                under = slack < 0
                if under.any() and s not in halted:
                    isolated.extend((int(a), s) for a in ids[rows[under]])
                band = slack - slack_c[s]
                ok = band >= 0
                hot.append(ids[rows[~ok]] * K + s)
                r = rows[ok]
                self._set(s, ids[r] * K + s, q[s, r], band[ok], np.full(len(r), marks[s]),
                          weighted[s, r])
        has_cross = exposure > 0
        self.deficits = ids[~has_cross & (acc.wallet[ids] < 0)]
        slack = equity - mm_sum
        under = has_cross & (slack < 0)
        band = slack - rounding
        ok = has_cross & (band >= 0)
        hot.append(ids[has_cross & ~ok] * K + S)
        for s in range(S):
            r = np.flatnonzero(ok & cross[s])
            if len(r):
                self._set(s, ids[r] * K + S, q[s, r], band[r], np.full(len(r), marks[s]),
                          exposure[r])
        under_ids = ids[under]
        if halted and len(under_ids):
            frozen = np.zeros(len(under_ids), dtype=bool)
            for s in halted:
                frozen |= (acc.qty[s, under_ids] != 0) & ~acc.iso[s, under_ids]
            under_ids = under_ids[~frozen]
        self.hot = np.concatenate(hot)
        isolated.sort()
        return under_ids, isolated

    def _value_few(self, ex: Exchange, ids: np.ndarray
                   ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """``_value`` for a handful of accounts, one at a time in Python ints and floats: the
        same operations in the same order, so the same triggers, hot pools and results (most
        scans value a few accounts, where numpy's per-call cost is most of the work)."""
        acc, S, K = ex.acc, self.S, self.S + 1
        marks = cast("list[int]", ex.marks.mark)  # every mark is set: settle() scans only then
        insts = ex.instruments
        scale = [marks[s] * inst.unit_per_tick_lot for s, inst in enumerate(insts)]
        slack_c, short_f, basis = self.rounding, self.short_factor, ex.pools.mm_basis
        halted = [s for s in range(S) if ex.halted(s)]
        q_, c_, iso_, im_, w_ = acc.q, acc.c, acc.isov, acc.im, acc.w
        gen = self.gen
        hot: list[int] = []
        isolated: list[tuple[int, int]] = []
        under_ids: list[int] = []
        deficits: list[int] = []
        adds: dict[tuple[int, int], list[tuple[int, int, int]]] = {}  # (s, side): price, key, gen

        def trigger(s: int, key: int, q: int, band: int, exposure: float) -> None:
            d = int(min(float(band) * marks[s] / exposure * _SAFETY, _FAR))  # as ``_set``
            if q > 0:
                adds.setdefault((s, 0), []).append((marks[s] - d - 1, key, int(gen[key])))
            else:
                adds.setdefault((s, 1), []).append((-(marks[s] + d + 1), key, int(gen[key])))

        cross_hot: list[int] = []
        for a in ids.tolist():
            base = a * K
            gen[base:base + K] += 1
            equity, mm_sum, exposure, rounding = w_[a], 0, 0.0, 0
            legs = []
            for s in range(S):
                q = q_[s, a]
                if not q:
                    continue
                value = q * scale[s]
                notional = abs(value)
                cost = c_[s, a]
                upnl = value - cost
                iso = iso_[s, a]
                on = notional if basis == "mark" or (basis == "entry_isolated" and not iso) \
                    else abs(cost)
                mm = insts[s].maintenance_margin(on)
                weighted = notional * (short_f[s] if q < 0 else 1.0)
                if iso:
                    slack = im_[s, a] + upnl - mm
                    if slack < 0 and s not in halted:
                        isolated.append((a, s))
                    band = slack - slack_c[s]
                    if band >= 0:
                        trigger(s, base + s, q, band, weighted)
                    else:
                        hot.append(base + s)
                else:
                    equity += upnl
                    mm_sum += mm
                    exposure += weighted
                    rounding += slack_c[s]
                    legs.append((s, q))
            if not exposure > 0:
                if w_[a] < 0:
                    deficits.append(a)
                continue
            slack = equity - mm_sum
            band = slack - rounding
            if band >= 0:
                for s, q in legs:
                    trigger(s, base + S, q, band, exposure)
            else:
                cross_hot.append(base + S)
            if slack < 0 and not any(s in halted for s, _ in legs):
                under_ids.append(a)
        for (s, side), rows in sorted(adds.items()):
            price, key, g = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
            self.triggers[s][side].add(price, key, g)
        self.deficits = np.array(deficits, dtype=np.int64)
        self.hot = np.array(hot + cross_hot, dtype=np.int64)
        isolated.sort()
        return np.array(under_ids, dtype=np.int64), isolated

    def _set(self, s: int, keys: np.ndarray, q: np.ndarray, band: np.ndarray, mark: np.ndarray,
             exposure: np.ndarray) -> None:
        """Triggers of leg s for pools ``keys`` with slack ``band`` over the pool's ``Σ f·N``."""
        d = np.minimum(band.astype(np.float64) * mark / exposure * _SAFETY, _FAR)
        d = d.astype(np.int64)
        gen = self.gen[keys]
        long_ = q > 0
        if long_.any():
            self.triggers[s][0].add(mark[long_] - d[long_] - 1, keys[long_], gen[long_])
        short = ~long_
        if short.any():
            self.triggers[s][1].add(-(mark[short] + d[short] + 1), keys[short], gen[short])
