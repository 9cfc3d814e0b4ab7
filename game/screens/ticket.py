"""The order ticket and the transfer dialog: typed prices and sizes, every order type.

``TicketDialog`` builds one engine command — ``PlaceOrder`` (market or limit) or
``PlaceTrigger`` (stop-market, stop-limit, take-profit) — from what the player types, and shows
before sending what it would cost: notional, the initial margin at the symbol's leverage, and the
liquidation price of the order as a position of its own (isolated at that leverage; a cross
position's depends on the whole account). ``TransferDialog`` moves money between the spot wallet
and the futures account. Both are modal; the floor stops the clock while they are open.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from engine.commands import PlaceOrder, PlaceTrigger, Transfer

from .. import fmt

ORDER_TYPES = (("market", "market"), ("limit", "limit"), ("stop-market", "stop"),
               ("stop-limit", "stop_limit"), ("take-profit (market)", "take_profit"))
"""(label, value) of the ticket's order types."""
TIME_IN_FORCE = (("good till cancelled", "gtc"), ("post-only (maker or nothing)", "post_only"),
                 ("IOC (fill now, cancel the rest)", "ioc"), ("FOK (all now or nothing)", "fok"))
"""(label, value) of a limit order's time in force."""


def _number(text: str, what: str) -> Decimal | str:
    """A positive number typed by the player, or what is wrong with it."""
    try:
        value = Decimal(text.replace(",", "").replace("_", "").strip())
    except InvalidOperation:
        return f"{what}: type a number, e.g. 95000"
    if not value.is_finite() or value <= 0:
        return f"{what}: must be above zero"
    return value


def build_order(account: int, symbol: str, side: str, kind: str, size: str, in_usd: bool,
                price: str, trigger: str, reduce_only: bool, tif: str = "gtc",
                leverage: str = "") -> PlaceOrder | PlaceTrigger | str:
    """The command the ticket sends, or a one-line reason it cannot (the dialog shows it).
    ``tif`` (gtc, post_only, ioc, fok) is a limit order's; ``leverage`` (whole, blank: as it
    is) goes with a market or limit order and sets the symbol's leverage as it is placed."""
    lev = _leverage(leverage)
    if isinstance(lev, str):
        return lev
    amount = _number(size, "size")
    if isinstance(amount, str):
        return amount
    if in_usd and amount != amount.to_integral_value():
        return "size in USD: whole dollars"
    sized = {"usd": int(amount)} if in_usd else {"qty": str(amount)}
    limit = None
    if kind in ("limit", "stop_limit"):
        limit = _number(price, "limit price")
        if isinstance(limit, str):
            return limit
    if kind == "market":
        return PlaceOrder(account, symbol, side, price=None, tif="ioc", reduce_only=reduce_only,
                          leverage=lev, **sized)
    if kind == "limit":
        return PlaceOrder(account, symbol, side, price=str(limit), tif=tif,
                          reduce_only=reduce_only, leverage=lev, **sized)
    level = _number(trigger, "trigger price")
    if isinstance(level, str):
        return level
    return PlaceTrigger(account, symbol, side, "take_profit" if kind == "take_profit" else "stop",
                        str(level), price=None if limit is None else str(limit),
                        reduce_only=reduce_only, **sized)


def _leverage(text: str) -> int | None | str:
    """The typed leverage: None when blank, else a whole number from 1, or what is wrong."""
    text = text.strip().removesuffix("×").removesuffix("x")
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        return f"leverage: a whole number from 1, got {text!r}"
    return int(text)


def preview(quote, leverage: int, side: str, kind: str, size: str, in_usd: bool, price: str,
            trigger: str, mmr: float) -> str:
    """Notional, initial margin and the liquidation price of the order as an isolated position
    of its own, at the price it would fill at (the limit, else the trigger, else the mark)."""
    amount = _number(size, "size")
    ref = None
    for text in ((price,) if kind in ("limit", "stop_limit") else ()) + \
            ((trigger,) if kind in ("stop", "stop_limit", "take_profit") else ()):
        value = _number(text, "price")
        if not isinstance(value, str):
            ref = float(value)
            break
    ref = ref or quote.mark or quote.last
    if isinstance(amount, str) or not ref:
        return amount if isinstance(amount, str) else "no price yet"
    notional = float(amount) if in_usd else float(amount) * ref
    margin = notional / max(leverage, 1)
    sign = 1 if side == "buy" else -1
    liq = ref * (1 - sign / max(leverage, 1)) / (1 - sign * mmr)
    return (f"≈ {fmt.usd(notional)} notional · initial margin {fmt.usd(margin)} at {leverage}× · "
            f"liquidation ≈ {fmt.price(max(liq, 0), quote.decimals)} if isolated")


