"""What the player reads from the engine's events: the liquidation/ADL tape, the player's own
timeline (for the debrief), the news so far and the notifications a step raises.

``EventLog`` is a simulation listener (it reads each step's events, never changes state), so it
sees every step however the run is driven: the floor's timer, a test stepping by hand, or
``CrashRun.run``. Pure Python: no textual.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from collections.abc import Callable

from engine.commands import (AddMargin, AmendOrder, CancelAll, CancelOrder, ClosePosition,
                             CommandAccepted, CommandRejected, PlaceOrder, PlaceTrigger,
                             PullQuotes, RemoveMargin, SetMarginMode, SetQuotes, Transfer)
from engine.events import (AdlFill, DeskStopped, InsuranceTakeover, LiquidationFill,
                           LiquidationFinished, LiquidationStarted, MakerStateChange,
                           LossSocialized, MarketLiquidations, News, OrderTriggered, Trade)
from engine.units import MONEY_PER_USD

from . import fmt

TAPE_LENGTH = 300
SUMMARY_AT = 6
"""More forced closes than this of one kind, symbol and side in one step become one summary row
on the tape (the player's own stay rows of their own), so a step of hundreds of ADL fills is one
line, not three hundred that push everything else out."""
MARKET_NEWS_USD = 100_000_000
"""A minute of market-wide liquidations at least this large makes the ticker."""


@dataclass(frozen=True, slots=True)
class TapeEntry:
    """One forced close: a liquidation (with the tiers that took it) or an ADL'd position."""
    clock: int
    who: str
    symbol: str
    side: str          # the closed position: "long" or "short"
    qty: float
    price: float | None
    tier: str          # "book", "fund", "ADL", joined with "+" when several took a share
    kind: str          # "liquidation" or "adl"
    mine: bool
    note: str = ""
    count: int = 1
    """How many forced closes the row stands for (a summary row: more than one)."""


@dataclass(frozen=True, slots=True)
class Moment:
    """One line of the player's own timeline."""
    clock: int
    text: str
    kind: str          # action, fill, adl, liquidation, desk


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification for the floor: ``severity`` is information, warning or error."""
    message: str
    severity: str = "information"
    title: str = ""


@dataclass
class _Liquidation:
    clock: int
    side: int
    qty: int
    mark: int
    tiers: dict = field(default_factory=lambda: {"book": 0, "fund": 0, "ADL": 0})
    value: int = 0            # Σ price × lots of every fill, for the average price
    filled: int = 0
    adl_hits: int = 0


class EventLog:
    """Collects tape, timeline, news and notices from the events of every step."""

    def __init__(self, sim, player: int | None, name_of: Callable[[int], str]):
        ex = sim.exchange
        self._exchange = ex
        self.player = player
        self.name_of = name_of
        self.price_step = {sym: ex.instrument(sym).tick_size for sym in ex.symbols}
        self.lot_step = {sym: ex.instrument(sym).lot_size for sym in ex.symbols}
        self.price_decimals = {sym: fmt.decimals_of(t) for sym, t in self.price_step.items()}
        self.qty_decimals = {sym: fmt.decimals_of(t) for sym, t in self.lot_step.items()}
        self._kept: dict[str, deque[tuple[int, TapeEntry]]] = {
            "liquidation": deque(maxlen=TAPE_LENGTH), "adl": deque(maxlen=TAPE_LENGTH)}
        """The newest rows of each kind, numbered: later liquidations never push ADL out."""
        self._seq = 0
        self._step_tape: list[TapeEntry] = []
        self.timeline: list[Moment] = []
        self.news: list[tuple[int, str]] = []
        self.notices: deque[Notice] = deque(maxlen=50)
        self.own_orders: set[int] = set()
        self._open: dict[tuple[int, str], _Liquidation] = {}
        self._fills: dict[tuple[str, int], list[int]] = {}
        self._adl_mine: dict[str, list] = {}
        self._handlers = {News: self._news, LiquidationStarted: self._liq_started,
                          LiquidationFill: self._liq_fill, InsuranceTakeover: self._takeover,
                          AdlFill: self._adl, LiquidationFinished: self._liq_finished,
                          Trade: self._trade, DeskStopped: self._desk_stopped,
                          MakerStateChange: self._maker, MarketLiquidations: self._market,
                          LossSocialized: self._socialized,
                          CommandAccepted: self._accepted,
                          CommandRejected: self._rejected, OrderTriggered: self._triggered}

    # --- the listener --------------------------------------------------------------------------
    def __call__(self, sim, events) -> None:
        clock = sim.clock
        handlers = self._handlers
        for e in events:
            handler = handlers.get(type(e))
            if handler is not None:
                handler(e, clock)
        if self._fills:
            self._flush_fills(clock)
        if self._adl_mine:
            self._flush_adl(clock)
        if self._step_tape:
            self._commit_tape()

    @property
    def tape(self) -> list[TapeEntry]:
        """The tape, oldest first: the newest ``TAPE_LENGTH`` rows of each kind."""
        return [entry for _, entry in heapq.merge(*self._kept.values(), key=lambda r: r[0])]

    def _keep(self, entry: TapeEntry) -> None:
        self._seq += 1
        self._kept[entry.kind].append((self._seq, entry))

    def _commit_tape(self) -> None:
        """This step's tape rows onto the tape, crowded groups as one summary row each."""
        rows, self._step_tape = self._step_tape, []
        groups: dict[tuple[str, str, str], list[TapeEntry]] = {}
        for r in rows:
            if not r.mine:
                groups.setdefault((r.kind, r.symbol, r.side), []).append(r)
        crowded = {key for key, members in groups.items() if len(members) > SUMMARY_AT}
        done: set[tuple[str, str, str]] = set()
        for r in rows:
            key = (r.kind, r.symbol, r.side)
            if r.mine or key not in crowded:
                self._keep(r)
            elif key not in done:
                done.add(key)
                self._keep(_summary(groups[key]))

    def drain_notices(self) -> list[Notice]:
        out = list(self.notices)
        self.notices.clear()
        return out

    # --- conversions ---------------------------------------------------------------------------
    def _price(self, sym: str, ticks: int) -> float:
        return float(ticks * self.price_step[sym])

    def _qty(self, sym: str, lots: int) -> float:
        return float(lots * self.lot_step[sym])

    def _price_text(self, sym: str, ticks: int) -> str:
        return fmt.price(self._price(sym, ticks), self.price_decimals[sym])

    def _qty_text(self, sym: str, lots: int) -> str:
        return f"{fmt.qty(self._qty(sym, lots), self.qty_decimals[sym])} {sym}"

    def _moment(self, clock: int, text: str, kind: str) -> None:
        self.timeline.append(Moment(clock, text, kind))

    # --- market events -------------------------------------------------------------------------
    def _news(self, e: News, clock: int) -> None:
        self.news.append((clock, e.headline))
        self.notices.append(Notice(e.headline, "information", f"News {fmt.hhmm(clock)} HKT"))

    def _market(self, e: MarketLiquidations, clock: int) -> None:
        """The rest of the market's liquidations, told on the ticker when a minute's total is
        news (at least $100M), and as a notice once it passes $1B."""
        usd = e.notional / MONEY_PER_USD
        if usd < MARKET_NEWS_USD:
            return
        text = (f"{fmt.usd_short(usd)} liquidated market-wide in the minute to "
                f"{fmt.hhmm(e.minute + 60)}")
        self.news.append((clock, text))
        if usd >= 1e9:
            self.notices.append(Notice(text, "warning", "Market-wide"))

    def _socialized(self, e: LossSocialized, clock: int) -> None:
        """Drift's tier 3: a fund's loss paid by every open position, nobody closed. The player's
        share is its lots' part of the amount (to the cent; the division's remainder is units)."""
        usd = e.amount / MONEY_PER_USD
        self.news.append((clock, f"{e.symbol}: {fmt.usd_short(usd)} of the fund's loss socialized "
                                 f"over {e.accounts:,} open positions"))
        if self.player is None:
            return
        position = self._exchange.position(self.player, e.symbol)
        if not position.lots:
            return
        share = e.amount * abs(position.lots) // e.lots / MONEY_PER_USD
        side = "long" if position.lots > 0 else "short"
        text = (f"your {e.symbol} {side} paid {fmt.usd(share)} of a socialized loss of "
                f"{fmt.usd_short(usd)}: it stays open, its entry moved against you")
        self._moment(clock, text, "adl")
        self.notices.append(Notice(text, "warning", "Loss socialized"))

    def _maker(self, e: MakerStateChange, clock: int) -> None:
        if e.state == "pulled":
            self.notices.append(Notice(f"{e.name} pulled its quotes", "warning", "Market makers"))

    def _liq_started(self, e: LiquidationStarted, clock: int) -> None:
        self._open[(e.account, e.symbol)] = _Liquidation(clock, e.side, e.qty, e.mark)

    def _liq_fill(self, e: LiquidationFill, clock: int) -> None:
        liq = self._open.get((e.account, e.symbol))
        if liq is not None:
            liq.tiers["book"] += e.qty
            liq.value += e.price * e.qty
            liq.filled += e.qty

    def _takeover(self, e: InsuranceTakeover, clock: int) -> None:
        liq = self._open.get((e.account, e.symbol))
        if liq is not None:
            liq.tiers["fund"] += e.qty
            liq.value += e.price * e.qty
            liq.filled += e.qty

    def _adl(self, e: AdlFill, clock: int) -> None:
        liq = self._open.get((e.account, e.symbol))
        if liq is not None:
            liq.tiers["ADL"] += e.qty
            liq.value += e.price * e.qty
            liq.filled += e.qty
            liq.adl_hits += 1
        mine = e.counterparty == self.player
        if mine:
            self._adl_mine.setdefault(e.symbol, []).append(e)
        side = "long" if e.side > 0 else "short"
        against = self.name_of(e.account)
        self._step_tape.append(TapeEntry(clock, self.name_of(e.counterparty), e.symbol, side,
                                   self._qty(e.symbol, e.qty), self._price(e.symbol, e.price),
                                   "ADL", "adl", mine, f"#{e.rank + 1} vs {against}"))

    def _liq_finished(self, e: LiquidationFinished, clock: int) -> None:
        liq = self._open.pop((e.account, e.symbol), None)
        if liq is None:
            return
        sym = e.symbol
        tier = "+".join(name for name, q in liq.tiers.items() if q) or "book"
        price = liq.value / liq.filled if liq.filled else None
        side = "long" if liq.side > 0 else "short"
        mine = e.account == self.player
        note = f"{liq.adl_hits} ADL'd" if liq.adl_hits else ""
        self._step_tape.append(TapeEntry(clock, self.name_of(e.account), sym, side,
                                   self._qty(sym, liq.qty),
                                   None if price is None else self._price(sym, round(price)),
                                   tier, "liquidation", mine, note))
        if mine:
            at = "" if price is None else f" at {self._price_text(sym, round(price))}"
            shares = ", ".join(f"{name} {q / liq.qty:.0%}" for name, q in liq.tiers.items() if q)
            text = (f"your {sym} {side} ({self._qty_text(sym, liq.qty)}) was liquidated{at}: "
                    f"{shares}")
            self._moment(clock, text, "liquidation")
            self.notices.append(Notice(text, "error", "Liquidated"))

    def _flush_adl(self, clock: int) -> None:
        for sym, fills in self._adl_mine.items():
            lots = sum(f.qty for f in fills)
            first = min(f.rank for f in fills)
            side = "long" if fills[0].side > 0 else "short"
            price = self._price_text(sym, fills[0].price)
            text = (f"your {sym} {side} was ADL'd as #{first + 1} in the queue: "
                    f"{self._qty_text(sym, lots)} closed at {price}")
            self._moment(clock, text, "adl")
            self.notices.append(Notice(text, "error", "Auto-deleveraged"))
        self._adl_mine.clear()

    # --- the player's own orders ---------------------------------------------------------------
    def _trade(self, e: Trade, clock: int) -> None:
        if e.liquidation or self.player is None:
            return
        if e.taker == self.player:
            self._fills.setdefault((e.symbol, e.taker_side), []).append(e)
        elif e.maker == self.player and e.maker_oid in self.own_orders:
            self._fills.setdefault((e.symbol, -e.taker_side), []).append(e)

    def _flush_fills(self, clock: int) -> None:
        for (sym, side), trades in self._fills.items():
            lots = sum(t.qty for t in trades)
            avg = round(sum(t.price * t.qty for t in trades) / lots)
            verb = "bought" if side > 0 else "sold"
            text = f"{verb} {self._qty_text(sym, lots)} at {self._price_text(sym, avg)}"
            if len(trades) > 1:
                text += " (average)"
            self._moment(clock, text, "fill")
            self.notices.append(Notice(text, "information", "Filled"))
        self._fills.clear()

    def _take_fills(self, sym: str, oid: int | None) -> list:
        """This step's fills of the player's order ``oid`` in ``sym``, taken out of the plain
        fill reports (the caller tells them with the order's outcome)."""
        taken = []
        for key in [k for k in self._fills if k[0] == sym]:
            taken += [t for t in self._fills[key] if t.taker_oid == oid]
            self._fills[key] = [t for t in self._fills[key] if t.taker_oid != oid]
            if not self._fills[key]:
                del self._fills[key]
        return taken

    def _order_outcome(self, e: CommandAccepted, clock: int) -> None:
        """What a market order or a close did, from the engine's own account of it: filled,
        partly filled (how much, at what average, what is still open) or not filled."""
        sym = e.command.symbol
        sides = {t.taker_side for t in self._take_fills(sym, e.oid)}  # told here, not plainly
        if not e.filled:
            self.notices.append(Notice(f"{describe(e.command, self.price_decimals)}: the book "
                                       "had nothing to trade against", "warning", "Not filled"))
            return
        verb = "bought" if sides == {1} else "sold"
        at = self._price_text(sym, round(e.filled_value / e.filled))
        if e.filled == e.asked:
            text = f"{verb} {self._qty_text(sym, e.filled)} at {at} (average)"
            self._moment(clock, text, "fill")
            self.notices.append(Notice(text, "information", "Filled"))
            return
        text = (f"{verb} {self._qty_text(sym, e.filled)} of {self._qty_text(sym, e.asked)} at "
                f"{at} (average); {self._qty_text(sym, e.asked - e.filled)} found no bid or "
                f"offer and was cancelled")
        if e.position:
            text += (f"; {self._qty_text(sym, abs(e.position))} still open (W works the rest "
                     f"of the close, step by step)")
        self._moment(clock, text, "fill")
        self.notices.append(Notice(text, "warning", "Partly filled"))

    def _triggered(self, e: OrderTriggered, clock: int) -> None:
        """A stop or take-profit of the player's reached its trigger: what it became, and what
        filled of it at once (the trades came just before this event)."""
        if e.account != self.player:
            return
        sym, name = e.symbol, "stop" if e.kind == "stop" else "take-profit"
        head = (f"{name} #{e.oid} fired ({sym} at {self._price_text(sym, e.price)}, trigger "
                f"{self._price_text(sym, e.trigger)})")
        if e.new_oid is None:
            text = f"{head}; the exchange refused its order: {e.error}"
            self._moment(clock, text, "action")
            self.notices.append(Notice(text, "error", "Stop refused"))
            return
        self.own_orders.add(e.new_oid)  # a stop-limit rests: its fills are the player's
        trades = self._take_fills(sym, e.new_oid)
        done = sum(t.qty for t in trades)
        verb = "bought" if e.side > 0 else "sold"
        if done:
            avg = round(sum(t.price * t.qty for t in trades) / done)
            text = f"{head}: {verb} {self._qty_text(sym, done)} at {self._price_text(sym, avg)}"
            if done < e.qty:
                text += f" (average); {self._rest(e, e.qty - done)}"
        else:
            text = f"{head}: nothing filled at once; {self._rest(e, e.qty)}"
        full = done == e.qty
        self._moment(clock, text, "fill" if done else "action")
        self.notices.append(Notice(text, "information" if full else "warning",
                                   "Stop filled" if full else
                                   "Stop partly filled" if done else "Stop not filled"))

    def _rest(self, e: OrderTriggered, lots: int) -> str:
        """What became of a triggered order's unfilled part."""
        if e.limit is None:
            return f"{self._qty_text(e.symbol, lots)} found no bid or offer and was cancelled"
        return f"{self._qty_text(e.symbol, lots)} rests at {self._price_text(e.symbol, e.limit)}"

    def _desk_stopped(self, e: DeskStopped, clock: int) -> None:
        if e.account == self.player:
            text = f"quoting stopped: {e.reason}"
            self._moment(clock, text, "desk")
            self.notices.append(Notice(text, "error", "Your desk"))

    def _accepted(self, e: CommandAccepted, clock: int) -> None:
        cmd = e.command
        if cmd.account != self.player:
            return
        if isinstance(cmd, PlaceOrder) and e.oid is not None and cmd.price is not None:
            self.own_orders.add(e.oid)
        text = describe(cmd, self.price_decimals, e.oid,
                        self._qty_text(cmd.symbol, e.asked) if e.asked else None)
        self._moment(clock, text, "action")
        if (isinstance(cmd, PlaceOrder) and cmd.price is None) or isinstance(cmd, ClosePosition):
            self._order_outcome(e, clock)
        else:
            self.notices.append(Notice(text, "information", "Done"))

    def _rejected(self, e: CommandRejected, clock: int) -> None:
        if e.command.account == self.player:
            self.notices.append(Notice(e.message, "error",
                                       f"Rejected: {describe(e.command, self.price_decimals)}"))


def _summary(rows: list[TapeEntry]) -> TapeEntry:
    """One tape row for many forced closes of one kind, symbol and side in one step: how many,
    their total size, their average price, every tier that took a share."""
    first = rows[0]
    qty = sum(r.qty for r in rows)
    priced = [r for r in rows if r.price is not None]
    size = sum(r.qty for r in priced)
    price = sum(r.price * r.qty for r in priced) / size if size else None
    tiers = "+".join(t for t in ("book", "fund", "ADL")
                     if any(t in r.tier.split("+") for r in rows))
    what = "ADL'd" if first.kind == "adl" else "liquidated"
    return TapeEntry(first.clock, f"{len(rows)} accts", first.symbol, first.side, qty, price,
                     tiers or first.tier, first.kind, False, f"{len(rows)} {what} this second",
                     count=len(rows))


def describe(cmd, price_decimals: dict[str, int], oid: int | None = None,
             asked: str | None = None) -> str:
    """A command in the player's words: "limit buy 0.410 BTC at 114,000". ``asked`` is the
    size the engine made of the order ("0.410 BTC"), once it has been accepted."""
    match cmd:
        case PlaceOrder(price=None):
            return f"market {cmd.side} {asked or f'{_size(cmd)} {cmd.symbol}'}"
        case PlaceOrder():
            at = fmt.price(float(cmd.price), price_decimals.get(cmd.symbol, 2))
            tag = f" (order #{oid})" if oid is not None else ""
            return f"limit {cmd.side} {asked or f'{_size(cmd)} {cmd.symbol}'} at {at}{tag}"
        case AmendOrder():
            return f"amend order #{cmd.oid} to {_size(cmd)} at {cmd.price}"
        case CancelOrder():
            return f"cancel order #{cmd.oid}"
        case CancelAll():
            return "cancel all orders" + (f" in {cmd.symbol}" if cmd.symbol else "")
        case ClosePosition():
            share = float(cmd.fraction)
            return f"close {cmd.symbol}" if share >= 1 else f"reduce {cmd.symbol} by {share:.0%}"
        case AddMargin():
            return f"add {fmt.usd(float(cmd.usd))} margin to {cmd.symbol}"
        case RemoveMargin():
            return f"withdraw {fmt.usd(float(cmd.usd))} margin from {cmd.symbol}"
        case SetMarginMode():
            return f"switch {cmd.symbol} to {cmd.mode} margin"
        case PullQuotes():
            return "pull all quotes"
        case PlaceTrigger():
            at = fmt.price(float(cmd.trigger), price_decimals.get(cmd.symbol, 2))
            then = "market" if cmd.price is None else \
                f"limit {fmt.price(float(cmd.price), price_decimals.get(cmd.symbol, 2))}"
            name = "stop" if cmd.kind == "stop" else "take-profit"
            tag = f" (order #{oid})" if oid is not None else ""
            return (f"{name} {cmd.side} {asked or f'{_size(cmd)} {cmd.symbol}'} at {at} → "
                    f"{then}{tag}")
        case Transfer():
            return (f"transfer {fmt.usd(float(cmd.usd))} "
                    + ("spot → futures" if cmd.to == "futures" else "futures → spot"))
        case SetQuotes():
            return _describe_quotes(cmd)
    return type(cmd).__name__


def _describe_quotes(cmd: SetQuotes) -> str:
    parts = []
    if cmd.quoting is not None:
        parts.append("start quoting" if cmd.quoting else "stop quoting")
    for side in ("bid", "ask"):
        spread, size = getattr(cmd, f"{side}_spread_bps"), getattr(cmd, f"{side}_size_usd")
        if spread is not None:
            parts.append(f"{side} spread {spread:g} bps")
        if size is not None:
            parts.append(f"{side} size {fmt.usd_short(size)}")
    if cmd.skew is not None:
        parts.append("inventory skew " + ("on" if cmd.skew else "off"))
    return ", ".join(parts) or "quote settings"


def _size(cmd: PlaceOrder | PlaceTrigger | AmendOrder) -> str:
    """An order's size as it was asked: coins, lots, or a dollar notional ("$50k of")."""
    if cmd.qty is not None:
        return str(cmd.qty)
    if isinstance(cmd, (PlaceOrder, PlaceTrigger)) and cmd.lots is not None:
        return f"{cmd.lots:,} lots"
    return f"{fmt.usd_short(cmd.usd)} of" if cmd.usd is not None else "the same size"
