"""ADL measured the way the research measures it (Chitra, "Autodeleveraging: Impossibilities and
Optimization", arXiv 2512.01112, and "Autodeleveraging as Online Learning", arXiv 2602.15182):
ADL haircuts the *profit* of winning traders — their unrealized PnL on the positions it closes,
not their collateral — to cover a shortfall, and a policy is judged by how much it takes beyond
what was needed, and how it spreads it.

Per run and per wave (a wave: ADL fills no more than ``WAVE_GAP`` seconds apart):

* ``taken_usd`` — Σ over ADL fills of the counterparty's unrealized PnL at the mark on the lots
  closed (its profit taken away; a loss counts as zero);
* ``taken_vs_mark_usd`` — what the closes cost the counterparties against the mark (|mark −
  price| × lots): the part of the shortfall paid at a bankruptcy price; about zero where ADL
  closes at the mark (OKX, Hyperliquid);
* ``needed_usd`` — the budget that was needed: what the insurance funds lose beyond their own
  budget in the same run with funds large enough that ADL never fires (``needed_budget``), only
  when that pass was made; per wave, what that need grew by over the wave (a need that grows
  outside every wave is in the run's figure only: the waves' needs add up to at most it);
* ``overshoot_usd`` — taken − needed (per run and per wave);
* ``max_share`` — the largest single account's haircut ÷ the total; ``hhi`` — Σ share² over the
  accounts hit (1 = one account took it all); ``gini`` — of the haircuts over the accounts hit;
* ``accounts_hit``, ``profitable_share`` (hit while in profit on the closed lots),
  ``median_leverage`` (their positions' effective leverage just before the close),
  ``reopened_1m`` (accounts whose position was closed entirely and that hold one in the same
  contract again within 60 s).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import portable
from .units import MONEY_PER_USD
from .events import quick_init

WAVE_GAP = 60
"""Seconds without an ADL fill that end a wave."""

REOPEN_WINDOW = 60


@dataclass(frozen=True, slots=True)
class Haircut:
    """One ADL fill as the research sees it (money units): ``AdlLedger`` keeps these fields as
    its columns."""
    t: int
    symbol: int
    account: int
    lots: int
    pnl: int
    vs_mark: int
    leverage: float
    closed_all: bool


quick_init(Haircut)


def concentration(amounts: list[int]) -> tuple[float, float, float]:
    """(largest share, Herfindahl–Hirschman index, Gini coefficient) of non-negative amounts
    (per account); (0, 0, 0) when they add up to nothing."""
    x = np.asarray(amounts, dtype=np.float64)
    total = portable.fsum(x)  # the same bits on every machine of a Dask cluster
    if total <= 0:
        return 0.0, 0.0, 0.0
    share = x / total
    s = np.sort(x)
    n = len(s)
    gini = portable.fsum((2 * np.arange(1, n + 1) - n - 1) * s) / (n * total) if n > 1 else 0.0
    return float(share.max()), portable.fsum(share * share), gini


def fill_columns(fills: list) -> dict[str, np.ndarray]:
    """The fields of ``AdlFill`` events that the research and the recorder read, as columns
    (``account`` is the counterparty, ``lots`` the quantity), in one pass over the events."""
    account, lots, price, mark, pnl, leverage = zip(
        *[(e.counterparty, e.qty, e.price, e.mark, e.pnl, e.leverage) for e in fills],
        strict=True)
    return {"account": np.array(account, dtype=np.int64), "lots": np.array(lots, dtype=np.int64),
            "price": np.array(price, dtype=np.int64), "mark": np.array(mark, dtype=np.int64),
            "pnl": np.array(pnl, dtype=np.int64), "leverage": np.array(leverage, dtype=np.float64)}


class AdlLedger:
    """Collects the haircuts of a run (``add`` per ``AdlFill``, ``add_many`` per step's fills)
    and watches re-opens (``step`` after every step). The haircuts are kept as columns: a run
    under a pro-rata policy makes about a million."""

    _COLUMNS = tuple(f.name for f in fields(Haircut))

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, ...]] = []
        """Per ``add_many``: the ``_COLUMNS`` of its haircuts, in the order they happened."""
        self.watch: dict[tuple[int, int], int] = {}
        """(account, symbol) closed entirely by ADL → when."""
        self.reopened: set[int] = set()

    def add(self, e, t: int, s: int, unit: int, left: int) -> None:
        """An ``AdlFill`` ``e`` in symbol s at time t; ``left``: the counterparty's lots after."""
        self.add_many(t, fill_columns([e]), np.array([s]), np.array([unit]), np.array([left]))

    def add_many(self, t: int, fills: dict[str, np.ndarray], symbol: np.ndarray,
                 unit: np.ndarray, left: np.ndarray) -> None:
        """ADL fills at time t, in order (``fill_columns``); per fill its symbol's index and
        unit and the counterparty's lots after."""
        if not len(symbol):
            return
        lots, price, mark = fills["lots"], fills["price"], fills["mark"]
        vs_mark = np.where(mark != 0, np.abs(mark - price) * lots * unit, 0)
        closed = left == 0
        account = fills["account"]
        self.chunks.append((np.full(len(symbol), t, dtype=np.int64), symbol.astype(np.int64),
                            account, lots, fills["pnl"], vs_mark.astype(np.int64),
                            fills["leverage"], closed))
        for c, s in zip(account[closed].tolist(), symbol[closed].tolist(), strict=True):
            self.watch[(c, s)] = t

    def columns(self) -> dict[str, np.ndarray]:
        """Every haircut so far, column by column."""
        if not self.chunks:
            return {name: np.zeros(0, dtype=np.float64 if name == "leverage" else np.int64)
                    for name in self._COLUMNS}
        if len(self.chunks) > 1:
            self.chunks = [tuple(np.concatenate(col) for col in zip(*self.chunks, strict=True))]
        return dict(zip(self._COLUMNS, self.chunks[0], strict=True))

    def step(self, qty: np.ndarray, t: int) -> None:
        """Re-opens within ``REOPEN_WINDOW`` of a full close (``qty``: the [symbols, accounts]
        position array)."""
        if not self.watch:
            return
        for (a, s), at in list(self.watch.items()):
            if t - at > REOPEN_WINDOW:
                del self.watch[(a, s)]
            elif t > at and qty[s, a] != 0:
                self.reopened.add(a)
                del self.watch[(a, s)]

    def measure(self, needed: int | None = None,
                series: list[tuple[int, int]] | None = None) -> dict:
        """The run's figures (USD), its waves, and — given ``needed`` (money units) — the
        overshoot; given ``series`` ((clock, budget needed up to then), ``needed_series``),
        each wave's need: what the need grew by from the second before the wave to its end."""
        cols = self.columns()
        out = _figures(cols)
        out["reopened_1m"] = len(self.reopened)
        out["needed_usd"] = None if needed is None else round(needed / MONEY_PER_USD, 2)
        out["overshoot_usd"] = None if needed is None else \
            round((_taken(cols) - needed) / MONEY_PER_USD, 2)
        out["waves"] = [{"start": int(w["t"][0]), "end": int(w["t"][-1]), "fills": len(w["t"]),
                         **_figures(w)} for w in _waves(cols)]
        if series:
            for w in out["waves"]:
                grew = _need_at(series, w["end"]) - _need_at(series, w["start"] - 1)
                w["needed_usd"] = round(grew / MONEY_PER_USD, 2)
                w["overshoot_usd"] = round(w["taken_usd"] - grew / MONEY_PER_USD, 2)
        return out


def _need_at(series: list[tuple[int, int]], t: int) -> int:
    """The budget needed up to time t (the series' last point at or before t; 0 before)."""
    from bisect import bisect_right
    k = bisect_right(series, (t, float("inf")))
    return series[k - 1][1] if k else 0


def needed_series(fund_start: list[int], series: list[tuple[int, tuple[int, ...]]],
                  budgets: list[int]) -> list[tuple[int, int]]:
    """(clock, budget needed up to then) from a no-ADL pass's fund equities: per fund the worst
    loss beyond its real budget so far, summed (at the end: ``needed_budget``)."""
    out, worst = [], [0] * len(fund_start)
    for t, equities in series:
        grew = False
        for k, (s, e, b) in enumerate(zip(fund_start, equities, budgets, strict=True)):
            if s - e - b > worst[k]:
                worst[k] = s - e - b
                grew = True
        if grew:
            out.append((t, sum(worst)))
    return out


def _waves(cols: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The haircuts split where more than ``WAVE_GAP`` seconds pass without one."""
    t = cols["t"]
    if not len(t):
        return []
    cuts = (np.flatnonzero(np.diff(t) > WAVE_GAP) + 1).tolist()
    return [{name: col[a:b] for name, col in cols.items()}
            for a, b in zip([0, *cuts], [*cuts, len(t)], strict=True)]


def _taken(cols: dict[str, np.ndarray]) -> int:
    """The profit the fills took (money units; a loss closed counts as zero)."""
    return int(np.maximum(cols["pnl"], 0).sum())


def _figures(cols: dict[str, np.ndarray]) -> dict:
    account, pnl = cols["account"], cols["pnl"]
    accounts, first, which = np.unique(account, return_index=True, return_inverse=True)
    hit = len(accounts)
    leverage = cols["leverage"][first]  # each account's leverage at its first haircut
    if hit:
        per_account = np.zeros(len(accounts), dtype=np.int64)
        np.add.at(per_account, which, np.maximum(pnl, 0))
        # in the order the accounts were first hit, as the figures always summed them
        top, hhi, gini = concentration(per_account[np.argsort(first, kind="stable")].tolist())
        profitable = len(np.unique(account[pnl > 0]))
    else:
        top = hhi = gini = 0.0
        profitable = 0
    return {"taken_usd": round(_taken(cols) / MONEY_PER_USD, 2),
            "taken_vs_mark_usd": round(int(cols["vs_mark"].sum()) / MONEY_PER_USD, 2),
            "max_share": round(top, 6), "hhi": round(hhi, 6), "gini": round(gini, 6),
            "accounts_hit": hit,
            "profitable_share": round(profitable / hit, 6) if hit else None,
            "median_leverage": round(float(np.median(leverage)), 4) if hit else None}


def needed_budget(fund_start: list[int], fund_min_equity: list[int], budgets: list[int]) -> int:
    """What the funds of a no-ADL pass lost beyond the real funds' budgets (money units): per fund,
    max(0, its start − its lowest equity − the real fund's budget), summed."""
    return sum(max(0, start - low - budget)
               for start, low, budget in zip(fund_start, fund_min_equity, budgets, strict=True))


NO_ADL = ("exchange.fund_multiplier=1000", "exchange.takeover_stress_pct=0",
          "exchange.adl_drawdown_pct=0", "exchange.adl_breaker_usd_per_min=0")
"""The no-ADL pass: funds 1,000 times as large and every route to ADL before they run out off."""

POLICY_KEYS = ("exchange.adl_policy", "exchange.adl_lights", "exchange.adl_price")
"""Settings that only change what ADL does: the no-ADL pass is the same whatever they are."""


def no_adl_pass(level, seed: int) -> tuple:
    """Run ``level`` (a loaded ``Level``) on ``seed`` with ``NO_ADL``: each fund's start and
    lowest equity (money units), the ADL fills that still happened (0 unless the funds, 1,000
    times as large, still ran out: then the budget it gives is a lower bound), and the funds'
    equities whenever they changed."""
    from .crash import CrashRun
    from .level import with_overrides
    run = CrashRun(with_overrides(level, list(NO_ADL)), seed=seed)
    run.recorder.fund_series = []
    run.run()
    rec = run.recorder
    return list(rec.fund_start), list(rec.fund_min_equity), rec.adl_count, rec.fund_series


def measure_needed(run, passed: tuple | None = None) -> int:
    """Give ``run`` (a finished or running ``CrashRun``) the budget ADL needed, from a no-ADL pass
    of its level and seed (``passed``: one already made, e.g. shared by ADL-policy variants), so
    that its report's ``adl.research`` has ``needed_usd`` and ``overshoot_usd``. Returns the
    needed budget (money units)."""
    start, low, fills, series = passed if passed is not None else \
        no_adl_pass(run.level, run.seed)
    real = run.recorder
    floor = run.sim.exchange.funds.floor
    budgets = [s - floor for s in real.fund_start]
    needed = needed_budget(start, low, budgets)
    real.needed = needed
    real.needed_series = needed_series(start, series, budgets)
    real.needed_lower_bound = fills > 0
    return needed
