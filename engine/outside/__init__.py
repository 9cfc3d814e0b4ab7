"""The outside market: the other venues in aggregate, moved by flow (``market``), with the rest of
the market's leveraged crowd as a liquidation map (``liqmap``)."""

from .liqmap import LiquidationMap
from .market import OutsideMarket

__all__ = ["LiquidationMap", "OutsideMarket"]
