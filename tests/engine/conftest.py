
import pytest

from engine import Exchange, Instrument


def fee_free(symbol: str) -> Instrument:
    """A preset with zero fees, so that hand-computed cases stay readable."""
    inst = Instrument.preset(symbol)
    return Instrument(inst.symbol, inst.tick_size, inst.lot_size, inst.brackets,
                      maker_fee_ppm=0, taker_fee_ppm=0, liquidation_fee_ppm=0)


class FixtureExchange(Exchange):
    """An exchange a test may hang named accounts and orders on (``ex.a = ...``): the engine's
    own ``Exchange`` declares its fields (``__slots__``) and refuses new ones."""


@pytest.fixture
def make_exchange():
    """Exchange factory whose mark equals the index (so a test sets the mark directly)."""
    def make(symbols=("BTC",), fund=1_000_000, **kw):
        kw.setdefault("mark_method", "index")
        return FixtureExchange([fee_free(s) for s in symbols], insurance_fund=fund, **kw)
    return make


def usd(x) -> int:
    """USD to money units."""
    return round(x * 1_000_000)
