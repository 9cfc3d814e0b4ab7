"""The selected symbol's price: the local last trade against the outside index, so gaps show."""

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
    """Index (outside venues) and last trade (this exchange) over the whole session."""

    def show(self, snapshot) -> None:
        quote = snapshot.quote(snapshot.selected)
        hist = snapshot.history
        series = (Series("last", [(c, p) for c, p, _ in hist], "chart--series-2"),
                  Series("index", [(c, i) for c, _, i in hist], "chart--series-1", dashed=True))
        markers = [Marker(c, "N", "panel--accent") for c, _ in snapshot.news]
        self.border_title = f"{quote.symbol} · last trade vs index"
        gap = quote.gap
        gap_style = "$text-error" if gap is not None and abs(gap) >= 0.005 else "$foreground-muted"
        self.border_subtitle = (
            f"[$text-warning]━ last {fmt.price(quote.last, quote.decimals)}[/] "
            f"[$text-secondary]┅ idx {fmt.price(quote.index, quote.decimals)}[/] "
            f"[{gap_style}]{fmt.pct(gap, digits=2)}[/]")
        self.set_data(series, (snapshot.clock.start, snapshot.clock.end), markers,
                      price_label(quote.decimals))