class TicketDialog(ModalScreen[object]):
    """Side, type, size (coins or USD), limit and trigger prices, a limit's time in force
    (post-only, IOC, FOK), the leverage, reduce-only; enter sends."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back"),
                Binding("ctrl+b", "side('buy')", "Buy"), Binding("ctrl+s", "side('sell')", "Sell")]

    def __init__(self, account: int, quote, leverage: int, mmr: float, position_qty: float = 0):
        super().__init__(classes="dialog")
        self.account, self.quote, self.leverage, self.mmr = account, quote, leverage, mmr
        self.side = "sell" if position_qty > 0 else "buy"
        self.position_qty = position_qty

    def compose(self) -> ComposeResult:
        q = self.quote
        with Vertical(classes="dialog-box ticket"):
            yield Label(self._title(), id="ticket-title", classes="dialog-title")
            with Horizontal(classes="ticket-row"):
                yield Select(ORDER_TYPES, value="market", allow_blank=False, id="ticket-type")
                yield Checkbox("reduce-only", value=self.position_qty != 0, id="ticket-reduce")
            with Horizontal(classes="ticket-row"):
                yield Input(placeholder=f"size in {q.symbol}", id="ticket-size")
                yield Checkbox("size in USD", id="ticket-usd")
            with Horizontal(classes="ticket-row"):
                yield Input(placeholder="limit price", id="ticket-price")
                yield Input(placeholder="trigger price", id="ticket-trigger")
            with Horizontal(classes="ticket-row"):
                yield Select(TIME_IN_FORCE, value="gtc", allow_blank=False, id="ticket-tif")
                yield Input(placeholder=f"leverage: {self.leverage}×", id="ticket-leverage",
                            classes="ticket-leverage")
            yield Label("", id="ticket-preview", classes="dialog-hint")
            with Horizontal(classes="ticket-row"):
                yield Button("Send", id="ticket-send", variant="primary")
                yield Button("Buy ⇄ Sell", id="ticket-flip")
            yield Label("enter: send · ctrl+b / ctrl+s: side · esc: back", classes="dialog-hint")

    def _title(self) -> str:
        q = self.quote
        mark = fmt.price(q.mark, q.decimals) if q.mark else "—"
        return f"{self.side.upper()} {q.symbol} · mark {mark} · leverage now {self.leverage}×"

    def on_mount(self) -> None:
        self.query_one("#ticket-size", Input).focus()
        self._refresh()

    def _values(self) -> dict:
        return dict(side=self.side, kind=str(self.query_one("#ticket-type", Select).value),
                    size=self.query_one("#ticket-size", Input).value,
                    in_usd=self.query_one("#ticket-usd", Checkbox).value,
                    price=self.query_one("#ticket-price", Input).value,
                    trigger=self.query_one("#ticket-trigger", Input).value,
                    tif=str(self.query_one("#ticket-tif", Select).value),
                    leverage=self.query_one("#ticket-leverage", Input).value)

    def _refresh(self) -> None:
        v = self._values()
        self.query_one("#ticket-title", Label).update(self._title())
        self.query_one("#ticket-price", Input).disabled = v["kind"] not in ("limit", "stop_limit")
        self.query_one("#ticket-trigger", Input).disabled = v["kind"] in ("market", "limit")
        self.query_one("#ticket-tif", Select).disabled = v["kind"] != "limit"
        self.query_one("#ticket-leverage", Input).disabled = v["kind"] not in ("market", "limit")
        lev = _leverage(v.pop("leverage"))
        v.pop("tif")
        if isinstance(lev, str):
            text = lev
        else:
            text = preview(self.quote, lev or self.leverage, mmr=self.mmr, **v) if v["size"] \
                else "type a size"
        self.query_one("#ticket-preview", Label).update(text)

    def on_input_changed(self, _event) -> None:
        self._refresh()

    def on_select_changed(self, _event) -> None:
        self._refresh()

    def on_checkbox_changed(self, _event) -> None:
        self._refresh()

    def action_side(self, side: str) -> None:
        self.side = side
        self._refresh()

    def on_input_submitted(self, _event) -> None:
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ticket-flip":
            self.action_side("sell" if self.side == "buy" else "buy")
        else:
            self.action_send()

    def action_send(self) -> None:
        v = self._values()
        command = build_order(self.account, self.quote.symbol, v["side"], v["kind"], v["size"],
                              v["in_usd"], v["price"], v["trigger"],
                              self.query_one("#ticket-reduce", Checkbox).value, v["tif"],
                              v["leverage"])
        if isinstance(command, str):
            self.query_one("#ticket-preview", Label).update(command)
            return
        self.dismiss(command)


class TransferDialog(ModalScreen[object]):
    """Move USD between the spot wallet and the futures account; enter sends."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Back"),
                Binding("ctrl+t", "flip", "Direction")]

    def __init__(self, account: int, spot_usd: float, available_usd: float):
        super().__init__(classes="dialog")
        self.account, self.spot, self.available = account, spot_usd, available_usd
        self.to = "futures"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self._title(), id="transfer-title", classes="dialog-title")
            yield Label(f"spot wallet {fmt.usd(self.spot)} · futures available "
                        f"{fmt.usd(self.available)}", classes="dialog-hint")
            yield Input(placeholder="USD, e.g. 250000", id="transfer-usd")
            yield Label("", id="transfer-note", classes="dialog-hint")
            yield Label("enter: transfer · ctrl+t: direction · esc: back", classes="dialog-hint")

    def _title(self) -> str:
        return "Transfer: spot → futures" if self.to == "futures" else \
            "Transfer: futures → spot"

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._note()

    def _note(self) -> None:
        most = self.spot if self.to == "futures" else max(self.available, 0)
        self.query_one("#transfer-note", Label).update(f"at most {fmt.usd(most)}")

    def action_flip(self) -> None:
        self.to = "spot" if self.to == "futures" else "futures"
        self.query_one("#transfer-title", Label).update(self._title())
        self._note()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        amount = _number(event.value, "amount")
        if isinstance(amount, str):
            self.query_one("#transfer-note", Label).update(amount)
            return
        self.dismiss(Transfer(self.account, str(amount), self.to))
