"""Index and mark prices.

The index is the outside venues' price, set by the scenario. The mark price, which margin and
liquidation use, is the median of three (the Binance / Hyperliquid construction):

1. the index;
2. the index plus an exponential moving average of the local basis (local price − index) over
   ``ema_steps`` settle steps, so a lasting premium or discount moves the mark but a one-step wick
   does not;
3. the local price: the last trade if the book traded in the last ``stale_steps`` settles, else
   the book's mid if both sides quote within 2% of each other, else nothing (the index stands in),
   so that a stale print in an abandoned book cannot pin the mark.

With ``method="index"`` the mark is simply the index (for tests, and for levels that want the
outside price to rule). A single wild print cannot move the median mark on its own: it needs the
book or the outside venues to agree. All in integer ticks; the basis EMA is a float
(deterministic IEEE arithmetic) that is rounded to the tick when it is used.
"""

from __future__ import annotations

from .errors import InvalidInput


class MarkPricer:
    METHODS = ("median3", "index")

    def __init__(self, n_symbols: int, ema_steps: int = 30, method: str = "median3",
                 stale_steps: int = 30):
        if method not in self.METHODS:
            raise InvalidInput(f"mark method must be one of {self.METHODS}, got {method!r}")
        self.method = method
        self.alpha = 2.0 / (ema_steps + 1)
        self.stale_steps = stale_steps
        self.index: list[int | None] = [None] * n_symbols
        self.mark: list[int | None] = [None] * n_symbols
        self.basis: list[float] = [0.0] * n_symbols
        self.traded: list[bool] = [False] * n_symbols
        self.fresh: list[int] = [0] * n_symbols

    def set_index(self, s: int, ticks: int) -> None:
        self.index[s] = ticks
        if self.mark[s] is None:
            self.mark[s] = ticks

    def _local(self, s: int, book) -> int | None:
        """The local price: a fresh last trade, else a tight mid, else None."""
        if self.traded[s]:
            self.traded[s] = False
            self.fresh[s] = self.stale_steps
        if self.fresh[s] > 0 and book.last_trade_price is not None:
            self.fresh[s] -= 1
            return book.last_trade_price
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None and (ask - bid) * 50 <= ask:
            return (bid + ask) // 2
        return None

    def update(self, books) -> None:
        """Recompute every mark from the index and the books."""
        for s, book in enumerate(books):
            local = self._local(s, book)
            index = self.index[s]
            if index is None:
                self.mark[s] = local if local is not None else self.mark[s]
                continue
            if local is None or self.method == "index":
                local = index
            self.basis[s] += self.alpha * ((local - index) - self.basis[s])
            smoothed = index + round(self.basis[s])
            self.mark[s] = sorted((index, smoothed, local))[1]

    def state(self) -> tuple:
        return (tuple(self.index), tuple(self.mark), tuple(self.basis), tuple(self.traded),
                tuple(self.fresh))

