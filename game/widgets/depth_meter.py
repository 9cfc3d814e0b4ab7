"""Depth within ±1% of mid, now against the start: the $1.2M → $27k collapse at a glance."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row, bar, sparkline


class DepthMeter(LinePanel):
    """The tracked symbol's depth (bar, figures, per-minute history) and the selected one's."""

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        rows = [self._meter(snap.tracked_depth, width, tracked=True)]
        d = snap.tracked_depth
        label = f"{d.symbol} ±1% "
        rows.append(self._figures(d, width))
        if height >= 3 and d.series:
            rows.append(Row(" " * len(label), "panel--muted").add(
                sparkline(list(d.series), width - len(label), top=max(d.series + (d.start_usd,))),
                "panel--accent"))
        if height >= 4 and snap.selected_depth.symbol != d.symbol:
            rows.append(self._meter(snap.selected_depth, width, tracked=False))
        return rows

    @staticmethod
    def _meter(d, width: int, tracked: bool) -> Row:
        share = d.now_usd / d.start_usd if d.start_usd else 0.0
        label = f"{d.symbol} ±1% "
        style = "panel--bad" if share < 0.1 else "panel--warn" if share < 0.5 else "panel--up"
        tail = f" {fmt.pct(share - 1, digits=0)}"
        row = Row(label, "panel--strong" if tracked else None)
        row.add(bar(share, max(0, width - len(label) - len(tail))), style)
        return row.add(tail, style)

    @staticmethod
    def _figures(d, width: int) -> Row:
        return Row(" " * len(f"{d.symbol} ±1% ")).add(
            f"{fmt.usd_short(d.start_usd)} at start → {fmt.usd_short(d.now_usd)} now",
            "panel--muted")
