"""The floor's chart: the selected symbol's price — the local last trade against the outside
index, so gaps show — or (``g``) the player's own futures equity against its start, with the
ADL and liquidations that hit it marked ★."""

from __future__ import annotations

import math

from .. import fmt
from .line_chart import LineChart, Marker, Series


def price_label(decimals: int):
    """A y-axis formatter: enough decimals to tell the rows apart, never more than the tick."""
    def label(value: float, span: float) -> str:
        need = max(0, math.ceil(-math.log10(span / 6))) if span > 0 else decimals
        return f"{value:,.{min(decimals, need)}f}"
    return label


class PriceChart(LineChart):
    """Index (outside venues) and last trade (this exchange) over the whole session; or the
    player's equity (``mode = "equity"``)."""

    mode = "price"

    def show(self, snapshot) -> None:
        if self.mode == "equity" and snapshot.equity_history:
            self._show_equity(snapshot)
            return
        quote = snapshot.quote(snapshot.selected)
        hist = snapshot.history
        series = (Series("last", [(c, p) for c, p, _ in hist], "chart--series-2"),
                  Series("index", [(c, i) for c, _, i in hist], "chart--series-1", dashed=True))
        markers = [Marker(c, "N", "panel--accent") for c, _ in snapshot.news]
        self.border_title = f"{quote.symbol} · last trade vs index · g: your equity"
        gap = quote.gap
        gap_style = "$text-error" if gap is not None and abs(gap) >= 0.005 else "$foreground-muted"
        self.border_subtitle = (
            f"[$text-warning]━ last {fmt.price(quote.last, quote.decimals)}[/] "
            f"[$text-secondary]┅ idx {fmt.price(quote.index, quote.decimals)}[/] "
            f"[{gap_style}]{fmt.pct(gap, digits=2)}[/]")
        self.set_data(series, (snapshot.clock.start, snapshot.clock.end), markers,
                      price_label(quote.decimals))

    def _show_equity(self, snapshot) -> None:
        curve = snapshot.equity_history
        start, now = snapshot.equity_start, curve[-1][1]
        window = (snapshot.clock.start, snapshot.clock.end)
        series = (Series("equity", list(curve), "chart--series-2"),
                  Series("start", [(window[0], start), (curve[-1][0], start)], "chart--series-1",
                         dashed=True))
        markers = [Marker(c, "N", "panel--accent") for c, _ in snapshot.news]
        markers += [Marker(c, "★", "panel--mine") for c, _ in snapshot.forced]
        change = (now - start) / start if start else None
        self.border_title = "your futures equity · g: price"
        self.border_subtitle = (
            f"[$text-warning]━ now {fmt.usd(now)}[/] [$text-secondary]┅ start "
            f"{fmt.usd(start)}[/] [{'$text-error' if (change or 0) < 0 else '$text-success'}]"
            f"{fmt.pct(change)}[/]")
        self.set_data(series, window, markers, equity_label)


def equity_label(value: float, span: float) -> str:
    """Whole dollars when the curve barely moves, else $1.23M."""
    return fmt.usd(value) if span < 0.02 * max(abs(value), 1.0) else fmt.usd_short(value)
