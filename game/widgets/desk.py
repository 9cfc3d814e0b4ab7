"""The maker's own desk: quoting on or off, spread and size per side, skew, and what it earns."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row


class DeskPanel(LinePanel):
    """The snapshot's desk (``DeskView``): inventory, spread earned, mark-to-market PnL and uptime
    (seconds with quotes on both sides within ±1% of mid)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.editing = "both"

    def build(self, width: int, height: int) -> list[Row]:
        d = self.snapshot.desk
        if d is None:
            return [Row("no desk: this is the hedger's level", "panel--muted")]
        q = self.snapshot.quote(d.symbol)
        state = Row(f"{d.symbol} desk ", "panel--strong")
        state.add("● QUOTING" if d.quoting else "○ not quoting",
                  "panel--up" if d.quoting else "panel--warn")
        state.right(f"editing {self.editing}", width, "panel--accent")
        rows = [state, self._side("bid", d.bid_spread_bps, d.bid_size_usd, "both", width),
                self._side("ask", d.ask_spread_bps, d.ask_size_usd, "both", width)]
        inv = Row("inventory ", "panel--muted").add(
            f"{fmt.qty(d.inventory, q.qty_decimals)} {d.symbol}",
            "panel--up" if d.inventory > 0 else "panel--down" if d.inventory < 0 else None)
        inv.add(f" ({fmt.usd_short(d.inventory_usd, signed=True)})", "panel--muted")
        inv.right("skew " + ("on" if d.skew else "off"), width, "panel--accent")
        rows.append(inv)
        pnl = Row("spread earned ", "panel--muted").add(fmt.usd(d.spread_earned_usd),
                                                        "panel--up")
        pnl.add("  MTM PnL ", "panel--muted").add(
            fmt.usd(d.mtm_pnl_usd, signed=True),
            "panel--up" if d.mtm_pnl_usd >= 0 else "panel--down")
        rows.append(pnl)
        rows.append(Row("uptime ", "panel--muted").add(f"{d.uptime_pct:.0f}%").add(
            "  quotes resting ", "panel--muted").add(str(d.quotes)))
        return rows

    def _side(self, side: str, spread: float, size: float, _: str, width: int) -> Row:
        edited = self.editing in ("both", side)
        row = Row("▸ " if edited else "  ", "panel--accent")
        row.add(f"{side} ", "panel--up" if side == "bid" else "panel--down")
        row.add(f"{spread:g} bps off mark · {fmt.usd_short(size)} × 3 levels")
        return row
