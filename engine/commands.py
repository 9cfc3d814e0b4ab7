"""Commands into a simulation: frozen typed records, applied in arrival order at the next step.

The UI and the replay files speak this vocabulary; ``apply`` turns one into an exchange call. A
command that the exchange refuses becomes a ``CommandRejected`` event carrying the error's message
(the state is unchanged); an accepted one a ``CommandAccepted`` event (with the order id for
orders).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import CrashfloorError, InvalidInput, UnknownOrder
from .events import Event, Trade
from .book import Side
from .exchange.entry import close_lots, order_lots

if TYPE_CHECKING:
    from .exchange import Exchange


@runtime_checkable
class Desk(Protocol):
    """A market-making desk that quote commands steer (``engine/agents/player_maker.py``)."""

    account: int

    def act(self, sim: Any) -> None: ...

    def state_digest(self) -> bytes: ...

    def configure(self, ex: Exchange, **changes: Any) -> None: ...

    def pull(self, ex: Exchange) -> None: ...


@runtime_checkable
class Wallet(Protocol):
    """A spot wallet that transfer commands move money through (``engine/agents/wallet.py``)."""

    account: int

    def transfer(self, ex: Exchange, usd: object, to: str) -> int: ...

    def state_digest(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Command:
    account: int


@dataclass(frozen=True, slots=True)
class PlaceOrder(Command):
    """Buy or sell; ``price=None`` is a market order. The size is exactly one of ``qty`` (coins,
    as a person types them), ``lots`` (whole lots of the symbol's grid) or ``usd`` (a
    whole-dollar notional, sized down to whole lots at the limit price, or at the mark when the
    command is applied for a market order). ``side`` is a ``Side`` ("buy"/"sell" are read as
    one)."""
    symbol: str
    side: Side | str
    qty: str | None = None
    price: str | None = None
    tif: str = "gtc"
    reduce_only: bool = False
    leverage: int | None = None
    lots: int | None = None
    usd: int | None = None

    def __post_init__(self) -> None:
        if type(self.side) is str and self.side in ("buy", "sell"):
            object.__setattr__(self, "side", Side.parse(self.side))


@dataclass(frozen=True, slots=True)
class PlaceTrigger(Command):
    """A stop (``kind="stop"``) or take-profit (``"take_profit"``) order: held by the exchange
    until the watched price (mark or last, a level field) reaches ``trigger`` (USD), then sent as
    a market order — or as a limit at ``price``, a stop-limit. Sized by exactly one of ``qty``,
    ``lots`` or ``usd``; ``reduce_only`` closes no more than the position left when it fires."""
    symbol: str
    side: Side | str
    kind: str
    trigger: str
    qty: str | None = None
    price: str | None = None
    reduce_only: bool = False
    lots: int | None = None
    usd: int | None = None

    def __post_init__(self) -> None:
        if type(self.side) is str and self.side in ("buy", "sell"):
            object.__setattr__(self, "side", Side.parse(self.side))


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    oid: int


@dataclass(frozen=True, slots=True)
class AmendOrder(Command):
    """Move a resting order to ``price`` and/or resize it to ``qty`` coins or ``usd`` notional
    (at its new price), keeping its id."""
    oid: int
    price: str | None = None
    qty: str | None = None
    usd: int | None = None


@dataclass(frozen=True, slots=True)
class CancelAll(Command):
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class ClosePosition(Command):
    """Reduce a position by ``fraction`` (0 < fraction ≤ 1) with a reduce-only market order."""
    symbol: str
    fraction: str = "1"


@dataclass(frozen=True, slots=True)
class SetLeverage(Command):
    symbol: str
    leverage: int


@dataclass(frozen=True, slots=True)
class SetMarginMode(Command):
    symbol: str
    mode: str


@dataclass(frozen=True, slots=True)
class AddMargin(Command):
    symbol: str
    usd: str


@dataclass(frozen=True, slots=True)
class RemoveMargin(Command):
    symbol: str
    usd: str


@dataclass(frozen=True, slots=True)
class Deposit(Command):
    usd: str


@dataclass(frozen=True, slots=True)
class Withdraw(Command):
    usd: str


@dataclass(frozen=True, slots=True)
class Transfer(Command):
    """Move ``usd`` between the player's spot wallet and its futures account: ``to="futures"``
    (in; at most what the spot wallet holds) or ``"spot"`` (out; at most what is available)."""
    usd: str
    to: str = "futures"


@dataclass(frozen=True, slots=True)
class SetQuotes(Command):
    """Steer the account's market-making desk: start/stop quoting, spreads (bps from mark) and
    sizes (USD per level) per side, inventory skew. ``None`` leaves a setting as it is."""
    quoting: bool | None = None
    bid_spread_bps: float | None = None
    ask_spread_bps: float | None = None
    bid_size_usd: float | None = None
    ask_size_usd: float | None = None
    skew: bool | None = None


@dataclass(frozen=True, slots=True)
class PullQuotes(Command):
    """Cancel every quote of the account's desk at once and stop quoting."""


