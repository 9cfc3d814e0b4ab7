"""Accounts and positions as a structure of arrays, and the exact position arithmetic.

Columns are accounts, rows are symbols: ``qty[s, a]`` is account ``a``'s position in symbol ``s``
(signed lots). Whole-population work (margin scans, ADL scores) uses the numpy arrays; the per-fill
hot path uses ``memoryview``s of the same buffers, which read and write plain Python ints.

Money bookkeeping (all integers, money units of 1e-6 USD):

* ``wallet[a]``: the cross wallet. ``iso_margin[s, a]``: margin moved into an isolated position.
* ``cost[s, a]``: signed cost basis, ``Σ qty_i × price_i × unit_per_tick_lot`` over the fills that
  opened the position, scaled down in proportion when it is reduced. Average entry = cost / qty.
* Unrealized PnL at mark ``m``: ``qty × m × unit − cost``.
* ``adl_light[s, a]`` and ``adl_score[s, a]``: the position's ADL light (1–5, 0 when flat) and
  score, as of the last ``Exchange.refresh_lights()`` (the views call it).
* ``touched``: ids of accounts whose positions or money changed since the last margin scan
  (``scan.py``); every write to an account's wallet, positions or isolated margin must go through
  ``apply_fill`` or be followed by ``touch``.

Because every fill adds ``q × p × unit`` to the buyer's cost and the same to the seller's with the
other sign, and a reduction moves exactly ``new_cost − (cost + q × p × unit)`` into the margin pool,
``Σ wallet + Σ iso_margin − Σ cost`` (+ the exchange's fee pool) never changes except by deposits
and withdrawals, whatever the rounding of the scaled-down cost. That is the money invariant.
"""

from __future__ import annotations

import numpy as np

from .margin import initial_margin

DEFAULT_LEVERAGE = 20


def fill_result(old_q: int, old_c: int, dq: int, price: int, unit: int) -> tuple[int, int, int]:
    """(new qty, new cost, realized PnL) after a signed fill of ``dq`` lots at ``price``."""
    value = dq * price * unit
    new_q = old_q + dq
    if old_q == 0 or (old_q > 0) == (dq > 0):
        return new_q, old_c + value, 0
    if new_q == 0 or (new_q > 0) == (old_q > 0):
        new_c = old_c * new_q // old_q if new_q else 0
        return new_q, new_c, new_c - (old_c + value)
    # a flip: close the old position at price, open the rest there
    return new_q, new_q * price * unit, old_q * price * unit - old_c


def _view(arr: np.ndarray) -> memoryview:
    """A memoryview of ``arr``'s buffer (items read and written as Python ints or bools)."""
    # numpy's stubs declare ndarray.__buffer__ (the Buffer protocol) only for Python >= 3.12
    return memoryview(arr)  # type: ignore[arg-type]


