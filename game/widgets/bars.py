"""The floor's one-line bars: the clock, the news ticker and the symbol selector."""

from __future__ import annotations

from textual import events
from textual.message import Message

from .. import fmt
from .panel import LinePanel, Row


class ClockBar(LinePanel):
    """HKT clock, speed or pause, the next scripted headline; the level and role on the right."""

    DEFAULT_CSS = "ClockBar { height: 1; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.speed = 1.0
        self.paused = False
        self.real: float | None = None
        """The speed the machine achieves (``Pacer.real_speed``), or None."""
        self.view = ""

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        c = snap.clock
        row = Row(" ")
        row.add(f"{fmt.hhmm(c.clock, seconds=True)} HKT", "panel--strong")
        if c.finished:
            row.add("  ■ SESSION OVER", "panel--bad")
        elif c.replay_ended:
            row.add("  ■ REPLAY ENDED", "panel--warn")
        elif self.paused:
            row.add("  ‖ PAUSED", "panel--warn")
        elif self.real is not None and self.real < 0.8 * self.speed:
            row.add(f"  ▶ {fmt.speed(self.speed)} (really "
                    f"{fmt.speed(round(self.real, 1 if self.real < 10 else None))})",
                    "panel--warn")
        else:
            row.add(f"  ▶ {fmt.speed(self.speed)}", "panel--up")
        right = f"{snap.role} · {snap.level_title} "
        if snap.rules:
            right = f"{snap.role} · {fmt.fit('rules: ' + ', '.join(snap.rules), 44)} "
        if self.view:
            right = f"v: {self.view} · {snap.role} "
        if c.next_news is not None:
            at, headline = c.next_news
            room = width - row.width - len(right) - 18
            text = fmt.fit(headline, room)
            if room > 8:
                row.add(f"   next {fmt.hhmm(at)} ", "panel--muted").add(text, "panel--accent")
        return [row.right(right, width, "panel--muted")]


class NewsTicker(LinePanel):
    """The headlines so far, newest first."""

    DEFAULT_CSS = "NewsTicker { height: 1; }"

    def build(self, width: int, height: int) -> list[Row]:
        news = self.snapshot.news
        row = Row(" NEWS ", "panel--mine")
        if not news:
            return [row.add(" no headlines yet", "panel--muted")]
        for i, (clock, headline) in enumerate(reversed(news)):
            room = width - row.width - 10
            if room < 12:
                break
            row.add(f" {fmt.hhmm(clock)} ", "panel--muted")
            row.add(fmt.fit(headline, room), "panel--strong" if i == 0 else None)
            row.add("  ◆", "panel--muted")
        return [row]


class SymbolBar(LinePanel):
    """Every symbol with its price and change since the open; click one (or ←/→) to select."""

    DEFAULT_CSS = "SymbolBar { height: 1; }"

    class Selected(Message):
        """The player clicked a symbol."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, str]] = []

    def build(self, width: int, height: int) -> list[Row]:
        """Every symbol whole: separators go first when the line is short, then the symbols
        that do not fit (the selected one stays reachable with ←/→)."""
        row, spans = self._line(" │")
        if row.width > width:
            row, spans = self._line("")
        if row.width > width:
            fits = {symbol for _, end, symbol in spans if end <= width - 2}
            row, spans = self._line("", [q for q in self.snapshot.quotes if q.symbol in fits])
            row.add(" …", "panel--muted")
        self._spans = spans
        return [row]

    def _line(self, separator: str, quotes=None) -> tuple[Row, list[tuple[int, int, str]]]:
        snap = self.snapshot
        row = Row()
        spans = []
        for q in snap.quotes if quotes is None else quotes:
            start = row.width
            chosen = q.symbol == snap.selected
            row.add(f" {q.symbol} ", "panel--mine" if chosen else "panel--strong")
            row.add(f"{fmt.price(q.last or q.mark, q.decimals)} ")
            change = q.change
            row.add(fmt.pct(change), "panel--down" if (change or 0) < 0 else "panel--up")
            spans.append((start, row.width, q.symbol))
            row.add(separator, "panel--muted")
        return row, spans

    def on_click(self, event: events.Click) -> None:
        for start, end, symbol in self._spans:
            if start <= event.x < end:
                self.post_message(self.Selected(symbol))


class KeyBar(LinePanel):
    """The floor's keys, as many as fit in one line and each one whole (the rest are in ``?``
    and the command palette); click a key to use it."""

    DEFAULT_CSS = "KeyBar { height: 1; }"
    PALETTE = ("^p", "palette", "app.command_palette")

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.items: list[tuple[str, str, str]] = []
        """(keys, what, action) in the order the floor lists them."""
        self._spans: list[tuple[int, int, str]] = []

    def build(self, width: int, height: int) -> list[Row]:
        keys, what, action = self.PALETTE
        tail = len(keys) + len(what) + 3
        row, spans = Row(" "), []
        for keys_, what_, action_ in self.items:
            what_ = what_.split(" (")[0]  # "Quit (autosaves)": the bar says "Quit"
            if row.width + len(keys_) + len(what_) + 3 > width - tail:
                break
            start = row.width
            row.add(keys_, "panel--accent").add(f" {what_}")
            spans.append((start, row.width, action_))
            row.add("  ")
        start = width - tail + 1
        row.right(f"{keys} {what} ", width)
        spans.append((start, width, action))
        self._spans = spans
        return [row]

    async def on_click(self, event: events.Click) -> None:
        for start, end, action in self._spans:
            if start <= event.x < end:
                await self.screen.run_action(action)
