"""What every screen shows instead of its panels when the terminal is below the minimum size."""

from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmall(Static):
    """Hidden until the app gets the ``-too-small`` class (``CrashfloorApp.on_resize``)."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        layer: too-small;
        dock: top;
        width: 100%;
        height: 100%;
        content-align: center middle;
        text-align: center;
        background: $background;
        color: $text-warning;
    }
    """

    def __init__(self) -> None:
        super().__init__(f"Terminal too small\n\ncrashfloor needs at least {MIN_WIDTH}×{MIN_HEIGHT}"
                         "\n(make the window larger, or the font smaller)")
