"""Small modal choices on the floor: how much to reduce, how to move margin."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.markup import escape
from textual.widgets import Button, Label

from .. import fmt
from ..trading import MARGIN_STEPS_USD, REDUCE_FRACTIONS


def _k(usd: int) -> str:
    return f"${usd // 1000:,}k"


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
    """Add or withdraw isolated margin, or switch the symbol between cross and isolated."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back"),
                Binding("t", "choose('mode', 0)", "Switch mode"),
                *(Binding(str(k + 1), f"choose('add', {usd})", f"Add {fmt.usd_short(usd)}")
                  for k, usd in enumerate(MARGIN_STEPS_USD)),
                *(Binding(str(k + 4), f"choose('withdraw', {usd})",
                          f"Withdraw {fmt.usd_short(usd)}")
                  for k, usd in enumerate(MARGIN_STEPS_USD))]

    def __init__(self, symbol: str, position):
        super().__init__(classes="dialog")
        self.symbol = symbol
        self.position = position

    def compose(self) -> ComposeResult:
        p = self.position
        mode = "cross" if p is None else p.margin_mode
        other = "isolated" if mode == "cross" else "cross"
        held = "no position" if p is None else (
            f"{p.side} · {mode} margin" + (f" · {fmt.usd(p.isolated_margin)} isolated"
                                          if mode == "isolated" else ""))
        with Vertical(classes="dialog-box"):
            yield Label(f"Margin: {self.symbol} ({held})", classes="dialog-title")
            with Grid(classes="dialog-buttons"):
                for k, usd in enumerate(MARGIN_STEPS_USD):
                    yield Button(escape(f"[{k + 1}] add {_k(usd)}"), id=f"add-{usd}")
                for k, usd in enumerate(MARGIN_STEPS_USD):
                    yield Button(escape(f"[{k + 4}] withdraw {_k(usd)}"),
                                 id=f"withdraw-{usd}")
                yield Button(escape(f"[t] → {other}"), id="mode-0")
            yield Label("add/withdraw: isolated positions only · switch: only with no position "
                        "or orders in the symbol · esc: back", classes="dialog-hint")

    def action_choose(self, verb: str, usd: int) -> None:
        self.dismiss((verb, usd))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        verb, usd = event.button.id.split("-")
        self.action_choose(verb, int(usd))