class Accounts:
    """The account and position arrays for ``n_symbols`` symbols, grown by doubling."""

    _not_state = ("touched",)
    """Derived, not saved (``state.py``): the scan is rebuilt after a load."""

    # The arrays (``_COLUMNS`` and ``_MATRICES``), created by ``_alloc`` with ``setattr``; declared
    # here for type checkers only (annotations without values add no class attributes).
    wallet: np.ndarray
    order_margin: np.ndarray
    is_fund: np.ndarray
    qty: np.ndarray
    cost: np.ndarray
    iso: np.ndarray
    iso_margin: np.ndarray
    leverage: np.ndarray
    adl_light: np.ndarray
    adl_score: np.ndarray
    # The hot path's memoryviews of the same buffers (``_views``): ``q[s, a]`` reads and writes a
    # Python int (``isov`` and ``fund`` a bool).
    w: memoryview
    om: memoryview
    q: memoryview
    c: memoryview
    im: memoryview
    isov: memoryview
    lev: memoryview
    fund: memoryview

    def __init__(self, n_symbols: int, capacity: int = 1024):
        self.n_symbols = n_symbols
        self.n = 0
        self.touched: list[int] = []
        self._alloc(max(16, capacity))

    # --- storage --------------------------------------------------------------------------------
    _COLUMNS = ("wallet", "order_margin", "is_fund")
    _MATRICES = ("qty", "cost", "iso", "iso_margin", "leverage", "adl_light", "adl_score")
    _DTYPES = {"wallet": np.int64, "order_margin": np.int64, "is_fund": np.bool_, "qty": np.int64,
               "cost": np.int64, "iso": np.bool_, "iso_margin": np.int64, "leverage": np.int32,
               "adl_light": np.int8, "adl_score": np.float64}

    def _alloc(self, capacity: int) -> None:
        old: dict[str, np.ndarray | None] = {
            name: getattr(self, name, None) for name in self._COLUMNS + self._MATRICES}
        for name in self._COLUMNS:
            arr: np.ndarray = np.zeros(capacity, dtype=self._DTYPES[name])
            prev = old[name]
            if prev is not None:
                arr[: self.n] = prev[: self.n]
            setattr(self, name, arr)
        for name in self._MATRICES:
            arr = np.zeros((self.n_symbols, capacity), dtype=self._DTYPES[name])
            prev = old[name]
            if prev is not None:
                arr[:, : self.n] = prev[:, : self.n]
            setattr(self, name, arr)
        self.capacity = capacity
        self._views()

    def _views(self) -> None:
        """Memoryviews over the arrays, for fast scalar access on the hot path."""
        self.w = _view(self.wallet)
        self.om = _view(self.order_margin)
        self.q = _view(self.qty)
        self.c = _view(self.cost)
        self.im = _view(self.iso_margin)
        self.isov = _view(self.iso)
        self.lev = _view(self.leverage)
        self.fund = _view(self.is_fund)

    def add(self, count: int, wallet: int | np.ndarray = 0, *, is_fund: bool = False,
            leverage: int = DEFAULT_LEVERAGE) -> range:
        """Append ``count`` accounts; returns their ids."""
        start = self.n
        if start + count > self.capacity:
            cap = self.capacity
            while cap < start + count:
                cap *= 2
            self._alloc(cap)
        end = start + count
        self.wallet[start:end] = wallet
        self.is_fund[start:end] = is_fund
        self.leverage[:, start:end] = leverage
        self.n = end
        return range(start, end)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, trimmed to the live accounts (for checksums and saves)."""
        out = {name: getattr(self, name)[: self.n] for name in self._COLUMNS}
        out.update({name: getattr(self, name)[:, : self.n] for name in self._MATRICES})
        return out

    # --- exact position arithmetic ---------------------------------------------------------------
    def apply_fill(self, a: int, s: int, dq: int, price: int, unit: int, fee: int) -> int:
        """Apply a signed fill of ``dq`` lots at ``price`` ticks to position (s, a), paying ``fee``
        money units (negative = rebate). Returns the realized PnL; both go to the position's pool
        (the isolated margin if the position is isolated, else the cross wallet). The pro-rata
        ADL walk does a reducing fill's arithmetic for many positions at once
        (``exchange/prorata.py``): a change here is a change there
        (``tests/engine/test_prorata_walk.py`` compares the two)."""
        q, c = self.q, self.c
        self.touched.append(a)
        old_q = q[s, a]
        new_q = old_q + dq  # fill_result, inline: this runs twice for every fill
        if old_q == 0 or (old_q > 0) == (dq > 0):
            c[s, a] += dq * price * unit
            realized = 0
        elif new_q == 0 or (new_q > 0) == (old_q > 0):
            old_c = c[s, a]
            new_c = old_c * new_q // old_q if new_q else 0
            realized = new_c - (old_c + dq * price * unit)
            c[s, a] = new_c
        else:  # a flip: close the old position at price, open the rest there
            realized = old_q * price * unit - c[s, a]
            c[s, a] = new_q * price * unit
        q[s, a] = new_q
        if self.isov[s, a]:
            self._isolated_fill(a, s, old_q, new_q, price, unit, realized - fee)
        else:
            self.w[a] += realized - fee
        return realized

    def _isolated_fill(self, a: int, s: int, old_q: int, new_q: int, price: int, unit: int,
                       delta: int) -> None:
        """Book an isolated fill: PnL and fee into the isolated margin; opening fills move initial
        margin in from the wallet. A reduction frees the closed lots' share of the margin with
        their PnL (``delta``): to the wallet when that is above zero, else out of the margin the
        rest keeps — each lot carries its share of the pool, so what stays open is no worse off
        (charging the loss to the whole margin first and then releasing a share of what is left
        would leave a losing rest bankrupt, for the fund to take over, with the cash in the
        wallet). A flip is a close and an open: the old position's margin left (or its shortfall)
        goes to the wallet, and the new one takes its whole initial margin from there.
        ``exchange/prorata.py`` does the same for many ADL fills at once."""
        im, w = self.im, self.w
        if new_q and old_q and (old_q > 0) == (new_q > 0) and abs(new_q) < abs(old_q):
            margin = int(im[s, a])
            keep = margin * abs(new_q) // abs(old_q)
            freed = margin - keep + delta
            if freed >= 0:
                w[a] += freed
                im[s, a] = keep
            else:
                im[s, a] = keep + freed
        else:
            im[s, a] += delta
            flip = old_q != 0 and new_q != 0 and (old_q > 0) != (new_q > 0)
            opened = abs(new_q) if flip else abs(new_q) - abs(old_q)
            if new_q == 0 or flip:  # closed: the margin left (or the shortfall) is the wallet's
                w[a] += im[s, a]
                im[s, a] = 0
            if new_q and opened > 0:
                margin = initial_margin(opened * price * unit, self.lev[s, a])
                w[a] -= margin
                im[s, a] += margin
                if w[a] < 0:
                    # the order's check priced the margin at its reference, not at the fill (a
                    # market order walks past the touch), nor a flip's loss past the old margin:
                    # a wallet that cannot pay opens the position short of margin, rather than
                    # leave a deficit for the funds to cover
                    back = min(-w[a], margin)
                    w[a] += back
                    im[s, a] -= back
        if im[s, a] < 0:
            # a reduction at a loss beyond the isolated margin: the rest stays open on no margin
            # and the shortfall falls to the wallet, as a full close's does; a wallet
            # left below zero with nothing open is a deficit the waterfall covers, and a
            # liquidation pays the wallet back what it lost past bankruptcy (exchange/funds.py)
            w[a] += im[s, a]
            im[s, a] = 0

    def touch(self, a: int) -> None:
        """Note that account ``a``'s money or positions changed outside ``apply_fill``."""
        self.touched.append(a)

    def transfer(self, frm: int, to: int, s: int, lots: int, price: int, unit: int) -> None:
        """Move ``lots`` of ``frm``'s position in ``s`` to ``to`` at ``price``, with no fee: the
        insurance fund's takeover and ADL. ``lots`` is signed from ``frm``'s side (its qty sign)."""
        self.apply_fill(frm, s, -lots, price, unit, 0)
        self.apply_fill(to, s, lots, price, unit, 0)
