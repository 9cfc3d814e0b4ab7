"""The title screen: the shipped levels (title, role, difficulty, summary), Continue (the latest
autosave), the saved games, help and quit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import LevelError
from engine.level import level_names, load_level

from ..widgets.too_small import TooSmall

BANNER = """\
 ┏━╸┏━┓┏━┓┏━┓╻ ╻┏━╸╻  ┏━┓┏━┓┏━┓
 ┃  ┣┳┛┣━┫┗━┓┣━┫┣╸ ┃  ┃ ┃┃ ┃┣┳┛
 ┗━╸╹┗╸╹ ╹┗━┛╹ ╹╹  ┗━╸┗━┛┗━┛╹┗╸"""

ABOUT = """\
[b]crashfloor[/b] puts you on the trading floor of a crypto derivatives exchange during the crash \
of 10–11 October 2025, 04:00–05:35 Hong Kong time. Play the [b]hedged trader[/b], whose \
profitable hedge is auto-deleveraged out from under them, or the [b]market maker[/b], who can \
keep quoting into the cascade or pull out like everyone else.

Pick a level and press enter; [b]r[/b] switches the role you play; [b]c[/b] continues your last \
game, [b]l[/b] lists your saves. On the floor, [b]?[/b] lists every key and [b]ctrl+p[/b] finds \
any action by name."""


@dataclass(frozen=True)
class LevelEntry:
    name: str
    title: str
    role: str
    difficulty: str
    summary: str
    level: object | None      # None when the file does not validate


def level_entries(levels_dir: Path, overrides: list[str] = ()) -> list[LevelEntry]:
    out = []
    for name in level_names(levels_dir):
        try:
            level = load_level(Path(levels_dir) / f"{name}.toml", list(overrides))
        except LevelError as error:
            out.append(LevelEntry(name, "(invalid level)", "—", "—", error.problems[0], None))
            continue
        d = level.data
        out.append(LevelEntry(name, d["title"], d["player"]["role"], d["difficulty"],
                              d["summary"], level))
    return sorted(out, key=lambda e: (e.level.data["order"] if e.level else 100, e.name))


class TitleScreen(Screen):
    BINDINGS = [Binding("enter", "play", "Play", show=False),
                Binding("r", "switch_role", "Switch role"),
                Binding("c", "continue", "Continue"),
                Binding("l", "load", "Load"),
                Binding("question_mark", "about", "Help", key_display="?"),
                Binding("q", "app.quit", "Quit")]

    def __init__(self, levels_dir: Path, overrides: list[str] = (), saves_dir: Path | None = None):
        super().__init__()
        self.entries = level_entries(levels_dir, overrides)
        self.role_override: str | None = None
        self.saves_dir = saves_dir

    def compose(self) -> ComposeResult:
        yield Static(BANNER, id="banner")
        yield Static("the crypto crash of 10–11 October 2025 · 04:00–05:35 HKT", id="tagline")
        yield OptionList(*self._options(), id="levels")
        yield Static("", id="role-line")
        yield Static(ABOUT, id="about", markup=True)
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self._show_role()
        self.query_one(OptionList).focus()

    def _options(self) -> list[Option]:
        options = []
        for e in self.entries:
            text = (f"[b]{escape(e.name)}[/b]  {escape(e.title)}  [$text-accent]{e.role}[/] · "
                    f"[$text-warning]{e.difficulty}[/]\n  [dim]{escape(e.summary)}[/dim]")
            options.append(Option(text, id=e.name, disabled=e.level is None))
        return options

    def _entry(self) -> LevelEntry | None:
        index = self.query_one(OptionList).highlighted
        return None if index is None else self.entries[index]

    def _role(self, entry: LevelEntry) -> str:
        return self.role_override or (entry.role if entry.role in ("hedger", "maker")
                                      else "hedger")

    def _show_role(self) -> None:
        entry = self._entry()
        line = self.query_one("#role-line", Static)
        if entry is None or entry.level is None:
            line.update("")
            return
        role = self._role(entry)
        name = "the hedged trader" if role == "hedger" else "the market maker"
        line.update(f"You play [b]{name}[/b] ([b]r[/b] switches role) · enter: briefing")

    def on_option_list_option_highlighted(self) -> None:
        self._show_role()

    def on_option_list_option_selected(self) -> None:
        self.action_play()

    def action_switch_role(self) -> None:
        entry = self._entry()
        if entry is not None:
            self.role_override = "maker" if self._role(entry) == "hedger" else "hedger"
            self._show_role()

    def action_play(self) -> None:
        entry = self._entry()
        if entry is None or entry.level is None:
            self.notify("Pick a valid level first.", severity="warning")
            return
        self.app.show_briefing(entry.name, self._role(entry))

    def latest_autosave(self):
        """The newest readable autosave (``SaveInfo``), or None."""
        from engine.saves import SaveInfo, list_saves
        if self.saves_dir is None:
            return None
        return next((r for r in list_saves(self.saves_dir)
                     if isinstance(r, SaveInfo) and r.autosave), None)

    def action_continue(self) -> None:
        latest = self.latest_autosave()
        if latest is None:
            self.notify("No autosave yet: play a level first.", title="Nothing to continue",
                        severity="warning")
            return
        self.app.resume(latest.path)

    def action_load(self) -> None:
        from .load import LoadScreen
        if self.saves_dir is not None:
            self.app.push_screen(LoadScreen(self.saves_dir), self._load_chosen)

    def _load_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.app.resume(path)

    def action_about(self) -> None:
        from .floor import key_rows
        from .help import HelpScreen
        rows = [("enter", "Briefing, then the floor"), ("r", "Switch role"),
                ("c", "Continue the last game"), ("l", "Load a saved game"), ("q", "Quit")]
        floor = "\n".join(f"  [b]{k:>10}[/b]  {w}" for k, w in key_rows(False))
        maker = "\n".join(f"  [b]{k:>10}[/b]  {w}" for k, w in key_rows(True)
                          if (k, w) not in key_rows(False))
        self.app.push_screen(HelpScreen("Title screen", rows,
                                        f"{ABOUT}\n\n[b]On the floor, as the hedger[/b]\n{floor}"
                                        f"\n\n[b]As the market maker, instead[/b]\n{maker}"))
