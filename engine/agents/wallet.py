"""The player's spot wallet: money outside the futures account that a transfer moves in or out.

A real trader's defence in a crash is often the money they hold elsewhere: move it into the
futures account and the margin ratio falls; take it out and the liquidation price comes closer.
The wallet starts with ``player.spot_usd``. ``transfer(ex, usd, "futures")`` deposits into the
player's cross wallet (no more than the spot wallet holds); ``transfer(ex, usd, "spot")``
withdraws (no more than the futures account has available, the exchange's own check). Money is
conserved across the two: the exchange counts a transfer in as a deposit (``net_deposits``), the
spot wallet loses exactly that amount, and the other way round.
"""

from __future__ import annotations

from .base import AgentState
from ..errors import InsufficientMargin, InvalidInput
from ..units import MONEY_PER_USD, usd_to_money

DIRECTIONS = ("futures", "spot")


class SpotWallet(AgentState):
    """One account's spot wallet (``balance`` in money units)."""

    __slots__ = ("account", "balance")

    def __init__(self, account: int, usd: object):
        self.account = account
        self.balance = usd_to_money(usd, "player.spot_usd", allow_zero=True)

    def transfer(self, ex, usd: object, to: str) -> int:
        """Move ``usd`` into the futures account (``to="futures"``) or out of it (``"spot"``);
        returns the money units moved."""
        if to not in DIRECTIONS:
            raise InvalidInput(f"a transfer goes to one of {', '.join(DIRECTIONS)}, got {to!r}")
        amount = usd_to_money(usd, "transfer")
        if to == "futures":
            if amount > self.balance:
                raise InsufficientMargin(f"the spot wallet holds {self.balance / MONEY_PER_USD:,.2f}"
                                         f" USD: at most that can go to futures")
            ex.deposit(self.account, usd)
            self.balance -= amount
        else:
            ex.withdraw(self.account, usd)
            self.balance += amount
        return amount
