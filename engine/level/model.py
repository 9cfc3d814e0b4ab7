"""The loaded level: ``Level`` (validated data, defaults filled) with its typed accessors,
``ClockTimes``, and the clock-time parsing every part of a level shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..clock import seconds_of_day
from ..errors import InvalidInput
from ..text import escape_text, shorten
from .config import LevelConfig
from .problems import ABSENT, _SHOWN_CHARS
from .tomlpos import parse_path


_TIME_FORMAT = 'a time "HH:MM" or "HH:MM:SS" (hours 0–47)'


# --- the loaded level -------------------------------------------------------------------------
@dataclass(frozen=True)
class ClockTimes:
    """The clock in seconds since midnight (HKT); 24:00 and later are past midnight."""

    start: int
    end: int
    epilogue: int | None

    @property
    def stop(self) -> int:
        """When the run really stops: the epilogue if there is one, else the end."""
        return self.end if self.epilogue is None else self.epilogue


@dataclass(frozen=True)
class Level:
    """A validated level: ``data`` holds every field, defaults filled, as plain dicts and lists."""

    path: Path
    data: dict
    sha256: str
    overrides: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    """The parsed TOML after ``base`` and the overrides, before defaults: enough to rebuild the
    level without its files (``level_from_raw``)."""

    @property
    def name(self) -> str:
        return self.path.stem

    @cached_property
    def config(self) -> LevelConfig:
        """The level as typed, frozen records (``engine/level/config.py``, generated from the
        schema): ``level.config.market_makers.risk_pull``; times in seconds since midnight."""
        from .records import build
        return build(self.data)

    @property
    def rules(self) -> tuple[str, ...]:
        """The overrides that change the market's rules (``--variant``, ``--set``): the player's
        role and the lesson that comes with it are not rules."""
        return tuple(o for o in self.overrides if not o.startswith(("player.role=", "lesson=")))

    @property
    def symbols(self) -> list[str]:
        """The level's symbols in file order."""
        return list(self.data["symbols"])

    @property
    def tracked_symbol(self) -> str:
        return self.data["tracked_symbol"]

    def variant_overrides(self, name: str) -> list[str]:
        """The ``--set`` overrides of the level's ``[[variants]]`` entry ``name``."""
        named = {v["name"]: v["set"] for v in self.data["variants"]}
        if name not in named:
            raise InvalidInput(escape_text(
                f"--variant {shorten(str(name), _SHOWN_CHARS)}: the level defines no variant of "
                f"that name (its variants: {', '.join(named) or 'none'}); give overrides as "
                f"{shorten(str(name), _SHOWN_CHARS)}:key=value,..."))
        return list(named[name])

    @property
    def times(self) -> ClockTimes:
        clock = self.data["clock"]
        epilogue = clock["epilogue"]
        return ClockTimes(time_to_seconds(clock["start"]), time_to_seconds(clock["end"]),
                          None if epilogue is None else time_to_seconds(epilogue))

    def get(self, path: str) -> Any:
        """The value at a dotted path: ``level.get("symbols.BTC.price")``, ``"news[0].at"``."""
        node, parts = self.data, parse_path(path)
        for part in parts or ():
            node = _child(node, part)
        if parts is None or node is ABSENT:
            raise KeyError(f"level {self.name!r} has no field {path!r}")
        return node

    def seconds(self, path: str) -> int:
        """A time field in seconds since midnight: ``level.seconds("market_makers.pull_at")``."""
        return time_to_seconds(self.get(path))

    def to_toml_dict(self) -> dict:
        """``data`` without the unset optional fields (TOML has no null)."""
        return _without_none(self.data)


Level.__module__ = "engine.level"
"""Its public path, which saves also name: a run's level is an input, not state, so a save holds
``engine.level:Level`` (``state._SKIP_CLASSES``) and the fresh run's own level stays; every save
written so far says ``engine.level``, so the class keeps that name where it is defined."""


def time_to_seconds(text: str) -> int:
    """``"04:30"`` → 16200; ``"25:00:30"`` → 90030 (a run past midnight)."""
    seconds = _parse_time(text)
    if seconds is None:
        raise InvalidInput(escape_text(f"not {_TIME_FORMAT}: {shorten(repr(text), 60)}"))
    return seconds


def _parse_time(text: Any) -> int | None:
    return seconds_of_day(text)


def _without_none(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_none(v) for v in node]
    return node


def _child(raw: Any, part: str | int) -> Any:
    if isinstance(raw, dict) and isinstance(part, str):
        return raw.get(part, ABSENT)
    if isinstance(raw, list) and isinstance(part, int) and part < len(raw):
        return raw[part]
    return ABSENT