@dataclass(frozen=True, slots=True)
class CommandAccepted(Event):
    """A command was carried out. For an order (``PlaceOrder``, ``ClosePosition``): ``asked``
    lots, what ``filled`` at once and its value (Σ price ticks × lots: the average price is
    ``filled_value / filled``), and the account's position in that symbol afterwards (signed
    lots). An IOC or market order's unfilled rest is cancelled; a GTC limit's rests."""
    command: Command
    oid: int | None = None
    asked: int = 0
    filled: int = 0
    filled_value: int = 0
    position: int = 0


@dataclass(frozen=True, slots=True)
class CommandRejected(Event):
    command: Command
    error: str
    message: str


COMMANDS = {cls.__name__: cls for cls in (PlaceOrder, PlaceTrigger, CancelOrder, AmendOrder,
                                          CancelAll,
                                          ClosePosition, SetLeverage, SetMarginMode, AddMargin,
                                          RemoveMargin, Deposit, Withdraw, Transfer, SetQuotes,
                                          PullQuotes)}


_OPTIONAL_SIZES = ("lots", "usd")
"""Fields a record leaves out when they are None (so records of coin-sized orders read as they
did before the fields existed)."""


def to_record(cmd: Command) -> dict[str, Any]:
    """A plain dict (for replays and saves): the command's type name and fields (a side as its
    word)."""
    record: dict[str, Any] = {"type": type(cmd).__name__}
    for name, value in asdict(cmd).items():
        if isinstance(value, Side):
            value = value.word
        elif value is None and name in _OPTIONAL_SIZES:
            continue
        record[name] = value
    return record


def from_record(record: dict[str, Any]) -> Command:
    """The inverse of ``to_record``; InvalidInput naming the problem otherwise."""
    if not isinstance(record, dict) or record.get("type") not in COMMANDS:
        raise InvalidInput(f"not a command record: {record!r}; types: {', '.join(COMMANDS)}")
    cls = COMMANDS[record["type"]]
    names = {f.name for f in fields(cls)}
    extra = set(record) - names - {"type"}
    if extra:
        raise InvalidInput(f"{record['type']} has no fields {sorted(extra)}")
    try:
        return cls(**{k: v for k, v in record.items() if k != "type"})
    except TypeError as exc:
        raise InvalidInput(f"bad {record['type']} record {record!r}: {exc}") from None


def apply(ex: Exchange, cmd: Command, desks: Mapping[int, Desk] | None = None,
          wallets: Mapping[int, Wallet] | None = None) -> Event:
    """Carry out one command on the exchange, on the account's market-making desk (``desks``,
    by account: ``SetQuotes`` and ``PullQuotes``) or through its spot wallet (``wallets``:
    ``Transfer``); the outcome as an event (never raises for a refused command)."""
    seen = len(ex.journal.events)
    before = _position(ex, cmd)
    try:
        oid = _dispatch(ex, cmd, desks or {}, wallets or {})
    except CrashfloorError as exc:
        return CommandRejected(ex.t, cmd, type(exc).__name__, str(exc))
    if not isinstance(cmd, (PlaceOrder, ClosePosition)) or oid is None:
        return CommandAccepted(ex.t, cmd, oid)
    s = ex.index_of(cmd.symbol)
    trades = [e for e in ex.journal.events[seen:] if type(e) is Trade and e.taker_oid == oid]
    asked = close_lots(before, cmd.fraction) if isinstance(cmd, ClosePosition) \
        else _asked(ex, s, oid, cmd, trades)
    return CommandAccepted(ex.t, cmd, oid, asked, sum(e.qty for e in trades),
                           sum(e.qty * e.price for e in trades), ex.acc.q[s, cmd.account])


