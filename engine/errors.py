"""One hierarchy of typed errors for the engine.

Bad values subclass ``ValueError``; unknown ids subclass ``LookupError``. Every message says what was
wrong, with the value, and what is allowed. A call that raises leaves the exchange state unchanged.
"""

from __future__ import annotations


class CrashfloorError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidInput(CrashfloorError, ValueError):
    """A value the caller passed is malformed: wrong type, NaN, infinite, negative, zero, off-grid."""


class OffGridError(InvalidInput):
    """A price or size is not a whole number of ticks or lots."""


class LeverageError(InvalidInput):
    """Leverage is outside 1 .. the instrument bracket's maximum for the resulting notional."""


class InsufficientMargin(InvalidInput):
    """The account cannot post the initial margin the order or withdrawal needs."""


class ReduceOnlyError(InvalidInput):
    """A reduce-only order would open or increase exposure (wrong side, or no position)."""


class OrderRejected(InvalidInput):
    """The book refused the order as asked: a post-only order that would cross, a FOK that cannot fill."""


class TradingHalted(OrderRejected):
    """The contract is in a trading halt: no new orders until it ends."""


class MarginModeError(InvalidInput):
    """The margin mode cannot change now (e.g. the position or its orders are open)."""


class UnknownId(CrashfloorError, LookupError):
    """An id that does not name a live object."""


class UnknownSymbol(UnknownId):
    """No instrument trades under this symbol."""


class UnknownAccount(UnknownId):
    """No account has this id."""


class UnknownOrder(UnknownId):
    """No resting order has this id."""


class LevelError(InvalidInput):
    """A level file or override is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SaveError(InvalidInput):
    """A save or replay file cannot be read: bad magic, version, checksum, size or contents."""
