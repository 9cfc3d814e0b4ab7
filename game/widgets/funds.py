"""Insurance fund gauges, one per contract: cash now against the start, and when it ran dry."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row, bar


class FundGauges(LinePanel):
    """A fund is *exhausted* once liquidations fell through it to ADL (the recorder's verdict)
    or its cash is at the floor."""

    def build(self, width: int, height: int) -> list[Row]:
        funds = self.snapshot.funds
        name_w = max(len(f.name) for f in funds) + 1
        return [self._gauge(f, width, name_w) for f in funds]

    @staticmethod
    def _gauge(f, width: int, name_w: int) -> Row:
        share = f.now_usd / f.start_usd if f.start_usd else 0.0
        dry = f.now_usd <= f.floor_usd
        exhausted = f.exhausted_at is not None or dry
        figures = f" {fmt.usd_short(f.now_usd)}/{fmt.usd_short(f.start_usd)}"
        # a fund that can carry no more may still hold its cash: FULL, not DRY
        flag = " DRY" if dry else "" if f.exhausted_at is None else \
            f" FULL {fmt.hhmm(f.exhausted_at)}"
        style = "panel--bad" if exhausted else "panel--warn" if share < 0.5 else "panel--up"
        bar_w = max(0, width - name_w - len(figures) - len(flag))
        row = Row(f.name.ljust(name_w), "panel--strong")
        row.add(bar(min(share, 1.0), bar_w), style)
        row.add(figures, "panel--muted")
        return row.add(flag, "panel--bad")