def _asked(ex: Exchange, s: int, oid: int, cmd: PlaceOrder, trades: list[Trade]) -> int:
    """The lots a placed order asked for (a USD size is sized again at the same price: the mark
    does not move while commands are applied)."""
    if cmd.lots is not None:
        return cmd.lots
    if cmd.qty is not None:
        return ex.qty_grid[s].steps(cmd.qty)
    ticks = None if cmd.price is None else ex.price_grid[s].steps(cmd.price)
    return order_lots(ex, s, None, None, cmd.usd, ticks)


def _position(ex: Exchange, cmd: Command) -> int:
    """The position (lots) a ``ClosePosition`` is about to reduce; 0 for anything else or when
    the command names no valid account or symbol (the command itself then says why)."""
    if not isinstance(cmd, ClosePosition):
        return 0
    try:
        return ex.acc.q[ex.index_of(cmd.symbol), ex.trader(cmd.account)]
    except CrashfloorError:
        return 0


def _dispatch(ex: Exchange, cmd: Command, desks: Mapping[int, Desk],
              wallets: Mapping[int, Wallet]) -> int | None:
    a = cmd.account
    match cmd:
        case PlaceOrder():
            return ex.place(a, cmd.symbol, cmd.side, cmd.qty, cmd.price, cmd.tif,
                            cmd.leverage, cmd.reduce_only, lots=cmd.lots, usd=cmd.usd)
        case PlaceTrigger():
            return ex.place_trigger(a, cmd.symbol, cmd.side, cmd.kind, cmd.trigger, cmd.qty,
                                    cmd.price, cmd.reduce_only, lots=cmd.lots, usd=cmd.usd)
        case CancelOrder():
            _own_order(ex, a, cmd.oid)
            ex.cancel(cmd.oid)
        case AmendOrder():
            _own_order(ex, a, cmd.oid)
            ex.amend(cmd.oid, cmd.price, cmd.qty, usd=cmd.usd)
        case CancelAll():
            ex.cancel_all(a, cmd.symbol)
        case ClosePosition():
            return ex.close_position(a, cmd.symbol, cmd.fraction)
        case SetLeverage():
            ex.set_leverage(a, cmd.symbol, cmd.leverage)
        case SetMarginMode():
            ex.set_margin_mode(a, cmd.symbol, cmd.mode)
        case AddMargin():
            ex.add_margin(a, cmd.symbol, cmd.usd)
        case RemoveMargin():
            ex.remove_margin(a, cmd.symbol, cmd.usd)
        case Deposit():
            ex.deposit(a, cmd.usd)
        case Withdraw():
            ex.withdraw(a, cmd.usd)
        case SetQuotes():
            _desk(ex, desks, a).configure(ex, quoting=cmd.quoting, bid_spread_bps=cmd.bid_spread_bps,
                                   ask_spread_bps=cmd.ask_spread_bps,
                                   bid_size_usd=cmd.bid_size_usd,
                                   ask_size_usd=cmd.ask_size_usd, skew=cmd.skew)
        case PullQuotes():
            _desk(ex, desks, a).pull(ex)
        case Transfer():
            ex.trader(a)
            wallet = wallets.get(a)
            if wallet is None:
                raise InvalidInput(f"account {a} has no spot wallet (player.spot_usd)")
            wallet.transfer(ex, cmd.usd, cmd.to)
        case _:
            raise InvalidInput(f"unknown command {cmd!r}")
    return None


def _desk(ex: Exchange, desks: Mapping[int, Desk], a: int) -> Desk:
    ex.trader(a)
    desk = desks.get(a)
    if desk is None:
        raise InvalidInput(f"account {a} has no market-making desk (play the maker role)")
    return desk


def _own_order(ex: Exchange, a: int, oid: int) -> None:
    ex.trader(a)
    info = ex.ledger.orders.get(oid) if type(oid) is int else None
    held = ex.triggers.pending.get(oid) if type(oid) is int else None
    if (info is None or info.account != a) and (held is None or held.account != a):
        raise UnknownOrder(f"order {oid!r} is not a resting or conditional order of account {a}")
