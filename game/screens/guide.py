"""The first-run guide: four hints pinned beside the panels they explain, one at a time.

A level with ``guide = true`` (the first level) shows it the first time a player opens its floor,
with the clock stopped; a marker file in the saves folder (``SEEN_FILE``) remembers that it was
seen, and the command palette shows it again. Each hint sits next to its panel — below it when
there is room, else above — and names what to read there and what to do about it. A panel the
compact floor hides is named with the ``v`` view that shows it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

SEEN_FILE = ".guide-seen"
"""In the saves folder: the first-run guide has been shown."""
BOX_WIDTH = 46


@dataclass(frozen=True, slots=True)
class Hint:
    target: str
    """The panel's id on the floor."""
    title: str
    text: str
    view: str
    """The compact floor's ``v`` view that shows the panel."""


HINTS = (
    Hint("positions", "ADL lights ■■■□□",
         "Your place in the auto-deleveraging queue, per position: 5 lights = first in line. "
         "The queue ranks profit × leverage, so your winning hedge climbs it as the market "
         "falls. When the funds fill, ADL closes it at the loser's price.", "chart"),
    Hint("depth", "Depth ±1% of mid",
         "The USD resting within 1% of the mid, now against the start. When the market makers "
         "thin and pull, it collapses, and liquidations sell into empty books.", "market"),
    Hint("funds", "Insurance funds",
         "Each contract's fund takes over liquidations the book cannot. FULL means it can carry "
         "no more: from then on losses fall through to ADL.", "market"),
    Hint("account", "Available margin",
         "What you can still open or withdraw. Negative means your open losses and margin "
         "exceed your balance: t moves spot money in, r reduces a position, n sends a stop.",
         "chart"),
)


def seen(saves_dir: Path) -> bool:
    return (saves_dir / SEEN_FILE).exists()


def mark_seen(saves_dir: Path) -> None:
    """Remember the guide was shown (a folder that cannot be written only means it shows
    again next time)."""
    try:
        saves_dir.mkdir(parents=True, exist_ok=True)
        (saves_dir / SEEN_FILE).write_text("the first-run guide was shown\n", encoding="utf-8")
    except OSError:
        pass


def place(target, screen_size, box_height: int) -> tuple[int, int, str]:
    """(x, y, arrow) of a hint box beside ``target``'s region: below it if it fits (↑ points
    up at it), else above (↓), else over its top (→); kept on the screen."""
    width, height = screen_size
    r = target.region
    x = max(0, min(r.x + 2, width - BOX_WIDTH))
    if r.y + r.height + box_height <= height - 2:
        return x, r.y + r.height - 1, "↑"
    if r.y - box_height >= 0:
        return x, r.y - box_height + 1, "↓"
    return x, max(0, r.y + 1), "→"


class GuideScreen(ModalScreen[None]):
    """The hints over the floor, one at a time: enter or → for the next, esc to stop."""

    DEFAULT_CSS = f"""
    GuideScreen {{ background: $background 20%; }}
    GuideScreen #guide-box {{
        width: {BOX_WIDTH}; height: auto; border: round $accent; background: $surface;
        padding: 0 1;
    }}
    """
    BINDINGS = [Binding("enter,right,space", "next", "Next hint"),
                Binding("escape", "dismiss(None)", "Close the guide")]

    def __init__(self, floor):
        super().__init__()
        self.floor = floor
        self.step = 0

    def compose(self) -> ComposeResult:
        yield Static(id="guide-box")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        from textual.markup import escape
        hint = HINTS[self.step]
        target = self.floor.query_one(f"#{hint.target}")
        hidden = target.region.area == 0  # not laid out: the compact floor hides it
        where = (f"\n[dim](hidden on this small screen: press v until the view is "
                 f"'{hint.view}')[/dim]") if hidden else ""
        lines = len(textwrap.wrap(hint.text, BOX_WIDTH - 4)) + 4  # title, hint, two borders
        if hidden:
            w, h = self.app.size
            x, y, arrow = max(0, (w - BOX_WIDTH) // 2), max(0, h // 3), "·"
        else:
            x, y, arrow = place(target, self.app.size, lines)
        box = self.query_one("#guide-box", Static)
        box.update(f"[b]{arrow} {self.step + 1}/{len(HINTS)} {escape(hint.title)}[/b]\n"
                   f"{escape(hint.text)}{where}\n[dim]enter: next · esc: close[/dim]")
        box.styles.offset = (x, y)

    def action_next(self) -> None:
        if self.step + 1 >= len(HINTS):
            self.dismiss(None)
            return
        self.step += 1
        self._show()
