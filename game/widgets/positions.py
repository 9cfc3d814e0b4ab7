"""The player's positions: size, entry, mark, uPnL, liquidation price and distance, ADL lights.

The lights are the engine's ``adl_light`` (1–5, Bybit-style 20% buckets; 5 = first in line): that
many of five cells lit, the colour going to red at 5. The selected symbol's row also says why:
its queue place and the score's parts.
"""

from __future__ import annotations

from textual import events
from textual.message import Message

from .. import fmt
from .panel import LinePanel, Row

COLUMNS = (  # (name, width, priority: lower survives longer on a narrow panel)
    ("", 1, 0), ("sym", 5, 0), ("side", 5, 0), ("size", 10, 1), ("entry", 9, 4),
    ("mark", 9, 3), ("uPnL", 8, 0), ("liq", 9, 2), ("to liq", 6, 0), ("mode", 5, 5),
    ("ADL", 5, 0),
)


def lights(light: int) -> list[tuple[str, str]]:
    """Five cells, ``light`` of them lit: [(text, style), ...]."""
    light = max(0, min(5, light))
    out = []
    if light:
        out.append(("■" * light, f"adl--{light}"))
    if light < 5:
        out.append(("□" * (5 - light), "adl--off"))
    return out


def adl_explanation(p, policy: str, short: bool = False) -> str:
    """"#3 of 1,240 shorts: PnL% 41% × eff. lev 12.3" for the position's queue place."""
    if p.adl_rank is None:
        return f"{p.symbol}: not in an ADL queue"
    side = "longs" if p.lots > 0 else "shorts"
    lev = "—" if p.effective_leverage is None else f"{p.effective_leverage:.1f}"
    pnl = fmt.pct(p.pnl_pct, False)
    if short:
        return f"{p.symbol} ADL #{p.adl_rank:,}/{p.adl_queue:,} {side}: {pnl} × lev {lev}"
    head = f"{p.symbol} ADL #{p.adl_rank:,} of {p.adl_queue:,} {side}"
    if policy == "article":
        return f"{head}: PnL% {pnl} × eff. lev {lev}"
    return f"{head}: score {p.adl_score:.3g} ({policy}; PnL% {pnl}, eff. lev {lev})"


class Positions(LinePanel):
    """One row per open position; the selected symbol's row is marked and explained. Clicking a
    row selects its symbol."""

    class Selected(Message):
        """The player clicked a position."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._row_symbols: list[str | None] = []

    def on_click(self, event: events.Click) -> None:
        if 0 <= event.y < len(self._row_symbols) and self._row_symbols[event.y]:
            self.post_message(self.Selected(self._row_symbols[event.y]))

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        cols = self._fit(width)
        rows = [self._header(cols)]
        if not snap.positions:
            rows.append(Row(" no open positions", "panel--muted"))
        for p in snap.positions:
            rows.append(self._row(p, snap, cols))
        self._row_symbols = [None] + [p.symbol for p in snap.positions]
        sel = snap.position(snap.selected)
        if sel is not None and len(rows) < height:
            text = adl_explanation(sel, snap.policy)
            if len(text) + 1 > width:
                text = adl_explanation(sel, snap.policy, short=True)
            rows.append(Row(" " + fmt.fit(text, width - 1), "panel--accent"))
        return rows

    @staticmethod
    def _fit(width: int) -> list[tuple[str, int]]:
        cols = list(COLUMNS)
        while sum(w + 1 for _, w, _ in cols) > width and any(p > 0 for *_, p in cols):
            worst = max(p for *_, p in cols)
            cols.remove(next(c for c in reversed(cols) if c[2] == worst))
        return [(name, w) for name, w, _ in cols]

    @staticmethod
    def _header(cols) -> Row:
        row = Row()
        for name, w in cols:
            row.add((name.ljust(w) if name in ("sym", "side", "mode", "ADL", "") else
                     name.rjust(w)) + " ", "panel--head" if name else None)
        return row

    def _row(self, p, snap, cols) -> Row:
        q = snap.quote(p.symbol)
        mark = float(p.mark) if p.mark is not None else None
        dist = None if p.liq_price is None or not mark else (p.liq_price - mark) / mark
        cells = {
            "": ("▶" if p.symbol == snap.selected else " ", "panel--accent"),
            "sym": (p.symbol, "panel--strong"),
            "side": (p.side, "panel--up" if p.lots > 0 else "panel--down"),
            "size": (fmt.qty(abs(p.qty), q.qty_decimals), None),
            "entry": (fmt.price(p.entry, q.decimals), None),
            "mark": (fmt.price(mark, q.decimals), None),
            "uPnL": (fmt.usd_short(p.upnl, signed=True),
                     "panel--up" if p.upnl > 0 else "panel--down" if p.upnl < 0 else None),
            "liq": (fmt.price(p.liq_price, q.decimals), "panel--muted"),
            "to liq": (fmt.pct(dist, digits=1),
                       "panel--bad" if dist is not None and abs(dist) < 0.03 else None),
            "mode": ("iso" if p.margin_mode == "isolated" else "cross", "panel--muted"),
        }
        row = Row()
        for name, w in cols:
            if name == "ADL":
                for text, style in lights(p.adl_light):
                    row.add(text, style)
                continue
            text, style = cells[name]
            left = name in ("", "sym", "side", "mode")
            row.add((text.ljust(w) if left else text.rjust(w))[:max(w, len(text))], style)
            row.add(" ")
        return row
