"""The per-fill events' quick ``__init__`` (``engine/events._quick_init``) builds the same frozen
record the dataclass would."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from engine.adl_research import Haircut
from engine.events import AdlFill, OrderCancelled, Trade


def _by_hand(cls, **values):
    """The record as dataclasses' own frozen ``__init__`` builds it: one slot at a time."""
    obj = object.__new__(cls)
    for f in dataclasses.fields(cls):
        object.__setattr__(obj, f.name, values.get(f.name, f.default))
    return obj


@pytest.mark.parametrize("cls, args", [
    (Trade, (5, "BTC", 12_200_000, 3, 17, 4, -1, 90, 31)),
    (Trade, (5, "BTC", 12_200_000, 3, 17, 4, -1, 90, 31, True)),
    (OrderCancelled, (7, 31, 4, "DOGE", 250, "requote")),
    (AdlFill, (9, 3, 812, "ETH", 1, 40, 350_000, 0, 2.5, "binance")),
    (AdlFill, (9, 3, 812, "ETH", 1, 40, 350_000, 0, 2.5, "binance", 351_000, 12, 3.5)),
    (Haircut, (9, 1, 812, 40, 1_000_000, 5_000, 3.5, True)),
])
def test_quick_init_builds_the_dataclass_record(cls, args):
    names = [f.name for f in dataclasses.fields(cls)]
    event = cls(*args)
    same = _by_hand(cls, **dict(zip(names, args, strict=False)))
    assert event == same and hash(event) == hash(same) and repr(event) == repr(same)
    assert event == cls(**dict(zip(names, args, strict=False)))  # by keyword too
    assert pickle.loads(pickle.dumps(event)) == event
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.t = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cls(*args, *[0] * (len(names) - len(args) + 1))  # one too many: refused


def test_a_default_is_the_field_default():
    assert Trade(1, "BTC", 2, 3, 4, 5, 1, 6, 7).liquidation is False


def test_quick_init_refuses_what_it_cannot_build():
    from dataclasses import dataclass, field

    from engine.events import Event, quick_init

    @dataclass(frozen=True, slots=True)
    class Tagged(Event):
        tags: list = field(default_factory=list)

    with pytest.raises(TypeError, match="plain positional fields"):
        quick_init(Tagged)
