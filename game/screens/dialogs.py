"""Small modal choices on the floor: how much to reduce, how to move margin."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.markup import escape
from textual.widgets import Button, Label

from .. import fmt
from ..trading import REDUCE_FRACTIONS


class ReduceDialog(ModalScreen[str | None]):
    """Reduce the selected position by 25%, 50% or all of it (reduce-only market order)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back"),
                *(Binding(str(k + 1), f"choose({k})", f"{float(f):.0%}")
                  for k, f in enumerate(REDUCE_FRACTIONS))]

    def __init__(self, symbol: str):
        super().__init__(classes="dialog")
        self.symbol = symbol

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(f"Reduce your {self.symbol} position", classes="dialog-title")
            with Grid(classes="dialog-buttons"):
                for k, f in enumerate(REDUCE_FRACTIONS):
                    label = "close 100%" if f == "1" else f"{float(f):.0%}"
                    yield Button(escape(f"[{k + 1}] {label}"), id=f"reduce-{k}")
            yield Label("reduce-only market order · esc: back", classes="dialog-hint")

    def action_choose(self, k: int) -> None:
        self.dismiss(REDUCE_FRACTIONS[k])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(int(event.button.id.split("-")[1]))


class MarginDialog(ModalScreen[tuple | None]):
    """Add or withdraw a typed amount of isolated margin (the most allowed now shown, ``max``
    takes it all), or switch the symbol between cross and isolated."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back"),
                Binding("a", "verb('add')", "Add"),
                Binding("w", "verb('withdraw')", "Withdraw"),
                Binding("t", "mode", "Switch mode")]

    def __init__(self, symbol: str, position):
        super().__init__(classes="dialog")
        self.symbol = symbol
        self.position = position
        self.verb: str | None = None
        p = position
        self.isolated = p is not None and p.margin_mode == "isolated" and p.lots != 0
        self.most = {"add": float(p.margin_addable) if self.isolated else 0.0,
                     "withdraw": float(p.margin_removable) if self.isolated else 0.0}

    def compose(self) -> ComposeResult:
        from textual.widgets import Input
        p = self.position
        mode = "cross" if p is None else p.margin_mode
        other = "isolated" if mode == "cross" else "cross"
        held = "no position" if p is None or p.lots == 0 else (
            f"{p.side} · {mode} margin" + (f" · {fmt.usd(p.isolated_margin)} isolated"
                                          if mode == "isolated" else ""))
        with Vertical(classes="dialog-box"):
            yield Label(f"Margin: {self.symbol} ({held})", classes="dialog-title")
            if self.isolated:
                source = "what the futures wallet has available" if self.most["add"] > 0 \
                    else "nothing is available: t moves spot money into futures first"
                yield Label(f"add up to {fmt.usd(self.most['add'])} ({source}) · withdraw up "
                            f"to {fmt.usd(self.most['withdraw'])} (the position keeps its "
                            f"initial margin)", classes="dialog-hint")
            else:
                yield Label("Only an isolated position has its own margin to add to or "
                            "withdraw; a cross position uses the whole futures wallet.",
                            classes="dialog-hint")
            with Grid(classes="dialog-buttons"):
                yield Button(escape("[a] add"), id="verb-add", disabled=not self.isolated)
                yield Button(escape("[w] withdraw"), id="verb-withdraw",
                             disabled=not self.isolated)
                yield Button(escape(f"[t] → {other}"), id="mode")
            yield Input(placeholder="USD, or max", id="margin-usd", disabled=True)
            yield Label("", id="margin-note", classes="dialog-hint")
            yield Label("a/w then an amount and enter · switch: only with no position or orders "
                        "in the symbol · esc: back", classes="dialog-hint")

    def action_verb(self, verb: str) -> None:
        from textual.widgets import Input
        if not self.isolated:
            self._say(f"{self.symbol} has no isolated position: nothing to {verb}.")
            return
        self.verb = verb
        box = self.query_one("#margin-usd", Input)
        box.disabled = False
        box.placeholder = f"USD to {verb}, at most {fmt.usd(self.most[verb])}, or max"
        box.focus()
        self._say(f"{verb}: type an amount (at most {fmt.usd(self.most[verb])}) and press enter")

    def action_mode(self) -> None:
        self.dismiss(("mode", 0))

    def _say(self, text: str) -> None:
        self.query_one("#margin-note", Label).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "mode":
            self.action_mode()
        else:
            self.action_verb(event.button.id.split("-")[1])

    def on_input_submitted(self, event) -> None:
        from .ticket import _number
        verb = self.verb or "add"
        most = self.most[verb]
        text = event.value.strip().lower()
        amount = _number(f"{most:.2f}" if text == "max" else text, "amount")
        if isinstance(amount, str):
            self._say(amount)
            return
        if float(amount) > most + 1e-9:
            self._say(f"{verb}: at most {fmt.usd(most)} now")
            return
        self.dismiss((verb, str(amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN))))
