"""Arbitrageurs: trade the local book towards the index, with limited capital and latency.

Every ``every_seconds`` they look at each symbol: when the local best bid is more than
``threshold_bps`` above the index they sell into it, when the best ask is that far below they buy,
limited at half the threshold from the index, at most ``clip_usd`` a time and ``capital_usd`` of
gross exposure in all (they hedge the other leg on the outside venues, which the game does not
model). Once the gap has closed they unwind towards flat. So the local price follows the index
while they have capital, and gaps away (the article's >$300 BTC gaps) when they run out or when the
book is too empty to trade against.
"""

from __future__ import annotations

from .base import AgentState
from ..level.config import ArbitrageConfig
from ..book import BUY, SELL, Tif
from ..errors import CrashfloorError
from ..units import MONEY_PER_USD


class Arbitrageurs(AgentState):
    __slots__ = ("cfg", "capital", "account")
    _wiring = ("cfg",)

    def __init__(self, sim, cfg: ArbitrageConfig):
        ex = sim.exchange
        self.cfg = cfg
        self.capital = round(cfg.capital_usd * MONEY_PER_USD)
        self.account = ex.open_account(self.capital / MONEY_PER_USD)
        for sym in ex.symbols:
            ex.set_leverage(self.account, sym, min(10, ex.instrument(sym).max_leverage))

    def act(self, sim) -> None:
        if sim.t % self.cfg.every_seconds or not self.capital:
            return
        ex = sim.exchange
        a = self.account
        thr = self.cfg.threshold_bps * 1e-4
        clip = self.cfg.clip_usd * MONEY_PER_USD
        gross = sum(abs(ex.acc.q[s, a]) * (ex.marks.mark[s] or 0) * ex.units[s]
                    for s in range(len(ex.symbols)))
        room = max(0, self.capital * 3 - gross)
        for s in range(len(ex.symbols)):
            index, book, unit = ex.marks.index[s], ex.books[s], ex.units[s]
            bid, ask = book.best_bid(), book.best_ask()
            pos = ex.acc.q[s, a]
            if bid is not None and bid > index * (1 + thr):
                self._trade(ex, s, SELL, round(index * (1 + thr / 2)), min(clip, room), unit)
            elif ask is not None and ask < index * (1 - thr):
                self._trade(ex, s, BUY, round(index * (1 - thr / 2)), min(clip, room), unit)
            elif pos > 0 and bid is not None and bid >= index * (1 - thr / 4):
                self._trade(ex, s, SELL, bid, clip, unit, abs(pos))
            elif pos < 0 and ask is not None and ask <= index * (1 + thr / 4):
                self._trade(ex, s, BUY, ask, clip, unit, abs(pos))

    def _trade(self, ex, s, side, limit, notional, unit, reduce: int = 0) -> None:
        lots = int(notional / (max(limit, 1) * unit))
        if reduce:
            lots = min(lots, reduce)
        if lots <= 0 or limit <= 0:
            return
        try:
            ex.place_lots(self.account, s, side, lots, limit, Tif.IOC, bool(reduce))
        except CrashfloorError:
            pass


