"""crashfloor's headless market-crash engine: exact, deterministic, vectorized.

    from engine import CrashRun, Exchange, Instrument, load_level
    ex = Exchange([Instrument.preset("BTC")], insurance_fund=1_000_000)
    run = CrashRun(load_level("levels/1011.toml"), seed=3)

Every entry point the README uses is exported here, with every error the engine raises.
"""

from .errors import (CrashfloorError, InsufficientMargin, InvalidInput, LevelError, LeverageError,
                     MarginModeError, OffGridError, OrderRejected, ReduceOnlyError, SaveError,
                     TradingHalted, UnknownAccount, UnknownId, UnknownOrder, UnknownSymbol)
from .exchange import AccountView, Exchange, OrderView, PositionView
from .exchange.inverse import CoinExchange, InverseContract
from .instruments import Instrument
from .sim import Simulation
from .crash import CrashRun  # noqa: E402 (after the exchange: crash imports the agents)
from .level import Level, load_level
from .book import Side
from .summary import RunReport

__version__ = "0.1.0"

__all__ = ["AccountView", "CoinExchange", "CrashRun", "CrashfloorError", "Exchange", "InsufficientMargin",
           "Instrument", "InverseContract", "InvalidInput", "Level", "LevelError", "LeverageError",
           "MarginModeError", "OffGridError", "OrderRejected", "OrderView", "PositionView",
           "ReduceOnlyError", "RunReport", "SaveError", "Side", "Simulation", "TradingHalted", "UnknownAccount",
           "UnknownId", "UnknownOrder", "UnknownSymbol", "load_level"]
