"""crashfloor's headless market-crash engine: exact, deterministic, vectorized.

    from engine import Exchange, Instrument
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=1_000_000)
"""

from .errors import (CrashfloorError, InsufficientMargin, InvalidInput, LeverageError,
                     OffGridError, OrderRejected, ReduceOnlyError, UnknownAccount, UnknownId,
                     UnknownOrder, UnknownSymbol)
from .exchange import Exchange
from .instruments import Instrument
from .sim import Simulation

__version__ = "0.1.0"

__all__ = ["Exchange", "Instrument", "Simulation", "CrashfloorError", "InvalidInput",
           "OffGridError", "LeverageError", "InsufficientMargin", "ReduceOnlyError",
           "OrderRejected", "UnknownId", "UnknownSymbol", "UnknownAccount", "UnknownOrder"]
