"""The briefing: the level's story, the starting portfolio or quoting mandate, and the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Button, Footer, RadioButton, RadioSet, Static

from .. import fmt
from ..widgets.too_small import TooSmall


def portfolio_text(level) -> str:
    """The hedger's starting positions, or the maker's mandate."""
    player = level.data["player"]
    if player["role"] == "maker":
        from engine.agents.player_maker import QuoteSettings
        q = QuoteSettings()
        sym = player.get("maker_symbol") or level.symbols[0]
        text = (f"[b]Your mandate[/b]: make a market in [b]{sym}[/b] with "
                f"{fmt.usd(player['equity_usd'])} of capital. Your desk quotes {q.levels} levels "
                f"a side around the mark ({q.bid_spread_bps:g} bps away, "
                f"{fmt.usd_short(q.bid_size_usd)} a level, skewed against your inventory).")
        rebate = player.get("maker_rebate_bps") or 0
        if rebate:
            text += f" The exchange pays you a {rebate:g} bps rebate on your maker volume."
        duty = player.get("obligations") or {}
        if duty.get("enabled"):
            return text + (
                f" [b]You are a designated market maker[/b]: for at least "
                f"{duty['min_uptime_pct']:g}% of every minute you must quote both sides at most "
                f"{duty['max_spread_bps']:g} bps apart with at least "
                f"{fmt.usd(duty['min_depth_usd'])} within 1% of the mark; a minute that misses "
                f"forfeits its rebate and costs {fmt.usd(duty['penalty_usd_per_minute'])}. "
                f"Pulling is yours to choose, but every minute out is paid for.")
        return text + (" Nobody obliges you to stay: quote, widen, or pull — and watch what the "
                       "book does without you.")
    lines = [f"[b]Your portfolio[/b]: {fmt.usd(player['equity_usd'])} of equity"]
    for p in player["positions"]:
        lines.append(f"  • {p['side']} {p['symbol']} {fmt.usd(p['notional_usd'])} notional, "
                     f"{p['leverage']}× leverage, {p['margin']} margin")
    if not player["positions"]:
        lines.append("  • no positions: you start flat")
    return "\n".join(lines)


def objectives_text(data: dict) -> str:
    """What the level asks, with the weights and the stars."""
    from engine.objectives import describe
    goals = data.get("objectives") or []
    if not goals:
        return "[b]Objectives[/b]: none — free play; the debrief tells what happened."
    total = sum(g["weight"] for g in goals) or 1
    lines = ["[b]Objectives[/b]"]
    for g in goals:
        lines.append(f"  • {escape(describe(g))}  [dim]({g['weight'] / total:.0%} of the "
                     f"score)[/dim]")
    sc = data["scoring"]
    lines.append(f"  Stars at {sc['star1']}, {sc['star2']} and {sc['star3']} points; par "
                 f"{sc['par']}.")
    return "\n".join(lines)


def story(text: str) -> str:
    """The briefing's paragraphs, each re-flowed onto one line (the screen wraps them)."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def keys_text(maker: bool) -> str:
    from .floor import key_rows
    return "[b]Keys[/b]\n" + "\n".join(f"  [b]{keys:>9}[/b]  {what}"
                                        for keys, what in key_rows(maker))


class BriefingScreen(Screen):
    """Before play (``Start`` opens the floor) or, with ``overlay``, a reminder from the floor."""

    BINDINGS = [Binding("enter", "start", "Start"), Binding("s", "start", "Start", show=False),
                Binding("escape", "back", "Back")]

    def __init__(self, level, *, overlay: bool = False):
        super().__init__()
        self.level = level
        self.overlay = overlay
        self.variants = [] if overlay else list(level.data["variants"])
        self.choice = next((k for k, v in enumerate(self.variants)
                            if v["name"] == "as-is" or not v["set"]), 0)
        """The variant chosen: the level as it is (a variant that changes nothing) by default."""

    def compose(self) -> ComposeResult:
        data = self.level.data
        maker = data["player"]["role"] == "maker"
        role = "the market maker" if maker else "the hedged trader"
        with VerticalScroll(id="briefing"):
            yield Static(f"[b]{escape(data['title'])}[/b] · you play {role} · "
                         f"{data['difficulty']}", id="briefing-title")
            yield Static(escape(story(data["briefing"]) or data["summary"]),
                         classes="briefing-story")
            yield Static(portfolio_text(self.level), classes="briefing-section")
            if self.variants:
                yield Static("[b]Choose the market's rules[/b] (↑↓ and enter, then [b]s[/b] "
                             "to start)", classes="briefing-section")
                with RadioSet(id="variants"):
                    for k, v in enumerate(self.variants):
                        yield RadioButton(v["label"] or v["name"], value=k == self.choice)
            yield Static(objectives_text(data), classes="briefing-section")
            yield Static(keys_text(maker), classes="briefing-section")
        with Horizontal(id="briefing-buttons"):
            yield Button("Back to the floor" if self.overlay else "Start ⏎", id="start",
                         variant="primary")
            if not self.overlay:
                yield Button("Back", id="back")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        if self.variants:  # the picker has the keys: ↑↓ move, enter chooses, s starts
            picker = self.query_one(RadioSet)
            for _ in range(self.choice):  # its highlight starts on the chosen variant
                picker.action_next_button()
            picker.focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.choice = event.index

    def chosen_level(self):
        """The level with the chosen variant's overrides applied."""
        if not self.variants or not self.variants[self.choice]["set"]:
            return self.level
        from engine.level import load_level
        return load_level(self.level.path, list(self.level.overrides)
                          + list(self.variants[self.choice]["set"]))

    def action_start(self) -> None:
        if self.overlay:
            self.dismiss()
            return
        from engine.errors import LevelError
        try:
            level = self.chosen_level()
        except LevelError as exc:
            self.notify("\n".join(exc.problems), title="This variant does not load",
                        severity="error")
            return
        self.app.start_floor(level)

    def action_back(self) -> None:
        if self.overlay:
            self.dismiss()
        else:
            self.app.show_title()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_start() if event.button.id == "start" else self.action_back()
