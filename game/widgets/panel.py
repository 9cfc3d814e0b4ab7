"""The base of the floor's per-tick widgets: each renders its own lines (the Line API).

A panel gets the latest ``FloorSnapshot`` from its screen (``show``), builds its rows once per
snapshot and size, and hands Textual one cached ``Strip`` per line: no child widgets, no layout
pass, no DataTable rebuilt every tick. Colours are component classes styled with the theme's
variables, and every colour cue also has a glyph (so NO_COLOR still reads).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉█"


class Row:
    """One line being built: text runs with a component-style name each."""

    __slots__ = ("runs", "width")

    def __init__(self, text: str = "", style: str | None = None):
        self.runs: list[tuple[str, str | None]] = []
        self.width = 0
        if text:
            self.add(text, style)

    def add(self, text: str, style: str | None = None) -> Row:
        if text:
            self.runs.append((text, style))
            self.width += cell_len(text)
        return self

    def pad(self, to: int, style: str | None = None) -> Row:
        return self.add(" " * max(0, to - self.width), style)

    def right(self, text: str, total: int, style: str | None = None) -> Row:
        """Add ``text`` flush right in a row ``total`` cells wide (if there is room)."""
        if self.width + cell_len(text) + 1 <= total:
            self.pad(total - cell_len(text))
            self.add(text, style)
        return self

    def plain(self) -> str:
        return "".join(text for text, _ in self.runs)


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``width`` cells long filled to ``fraction`` in eighths."""
    if width <= 0:
        return ""
    fraction = max(0.0, min(1.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text + " " * (width - len(text))


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int, top: float | None = None) -> str:
    """The last ``width`` values as one line of block heights (scaled to ``top`` or the max)."""
    values = values[-width:] if width > 0 else []
    if not values:
        return ""
    peak = top if top else max(values) or 1.0
    return "".join(SPARKS[max(0, min(7, int(v / peak * 7.999)))] for v in values)


class LinePanel(Widget):
    """A widget that renders rows built from the latest snapshot."""

    COMPONENT_CLASSES = {"panel--muted", "panel--up", "panel--down", "panel--warn",
                         "panel--bad", "panel--accent", "panel--mine", "panel--strong",
                         "panel--head", "adl--1", "adl--2", "adl--3", "adl--4", "adl--5",
                         "adl--off"}
    DEFAULT_CSS = """
    LinePanel { height: 1fr; }
    LinePanel > .panel--muted { color: $foreground-muted; }
    LinePanel > .panel--up { color: $text-success; }
    LinePanel > .panel--down { color: $text-error; }
    LinePanel > .panel--warn { color: $text-warning; }
    LinePanel > .panel--bad { color: $text-error; text-style: bold; }
    LinePanel > .panel--accent { color: $text-accent; }
    LinePanel > .panel--mine { color: $text-primary; text-style: bold reverse; }
    LinePanel > .panel--strong { text-style: bold; }
    LinePanel > .panel--head { color: $foreground-muted; text-style: underline; }
    LinePanel > .adl--1 { color: $text-success; }
    LinePanel > .adl--2 { color: $text-success; }
    LinePanel > .adl--3 { color: $text-warning; }
    LinePanel > .adl--4 { color: $text-warning; text-style: bold; }
    LinePanel > .adl--5 { color: $text-error; text-style: bold; }
    LinePanel > .adl--off { color: $foreground-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.snapshot = None
        self._strips: list[Strip] | None = None
        self._styles: dict[str | None, Style] = {}

    # --- attributes down -----------------------------------------------------------------------
    def show(self, snapshot) -> None:
        """Take a new snapshot and redraw (no layout: the size does not change)."""
        self.snapshot = snapshot
        self._strips = None
        self.refresh()

    def build(self, width: int, height: int) -> list[Row]:
        """The panel's rows for the current snapshot (override)."""
        return []

    # --- rendering -----------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips = None

    def on_resize(self) -> None:
        self._strips = None

    def style_of(self, name: str | None) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name is None else base + self.get_component_rich_style(
                name, partial=True)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._strips is None:
            rows = self.build(width, height) if self.snapshot is not None and width > 0 else []
            self._strips = [self._strip(row, width) for row in rows[:height]]
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def _strip(self, row: Row, width: int) -> Strip:
        segments = [Segment(text, self.style_of(style)) for text, style in row.runs]
        return Strip(segments, row.width).crop_extend(0, width, self.rich_style)

    def rendered_text(self) -> list[str]:
        """The panel's current lines as plain text (for tests and screen readers)."""
        width, height = self.size
        if self.snapshot is None or width <= 0:
            return []
        return [row.plain() for row in self.build(width, height)[:height]]
