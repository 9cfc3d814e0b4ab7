"""A line chart drawn in braille dots, with a price axis, a time axis and event markers.

Each cell holds 2×4 dots, so a 60×12 chart plots 120×48 points. Series are drawn in order (later
ones on top where they share a cell); consecutive points are joined, so a one-minute wick shows
as a vertical stroke. Markers sit on the time axis (``N`` news, ``A`` ADL, ...) with a faint guide
up through the empty cells of the plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable, Sequence

from .. import fmt
from .panel import LinePanel, Row

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_TIME_STEPS = (60, 300, 600, 900, 1800, 3600, 7200)


@dataclass(frozen=True, slots=True)
class Series:
    """``dashed`` draws every 4th dot column only: a reference line laid over another series
    stays visible without hiding it."""
    label: str
    points: Sequence[tuple[float, float | None]]
    style: str
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    glyph: str
    style: str


def y_range(series: Sequence[Series], x0: float, x1: float) -> tuple[float, float] | None:
    values = [y for s in series for x, y in s.points if y is not None and x0 <= x <= x1]
    if not values:
        return None
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.06 or abs(hi) * 0.01 or 1.0
    return lo - pad, hi + pad


def plot(series: Sequence[Series], x0: float, x1: float, y0: float, y1: float, cols: int,
         rows: int) -> list[list[tuple[int, int]]]:
    """cells[row][col] = (dot mask, index of the top series + 1; 0 when empty)."""
    cells = [[(0, 0)] * cols for _ in range(rows)]
    if cols <= 0 or rows <= 0 or x1 <= x0 or y1 <= y0:
        return cells
    w, h = cols * 2, rows * 4
    sx, sy = (w - 1) / (x1 - x0), (h - 1) / (y1 - y0)

    def dot(px: int, py: int, k: int) -> None:
        if 0 <= px < w and 0 <= py < h:
            r, c = py >> 2, px >> 1
            cells[r][c] = (cells[r][c][0] | _DOTS[py & 3][px & 1], k)

    def dash(px: int, py: int, k: int) -> None:
        if px % 4 == 0:
            dot(px, py, k)

    for k, s in enumerate(series, 1):
        draw = dash if s.dashed else dot
        prev = None
        for x, y in s.points:
            if y is None or x < x0 or x > x1:
                prev = None
                continue
            px, py = round((x - x0) * sx), round((y1 - y) * sy)
            if prev is None:
                draw(px, py, k)
            else:
                _join(prev, (px, py), draw, k)
            prev = (px, py)
    return cells


def _join(a: tuple[int, int], b: tuple[int, int], dot, k: int) -> None:
    """Dots from a to b: one column at a time, each filled vertically to the next."""
    (ax, ay), (bx, by) = a, b
    span = max(1, bx - ax)
    last_y = ay
    for px in range(ax, bx + 1):
        y = round(ay + (by - ay) * (px - ax) / span)
        for py in range(min(last_y, y), max(last_y, y) + 1):
            dot(px, py, k)
        last_y = y


def time_ticks(x0: float, x1: float, cols: int) -> list[float]:
    """Round clock times for the axis, as many as fit with 7 cells each."""
    span = x1 - x0
    if span <= 0 or cols < 6:
        return []
    step = next((s for s in _TIME_STEPS if s / span * cols >= 7), _TIME_STEPS[-1])
    first = math.ceil(x0 / step) * step
    return [first + i * step for i in range(int((x1 - first) // step) + 1)]


class LineChart(LinePanel):
    """A chart of one or more series over a fixed time window."""

    COMPONENT_CLASSES = LinePanel.COMPONENT_CLASSES | {"chart--axis", "chart--series-1",
                                                      "chart--series-2", "chart--series-3",
                                                      "chart--guide"}
    DEFAULT_CSS = """
    LineChart > .chart--axis { color: $foreground-muted; }
    LineChart > .chart--guide { color: $foreground 25%; }
    LineChart > .chart--series-1 { color: $text-secondary; }
    LineChart > .chart--series-2 { color: $text-warning; text-style: bold; }
    LineChart > .chart--series-3 { color: $text-accent; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.series: tuple[Series, ...] = ()
        self.markers: tuple[Marker, ...] = ()
        self.x_range = (0.0, 1.0)
        self.y_format: Callable[[float, float], str] = lambda v, span: f"{v:,.0f}"
        self.empty_text = "no data yet"

    def set_data(self, series: Sequence[Series], x_range: tuple[float, float],
                 markers: Sequence[Marker] = (), y_format=None) -> None:
        self.series, self.markers, self.x_range = tuple(series), tuple(markers), x_range
        if y_format is not None:
            self.y_format = y_format
        LinePanel.show(self, self.series)

    def build(self, width: int, height: int) -> list[Row]:
        x0, x1 = self.x_range
        yr = y_range(self.series, x0, x1)
        if yr is None or height < 3 or width < 12:
            return [Row(self.empty_text, "panel--muted")]
        y0, y1 = yr
        plot_rows = height - 2
        labels = self._y_labels(y0, y1, plot_rows)
        label_w = max(len(text) for text in labels.values()) + 1
        cols = width - label_w - 1
        if cols < 4:
            return [Row(self.empty_text, "panel--muted")]
        cells = plot(self.series, x0, x1, y0, y1, cols, plot_rows)
        guides = {self._col(m.x, cols) for m in self.markers} - {0, cols - 1}
        out = [self._plot_row(r, cells[r], labels.get(r), label_w, guides)
               for r in range(plot_rows)]
        out.extend(self._time_axis(x0, x1, cols, label_w))
        return out

    # --- pieces --------------------------------------------------------------------------------
    def _col(self, x: float, cols: int) -> int:
        x0, x1 = self.x_range
        return round((x - x0) / (x1 - x0) * (cols * 2 - 1)) // 2 if x1 > x0 else 0

    def _y_labels(self, y0: float, y1: float, rows: int) -> dict[int, str]:
        every = 3 if rows < 10 else 4
        picks = list(range(0, rows, every))
        if rows - 1 - picks[-1] >= 2:
            picks.append(rows - 1)
        span = y1 - y0
        return {r: self.y_format(y1 - (r + 0.5) / rows * span, span) for r in picks}

    def _plot_row(self, r: int, cells: list, label: str | None, label_w: int,
                  guides: set[int]) -> Row:
        row = Row((label or "").rjust(label_w - 1) + " ", "chart--axis")
        row.add("┤" if label else "│", "chart--axis")
        run, run_style = [], None
        for c, (mask, k) in enumerate(cells):
            if mask:
                ch, style = chr(0x2800 | mask), f"chart--series-{min(k, 3)}"
            elif c in guides:
                ch, style = "┊", "chart--guide"
            else:
                ch, style = " ", None
            if style != run_style and run:
                row.add("".join(run), run_style)
                run = []
            run.append(ch)
            run_style = style
        row.add("".join(run), run_style)
        return row

    def _time_axis(self, x0: float, x1: float, cols: int, label_w: int) -> list[Row]:
        ticks = time_ticks(x0, x1, cols)
        axis = ["─"] * cols
        labels = [" "] * cols
        for t in ticks:
            c = self._col(t, cols)
            if 0 <= c < cols:
                axis[c] = "┬"
                text = fmt.hhmm(int(t))
                start = max(0, min(cols - len(text), c - len(text) // 2))
                if all(ch == " " for ch in labels[max(0, start - 1):start + len(text) + 1]):
                    labels[start:start + len(text)] = list(text)
        line = Row(" " * label_w + "└", "chart--axis").add("".join(axis), "chart--axis")
        by_col = {self._col(m.x, cols): m for m in self.markers}  # a later marker wins a column
        marks = sorted(by_col.items(), key=lambda p: p[0])
        if marks:
            line = Row(" " * label_w + "└", "chart--axis")
            pos = 0
            for c, m in marks:
                if c < pos or c >= cols:
                    continue
                line.add("".join(axis[pos:c]), "chart--axis")
                line.add(m.glyph[:1], m.style)
                pos = c + 1
            line.add("".join(axis[pos:]), "chart--axis")
        return [line, Row(" " * (label_w + 1) + "".join(labels), "chart--axis")]
