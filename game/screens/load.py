"""The saved games: level, role, sim time and equity of every save, newest first; enter loads."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.saves import SaveInfo, escape_text, list_saves


def _text(value, limit: int | None = 80) -> str:
    """Text from a file for the screen: control characters escaped, then markup escaped."""
    return escape(escape_text(value, limit))


def save_line(info: SaveInfo) -> str:
    try:
        equity = "—" if info.equity_usd is None else f"${float(info.equity_usd):,.0f}"
    except (TypeError, ValueError, OverflowError):
        equity = "—"
    kind = " [dim](autosave)[/dim]" if info.autosave else ""
    mark = (f"\n  [b $text-warning]modified[/]: [dim]{_text(info.modified, 160)}[/dim]"
            if info.modified else "")
    return (f"[b]{_text(info.level, 60)}[/b] · {_text(info.role, 20)} · {_text(info.clock[:5], 8)}"
            f" HKT · equity {equity}{kind}\n  [dim]{_text(info.path.name, 120)}[/dim]{mark}")


class LoadScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, saves_dir: Path):
        super().__init__(classes="dialog")
        self.saves_dir = Path(saves_dir)
        self.rows = list_saves(self.saves_dir)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(f"[b]Saved games[/b] in {_text(str(self.saves_dir), None)}",
                         markup=True)
            if self.rows:
                yield OptionList(*self._options(), id="saves")
            else:
                yield Static("No saves yet: the floor autosaves every 5 sim-minutes.")
            yield Static("[dim]enter loads · esc goes back[/dim]", markup=True)

    def _options(self) -> list[Option]:
        out = []
        for i, row in enumerate(self.rows):
            if isinstance(row, SaveInfo):
                out.append(Option(save_line(row), id=str(i)))
            else:
                out.append(Option(f"[dim]{_text(row[0].name, 120)}: unreadable "
                                  f"({_text(row[1], 300)})[/dim]", id=str(i), disabled=True))
        return out

    def on_mount(self) -> None:
        if self.rows:
            self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        row = self.rows[int(event.option.id)]
        if isinstance(row, SaveInfo):
            self.dismiss(row.path)
