"""The help overlay (``?``): every key of the current screen and role, and how to read the floor."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PANELS = """\
[b]Reading the floor[/b]
[b]Price[/b]: the local last trade against the outside index; when books empty, the gap opens.
  [b]g[/b] shows your futures equity instead, against its start; [b]★[/b] marks ADL or a
  liquidation that hit you.
[b]Order book[/b]: asks over bids, bars in USD; [b]●[/b] your order, [b]◆[/b] the selected one.
[b]Depth ±1%[/b]: resting USD within 1% of mid, now against the start.
[b]Insurance funds[/b]: cash per contract; [b]FULL[/b] once it could carry no more and
  liquidations fell through to ADL, [b]DRY[/b] when its cash is down to its floor.
[b]Market makers[/b]: each firm's quoted depth, its stance, when it pulled out; under them,
  the share of the crowd's positions that are long (what the firms could see).
[b]Liquidations & ADL[/b]: liq·book / liq·fund / liq·ADL is the tier that took a liquidation
  (b+f: book then fund); ADL'd is a profitable position closed against it, #queue place.
[b]ADL lights[/b] ■■■□□: your place in the auto-deleveraging queue, 5 = first in line.
  The queue ranks profit × leverage: the best, most leveraged positions go first.
[b]Margin ratio[/b]: maintenance ÷ margin balance; at 100% the account is liquidated.
Orders given while paused are staged and go out when the clock runs. Every action is in the command
palette (ctrl+p). Below 118×36 the floor is compact: [b]v[/b] cycles the hidden panels."""


def key_columns(rows: list[tuple[str, str]], columns: int = 2) -> str:
    """Keys and what they do, in ``columns`` columns, as content markup."""
    cells = [f"[b]{keys:>6}[/b]  {what:<24}" for keys, what in rows]
    per = -(-len(cells) // columns)
    lines = ["  ".join(cells[c * per + r] for c in range(columns) if c * per + r < len(cells))
             for r in range(per)]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self, heading: str, rows: list[tuple[str, str]], text: str = PANELS):
        super().__init__(classes="dialog")
        self.heading = heading
        self.rows = rows
        self.text = text

    def compose(self) -> ComposeResult:
        keys = key_columns(self.rows)
        with VerticalScroll(classes="dialog-box help-box"):
            yield Static(f"[b]{self.heading}[/b]\n{keys}\n\n{self.text}\n\n"
                         "[dim]esc or ? closes this help[/dim]", markup=True)


class NoticeLogScreen(ModalScreen[None]):
    """Every notice of the session so far (``l``), newest first, in full."""

    BINDINGS = [Binding("escape,l,q", "dismiss(None)", "Close")]

    def __init__(self, rows: list[tuple[str, str]]):
        super().__init__(classes="dialog")
        self.rows = rows

    def compose(self) -> ComposeResult:
        from textual.markup import escape
        lines = "\n".join(f"[dim]{at}[/dim]  {escape(text)}" for at, text in self.rows)
        with VerticalScroll(classes="dialog-box help-box"):
            yield Static(f"[b]Notices, newest first[/b]\n\n{lines or 'No notices yet.'}\n\n"
                         "[dim]esc or l closes the log[/dim]", markup=True)
