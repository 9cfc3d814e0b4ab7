"""The floor's notice line: every notification in one row above the keys, never over a panel.

Fills, liquidations, ADL, news and refusals arrive as notices (``game.story.Notice``, or a
message the floor is told). The line shows the newest one in its severity's colour while it is
fresh (``FRESH_SECONDS`` of wall time, longer for the most severe of a step's notices), then muted with its sim time, so the
last thing that happened stays readable. When one step brings several, it says how many more;
``l`` opens the whole log (``NoticeLog``), newest first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .. import fmt
from .panel import LinePanel, Row

FRESH_SECONDS = {"information": 4.0, "warning": 6.0, "error": 10.0}
"""Wall seconds a notice is shown in its colour, by severity."""
LOG_SIZE = 300
STYLES = {"information": "panel--accent", "warning": "panel--warn", "error": "panel--bad"}
GLYPHS = {"information": "●", "warning": "▲", "error": "■"}


@dataclass(frozen=True, slots=True)
class LoggedNotice:
    clock: int
    """Sim seconds since midnight HKT when it arrived."""
    title: str
    message: str
    severity: str

    def text(self) -> str:
        return f"{self.title}: {self.message}" if self.title else self.message


class NoticeLine(LinePanel):
    """The newest notice (and how many came with it); ``l`` for the log."""

    DEFAULT_CSS = "NoticeLine { height: 1; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.entries: deque[LoggedNotice] = deque(maxlen=LOG_SIZE)
        self.burst = 0
        """How many notices arrived with the newest one."""
        self.fresh_until = 0.0
        self.now = 0.0

    def add(self, clock: int, notices: list[tuple[str, str, str]], now: float) -> None:
        """Log ``notices`` — (title, message, severity) — that arrived at sim ``clock`` and wall
        time ``now``; the newest is shown, the most severe one decides how long it stays fresh."""
        if not notices:
            return
        for title, message, severity in notices:
            self.entries.append(LoggedNotice(clock, title, " ".join(message.split()), severity))
        self.burst = len(notices)
        self.fresh_until = now + max(FRESH_SECONDS.get(s, 4.0) for _, _, s in notices)
        self.now = now
        self._strips = None
        self.refresh()

    def tick(self, now: float) -> None:
        """Note the wall time; the line fades to muted when its notice is no longer fresh."""
        was_fresh = self.now < self.fresh_until
        self.now = now
        if was_fresh != (now < self.fresh_until):
            self._strips = None
            self.refresh()

    def build(self, width: int, height: int) -> list[Row]:
        hint = " l: log "
        row = Row(" ")
        if not self.entries:
            row.add("notices appear here: fills, liquidations, ADL, news", "panel--muted")
            return [row.right(hint, width, "panel--muted")]
        last = self.entries[-1]
        fresh = self.now < self.fresh_until
        style = STYLES.get(last.severity) if fresh else "panel--muted"
        more = f"  +{self.burst - 1} more" if self.burst > 1 else ""
        stamp = f"{fmt.hhmm(last.clock, seconds=True)} "
        row.add(stamp, "panel--muted").add(GLYPHS.get(last.severity, "●") + " ", style)
        room = width - row.width - len(more) - len(hint)
        row.add(fmt.fit(last.text(), room), style)
        row.add(more, "panel--warn")
        return [row.right(hint, width, "panel--muted")]

    def rows(self) -> list[tuple[str, str]]:
        """(time, notice) for the log, newest first."""
        return [(fmt.hhmm(n.clock, seconds=True), n.text()) for n in reversed(self.entries)]
