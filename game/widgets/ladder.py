"""The order-book ladder of the selected symbol: asks over bids, size bars, the player's orders."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row, bar


class Ladder(LinePanel):
    """Best ask and best bid meet in the middle row, which shows the spread. Bars are USD per
    level on a fixed scale (``BookInfo.scale_usd``: a calm market maker's level fills about half
    the bar; ``▸`` marks one that overflows); ``●`` marks a level holding one of your orders
    (``◆`` the selected one)."""

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        quote = snap.quote(snap.selected)
        book = snap.book
        per_side = max(1, (height - 2) // 2)
        asks = list(book.asks[:per_side])[::-1]
        bids = list(book.bids[:per_side])
        levels = asks + bids
        pw = max([len(fmt.price(lv.price, quote.decimals)) for lv in levels] + [5])
        unit = quote.symbol[:6]
        qw = max([len(fmt.qty(lv.qty, quote.qty_decimals)) for lv in levels] + [len(unit)])
        bar_w = max(0, width - pw - qw - 5)
        top = book.scale_usd
        rows = [Row(" " + "price".rjust(pw) + " " + unit.rjust(qw) + " " + "$ depth",
                    "panel--head")]
        rows.extend(Row() for _ in range(per_side - len(asks)))
        rows.extend(self._level(lv, quote, pw, qw, bar_w, top, "panel--down") for lv in asks)
        rows.append(self._spread(quote, width))
        rows.extend(self._level(lv, quote, pw, qw, bar_w, top, "panel--up") for lv in bids)
        if not levels:
            rows.append(Row(" the book is empty", "panel--bad"))
        return rows

    @staticmethod
    def _level(lv, quote, pw: int, qw: int, bar_w: int, top: float, side_style: str) -> Row:
        row = Row(lv.mine or " ", "panel--mine" if lv.mine else None)
        row.add(fmt.price(lv.price, quote.decimals).rjust(pw),
                "panel--mine" if lv.mine else side_style)
        row.add(" " + fmt.qty(lv.qty, quote.qty_decimals).rjust(qw) + " ")
        row.add(bar(lv.usd / top, bar_w).rstrip(), side_style)
        if lv.usd > top and bar_w:
            row.add("▸", side_style)
        return row

    @staticmethod
    def _spread(quote, width: int) -> Row:
        bid, ask = quote.best_bid, quote.best_ask
        if bid is None or ask is None:
            text = " no bid " if bid is None else " no ask "
            return Row(text.center(width, "─"), "panel--bad")
        spread = ask - bid
        mid = (ask + bid) / 2
        text = f" spread {fmt.price(spread, quote.decimals)} · {fmt.pct(spread / mid, False, 2)} "
        style = "panel--bad" if spread / mid > 0.005 else "panel--muted"
        return Row(text.center(width, "─"), style)
