"""The player's account: equity, margin balance, maintenance margin and the margin-ratio bar."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row, bar


class AccountPanel(LinePanel):
    """Margin ratio = maintenance ÷ margin balance (cross); at 100% the account is liquidated."""

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        acc = snap.account
        if acc is None:
            return [Row("no account on this level", "panel--muted")]
        equity = float(acc.equity)
        change = equity / snap.equity_start - 1 if snap.equity_start else None
        rows = [
            self._line("equity", fmt.usd(equity), width,
                       (fmt.pct(change), "panel--up" if (change or 0) >= 0 else "panel--down")),
            self._line("margin balance", fmt.usd(acc.margin_balance), width),
            self._line("maintenance", fmt.usd(acc.maintenance), width),
            self._line("available", fmt.usd(acc.available), width),
        ]
        if float(acc.available) < 0:
            rows.append(Row(fmt.fit("↳ open losses · t adds spot", width),
                            "panel--muted"))
        if snap.spot_usd is not None:
            rows.append(self._line("spot wallet (t)", fmt.usd(snap.spot_usd), width))
        ratio = acc.margin_ratio
        shown = "∞" if ratio == float("inf") else fmt.pct(ratio, False, 1)
        style = "panel--bad" if ratio >= 0.8 else "panel--warn" if ratio >= 0.5 else "panel--up"
        label = "margin ratio "
        tail = f" {shown}"
        rows.append(Row(label).add(bar(min(ratio, 1.0), max(0, width - len(label) - len(tail))),
                                   style).add(tail, style))
        return rows

    @staticmethod
    def _line(label: str, value: str, width: int, extra: tuple = ("", None)) -> Row:
        row = Row(label, "panel--muted")
        text, style = extra
        tail = f"{value}" + (f" {text}" if text else "")
        row.pad(max(len(label) + 1, width - len(tail)))
        row.add(value, "panel--strong")
        if text:
            row.add(" " + text, style)
        return row
