"""The hedger's order ticket and resting orders (amend and cancel act on the selected one)."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row


class OrdersPanel(LinePanel):
    """First line: the ticket (size preset, limit offset); then your resting orders."""

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.ticket = None

    def show(self, snapshot) -> None:
        if self.ticket is not None:
            self.border_subtitle = f"1-5 size · [ ] {self.ticket.offset_bps} bps"
        super().show(snapshot)

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        rows = self._ticket(snap.quote(snap.selected)) if self.ticket is not None else []
        if not snap.orders and not snap.triggers:
            rows.append(Row("no resting orders", "panel--muted"))
        for o in snap.orders:
            q = snap.quote(o.symbol)
            chosen = o.oid == snap.selected_order
            row = Row("◆ " if chosen else "● ", "panel--mine" if chosen else "panel--accent")
            row.add(f"#{o.oid} ", "panel--muted")
            row.add(f"{o.side:<4} ", "panel--up" if o.side > 0 else "panel--down")
            row.add(f"{fmt.qty(o.qty, q.qty_decimals)} {o.symbol} "
                    f"@ {fmt.price(o.price, q.decimals)}")
            if o.reduce_only:
                row.add(" reduce-only", "panel--muted")
            rows.append(row)
        for t in snap.triggers:
            q = snap.quote(t.symbol)
            row = Row("◇ ", "panel--accent").add(f"#{t.oid} ", "panel--muted")
            row.add(f"{'stop' if t.kind == 'stop' else 'tp'} {t.side.word:<4} ",
                    "panel--up" if t.side > 0 else "panel--down")
            limit = "mkt" if t.price is None else fmt.price(t.price, q.decimals)
            row.add(f"{fmt.qty(t.qty, q.qty_decimals)} {t.symbol} at {t.watches} "
                    f"{fmt.price(t.trigger, q.decimals)} → {limit}")
            rows.append(row)
        return rows

    def _ticket(self, quote) -> list[Row]:
        """What b/s and B/S would send now: the size, and each side's limit price."""
        t = self.ticket
        size = Row("size ", "panel--muted").add(fmt.usd_short(t.size_usd), "panel--strong")
        qty = t.quantity(quote)
        if not isinstance(qty, str):
            size.add(f" ≈ {fmt.qty(qty, quote.qty_decimals)} {quote.symbol}")
        limit = Row("B ", "panel--up")
        for side, key, style in (("buy", "B", "panel--up"), ("sell", "S", "panel--down")):
            price = t.limit_price(quote, side)
            if key == "S":
                limit.add(" S ", style)
            if not isinstance(price, str):
                limit.add(fmt.price(price, quote.decimals))
        return [size, limit]
