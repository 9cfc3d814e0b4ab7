"""The floor's trading keys: the hedger's orders, positions and margin, the maker's quoting desk.

``TradingActions`` is a mixin of ``FloorScreen``: each action reads the screen's input state
(symbol, ticket, quote ticket, the last snapshot) and sends its engine command(s) through
``FloorScreen.send``, which says why not when one cannot go. ``floor.py`` guards these handlers
like its own (an unexpected exception goes to ``app.floor_failed``).
"""

from __future__ import annotations

import dataclasses

from engine.commands import (AddMargin, CancelAll, CancelOrder, ClosePosition, PullQuotes,
                             RemoveMargin, SetMarginMode, SetQuotes)

from ..widgets.desk import DeskPanel
from ..widgets.orders import OrdersPanel


class TradingActions:
    """The hedger's and the maker's actions of ``FloorScreen`` (which role may use which is
    ``floor.role_allows``)."""

    # --- hedger actions ------------------------------------------------------------------------
    def action_buy_market(self) -> None:
        self.send(self.ticket.market(self.player, self.quote, "buy"), "buy")

    def action_sell_market(self) -> None:
        self.send(self.ticket.market(self.player, self.quote, "sell"), "sell")

    def action_buy_limit(self) -> None:
        self.send(self.ticket.limit(self.player, self.quote, "buy"), "place a limit buy")

    def action_sell_limit(self) -> None:
        self.send(self.ticket.limit(self.player, self.quote, "sell"), "place a limit sell")

    def action_size(self, index: int) -> None:
        self.ticket.choose_size(index)
        self.query_one(OrdersPanel).ticket = self.ticket
        self.notify(self.ticket.describe(), title="Ticket", timeout=2)
        self.sync()

    def action_offset(self, by: int) -> None:
        self.ticket.shift_offset(by)
        self.notify(self.ticket.describe(), title="Ticket", timeout=2)
        self.sync()

    def action_next_order(self) -> None:
        if self.model.select_next_order(self.symbol) is None:
            self.notify(f"You have no resting {self.symbol} orders.", title="No order to select",
                        severity="warning")
        self.sync()

    def _selected_order(self, what: str):
        order = self.model.selected()
        if order is None:
            orders = self.model.own_orders(self.symbol)
            order = orders[-1] if orders else None
        if order is None:
            self.notify(f"You have no resting {self.symbol} orders (B/S place limit orders).",
                        title=f"Nothing to {what}", severity="warning")
        return order

    def action_amend(self) -> None:
        order = self._selected_order("amend")
        if order is not None:
            quote = self.snapshot.quote(order.symbol)
            self.send(self.ticket.amend(self.player, quote, order), "amend")

    def action_cancel(self) -> None:
        order = self._selected_order("cancel")
        if order is not None:
            self.send(CancelOrder(self.player, order.oid), "cancel")

    def action_cancel_all(self) -> None:
        if not self.model.own_orders():
            self.notify("You have no resting orders.", title="Nothing to cancel",
                        severity="warning")
            return
        self.send(CancelAll(self.player), "cancel all")

    def action_reduce(self) -> None:
        from .dialogs import ReduceDialog
        self._ask(ReduceDialog(self.symbol), self.reduce)

    def reduce(self, fraction: str) -> None:
        self.send(ClosePosition(self.player, self.symbol, fraction),
                  f"reduce {self.symbol}")

    def action_close_all(self) -> None:
        held = [p.symbol for p in self.snapshot.positions]
        if not held:
            self.notify("You hold no positions.", title="Nothing to close", severity="warning")
        for symbol in held:
            self.send(ClosePosition(self.player, symbol, "1"), f"close {symbol}")

    def action_work_close(self) -> None:
        """Work the selected position's close: a reduce-only market close every step until it
        is flat (what a thin book leaves open is tried again), or until W again."""
        sym, working = self.symbol, self.model.working
        if sym in working:
            working.discard(sym)
            self.notify(f"Stopped working the {sym} close.", title="Close", timeout=3)
        elif self.snapshot.position(sym) is None:
            self.notify(f"You hold no {sym} position.", title="Nothing to close",
                        severity="warning")
        elif self.model.replay is not None:
            self.send("This is a replay: the recorded session's orders play by themselves.",
                      "work the close")
        else:
            working.add(sym)
            self.notify(f"Working the {sym} close: a market close every step until flat "
                        f"(W again stops).", title="Close", timeout=4)
        self.sync()

    def action_margin(self) -> None:
        from .dialogs import MarginDialog
        pos = self.snapshot.position(self.symbol)
        self._ask(MarginDialog(self.symbol, pos), lambda choice: self.margin(*choice))

    def margin(self, verb: str, usd: int | str = 0) -> None:
        if verb == "add":
            self.send(AddMargin(self.player, self.symbol, str(usd)), "add margin")
        elif verb == "withdraw":
            self.send(RemoveMargin(self.player, self.symbol, str(usd)), "withdraw margin")
        else:
            pos = self.snapshot.position(self.symbol)
            mode = "cross" if pos is not None and pos.margin_mode == "isolated" else "isolated"
            mode = verb if verb in ("cross", "isolated") else mode
            self.send(SetMarginMode(self.player, self.symbol, mode), f"switch to {mode}")

    def _ask(self, dialog, then) -> None:
        """Show ``dialog`` with the clock stopped; when it closes, the clock runs again (if it
        ran before) and ``then`` gets what it returned (not None: nothing was chosen)."""
        was_running = not self.pacer.paused
        if was_running:
            self.pacer.toggle_pause()
            self.sync()

        def done(result) -> None:
            if was_running and self.pacer.paused and not self.model.sim.finished:
                self.pacer.toggle_pause()
            if result is not None:
                then(result)
            self.sync()
        self.app.push_screen(dialog, done)

    def _sender(self, what: str):
        return lambda command: self.send(command, what)

    def action_ticket(self) -> None:
        from .ticket import TicketDialog
        lev, mmr = self.model.ticket_terms(self.symbol)
        pos = self.snapshot.position(self.symbol)
        self._ask(TicketDialog(self.player, self.quote, lev, mmr,
                               float(pos.qty) if pos is not None else 0.0),
                  self._sender("send the order"))

    def action_transfer(self) -> None:
        from .ticket import TransferDialog
        if self.snapshot.spot_usd is None:
            self.notify("This level gives you no spot wallet (player.spot_usd).",
                        title="Nothing to transfer", severity="warning")
            return
        acc = self.snapshot.account
        self._ask(TransferDialog(self.player, self.snapshot.spot_usd,
                                 float(acc.available) if acc is not None else 0.0),
                  self._sender("transfer"))

    # --- maker actions -------------------------------------------------------------------------
    def _settings(self):
        """The desk's settings as the player last set them: the last snapshot's (not the live
        desk's), with what keys sent since and the exchange has not applied yet laid over it,
        so ``] ] ]`` pressed within one step widens three times, not once."""
        sent_at, overlay = self._quotes_sent
        if sent_at is not None and self.model.sim.t > sent_at and not self.staged:
            self._quotes_sent = (None, {})
            overlay = {}
        return dataclasses.replace(self.snapshot.desk, **overlay) if overlay else \
            self.snapshot.desk

    def _send_quotes(self, command: SetQuotes, what: str) -> None:
        if self.send(command, what):
            _, overlay = self._quotes_sent
            changed = {f.name: getattr(command, f.name) for f in dataclasses.fields(command)
                       if f.name != "account" and getattr(command, f.name) is not None}
            self._quotes_sent = (self.model.sim.t, {**overlay, **changed})

    def action_toggle_quoting(self) -> None:
        on = not self._settings().quoting
        self._send_quotes(SetQuotes(self.player, quoting=on),
                          "start quoting" if on else "stop quoting")

    def action_pull(self) -> None:
        if self.send(PullQuotes(self.player), "pull quotes"):
            _, overlay = self._quotes_sent
            self._quotes_sent = (self.model.sim.t, {**overlay, "quoting": False})

    def action_edit_side(self) -> None:
        side = self.quote_ticket.next_side()
        self.query_one(DeskPanel).editing = side
        self.sync()

    def action_spread(self, by: int) -> None:
        self._send_quotes(self.quote_ticket.spread(self.player, self._settings(), by),
                          "change spread")

    def action_quote_size(self, by: int) -> None:
        self._send_quotes(self.quote_ticket.size(self.player, self._settings(), by),
                          "change size")

    def action_skew(self) -> None:
        self._send_quotes(SetQuotes(self.player, skew=not self._settings().skew),
                          "switch skew")
