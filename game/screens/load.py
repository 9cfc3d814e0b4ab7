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

from engine.save import SaveInfo, list_saves


def save_line(info: SaveInfo) -> str:
    equity = "—" if info.equity_usd is None else f"${info.equity_usd:,.0f}"
    kind = " [dim](autosave)[/dim]" if info.autosave else ""
    return (f"[b]{escape(info.level)}[/b] · {info.role} · {info.clock[:5]} HKT · equity "
            f"{equity}{kind}\n  [dim]{escape(info.path.name)}[/dim]")


class LoadScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, saves_dir: Path):
        super().__init__(classes="dialog")
        self.saves_dir = Path(saves_dir)
        self.rows = list_saves(self.saves_dir)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(f"[b]Saved games[/b] in {escape(str(self.saves_dir))}", markup=True)
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
                out.append(Option(f"[dim]{escape(row[0].name)}: unreadable ({escape(row[1])})"
                                  "[/dim]", id=str(i), disabled=True))
        return out

    def on_mount(self) -> None:
        if self.rows:
            self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        row = self.rows[int(event.option.id)]
        if isinstance(row, SaveInfo):
            self.dismiss(row.path)
