"""Level files: read a TOML level strictly, validate it against ``level_schema``, apply ``--set``.

    level = load_level("levels/cascade.toml", overrides=["crowd.long_share=0.9"])
    level.get("crowd.long_share")                     # 0.9
    level.data["exchange"]["insurance_fund"]["BTC"]   # every default filled in
    level.times.start                                 # seconds since midnight

Every problem is collected and raised together in one ``LevelError``, one line each, e.g.
``levels/x.toml: line 42: crowd.long_share = 1.7 — must be between 0 and 1``. The validator is
written by hand rather than with msgspec because it must report every problem at once, each with
the line it is on (``engine.tomlpos``), and the engine takes no dependency beyond numpy.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import InvalidInput, LevelError
from .instruments import Instrument
from .level_schema import FORMAT, MAX_ACCOUNT_CELLS, MAX_FUND_USD, MAX_LEVEL_BYTES, \
    MAX_LEVEL_MONEY_USD, MAX_NESTING, MAX_PRICE_RISE, MAX_QUOTE_LEVELS, MAX_START_TICKS, \
    MAX_SYMBOLS, PRESETS, SCHEMA, Field, ListOf, PerSymbol, Table, walk
from .text import escape_text, shorten
from .tomlpos import KeyLines, KeyPath, parse_path, path_text, quote
from .units import MAX_USD, MONEY_PER_USD

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
"""Marks a key that the file does not set."""

SHARED_FUND_KEY = "shared"
_SHARED_FUND_PATH = ("exchange", "insurance_fund")
_SYMBOL_NAME = re.compile(r"[A-Z0-9]{1,16}")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_MAX_HOURS = 47
_TIME_FORMAT = 'a time "HH:MM" or "HH:MM:SS" (hours 0–47)'
_MAX_PRICE_USD = SCHEMA.fields["symbols"].node.fields["price"].max
_INSTRUMENTS = {name: Instrument.preset(name) for name in PRESETS}
_TICK_SIZES = {name: inst.tick_size for name, inst in _INSTRUMENTS.items()}
SHIPPED_LEVELS_DIR = Path(__file__).resolve().parent.parent / "levels"
"""The shipped levels; a ``base`` may always name a level in here."""
MAX_KEY_CHARS = 256
"""A ``--set`` key path is at most this long."""
_SHOWN_CHARS = 120
"""A key, ``--set`` text or file name echoed in a message is cut to this many characters."""
MAX_PROBLEMS = 100
"""At most this many problems are listed (then one line says how many more there are)."""


def _error(lines: list[str]) -> LevelError:
    """A ``LevelError`` whose lines are safe to print: control characters escaped, and at most
    ``MAX_PROBLEMS`` of them (a file of 10,000 unknown keys does not print 10,000 lines)."""
    if len(lines) > MAX_PROBLEMS + 1:
        lines = lines[:MAX_PROBLEMS] + [f"... and {len(lines) - MAX_PROBLEMS:,} more problems"]
    return LevelError([escape_text(line) for line in lines])


def _shown(text: str) -> str:
    """User text (a key, a ``--set``, a path) as echoed in a message: short, escaped."""
    return escape_text(shorten(text, _SHOWN_CHARS))


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


def time_to_seconds(text: str) -> int:
    """``"04:30"`` → 16200; ``"25:00:30"`` → 90030 (a run past midnight)."""
    seconds = _parse_time(text)
    if seconds is None:
        raise InvalidInput(escape_text(f"not {_TIME_FORMAT}: {shorten(repr(text), 60)}"))
    return seconds


def _parse_time(text: Any) -> int | None:
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if not match:
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    if hours > _MAX_HOURS or minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _without_none(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_none(v) for v in node]
    return node


# --- problems ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong, at one key path; formatted with file and line (or ``--set``) later."""

    path: KeyPath
    message: str
    value: Any = ABSENT
    missing: bool = False
    """The key is absent: it has no line, but its table may."""
    related: tuple[KeyPath, ...] = ()
    """Other keys whose values make this one wrong (for blaming a ``--set``)."""

    def subject(self) -> str:
        text = shorten(path_text(self.path), _SHOWN_CHARS) or "(top level)"
        return text if self.value is ABSENT else f"{text} = {toml_value(self.value)}"


def toml_value(value: Any, limit: int = 60) -> str:
    """A value as it would be written in TOML, shortened to ``limit`` characters."""
    text = _toml(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _toml(value: Any, grouped: bool = False) -> str:
    """``value`` in TOML syntax; ``grouped`` writes big integers as ``1_000_000``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if grouped and abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v, grouped) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{path_text((k,))} = {_toml(v, grouped)}"
                               for k, v in value.items()) + "}"
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", dict: "a table"}
    return names.get(type(value), "a date/time")


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _key_hint(key: Any, table: Table, prefix: str) -> str:
    """For an unknown key: the same key in another section, else a close one in this table."""
    if not isinstance(key, str):
        return ""
    homes = [path for path, _ in walk() if path.rsplit(".", 1)[-1] == key]
    close = homes or [prefix + k for k in difflib.get_close_matches(key, list(table.fields), n=1)]
    return f"did you mean {close[0]}? " if close else ""


# --- checking one value -----------------------------------------------------------------------
_MICRO_USD = Decimal("0.000001")


def _usd_text(usd: float | Decimal) -> str:
    """``3.5e12`` → ``$3.5T``, ``2.5e8`` → ``$250M``, ``1234`` → ``$1,234``."""
    usd = float(usd)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(usd) >= size:
            return f"${usd / size:.4g}{suffix}"
    return f"${usd:,.0f}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bound_text(bound: float, grouped: bool = False) -> str:
    """A schema bound for people: ``1e-06`` → ``0.000001``, ``1e7`` → ``10000000``."""
    if float(bound).is_integer():
        return f"{int(bound):_}" if grouped and abs(bound) >= 10_000 else str(int(bound))
    return f"{bound:.12f}".rstrip("0")


def _range_text(spec: Field) -> str:
    low, high = _bounds(spec)
    if low is not None and low == high:
        return f"exactly {_bound_text(low, True)}"
    if low is not None and high is not None:
        return f"between {_bound_text(low, True)} and {_bound_text(high, True)}"
    if low is not None:
        return f"at least {_bound_text(low, True)}"
    return f"at most {_bound_text(high, True)}" if high is not None else ""


def _in_range(spec: Field, value: float) -> str | None:
    low, high = _bounds(spec)
    if (low is not None and value < low) or (high is not None and value > high):
        return f"must be {_range_text(spec)}"
    return None


def _check_number(spec: Field, value: Any) -> tuple[Any, str | None]:
    what = {"int": "a whole number", "usd": "a USD amount"}.get(spec.kind, "a number")
    wanted = f"{what} ({_range_text(spec)})" if _range_text(spec) else what
    if not _number(value) or (spec.kind == "int" and isinstance(value, float)):
        return None, f"must be {wanted}, not {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"must be a finite number, not {_toml(value)}"
    error = _in_range(spec, value)  # before float(): an int of 400 digits has no float
    if error:
        return None, error
    if spec.kind == "usd" and isinstance(value, float) and \
            Decimal(repr(value)) % _MICRO_USD != 0:  # the exchange counts micro-dollars
        return None, "must be a USD amount with at most 6 decimals (whole micro-dollars)"
    return (float(value) if spec.kind in ("float", "fraction") else value), None


def _check_text(spec: Field, value: Any) -> tuple[Any, str | None]:
    if spec.kind == "bool":
        return value, None if isinstance(value, bool) else "must be true or false"
    if spec.kind == "str":
        return value, None if isinstance(value, str) else "must be a string (in quotes)"
    choices = ", ".join(spec.choices)
    if value not in spec.choices:
        hint = _suggest(value, list(spec.choices)) if isinstance(value, str) else ""
        return None, f"must be one of: {choices}" + (f" ({hint.strip()})" if hint else "")
    return value, None


def _check_time(spec: Field, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, clock_time) and value.tzinfo is None and not value.microsecond:
        value = value.strftime("%H:%M:%S")  # a bare TOML local time, 04:30:00
    if _parse_time(value) is None:
        return None, f"must be {_TIME_FORMAT}"
    return value, None


def _check_strings(spec: Field, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "must be a list of strings, e.g. [\"exchange.fund_multiplier=20\"]"
    return list(value), None


_KIND_CHECKS = {"int": _check_number, "float": _check_number, "usd": _check_number,
                "fraction": _check_number, "bool": _check_text, "str": _check_text,
                "choice": _check_text, "time": _check_time, "strings": _check_strings}


# --- checking a whole level -------------------------------------------------------------------
class _Checker:
    """Walks the schema over the parsed file, filling defaults and collecting problems."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.problems: list[Problem] = []
        self.bad: set[KeyPath] = set()
        symbols = raw.get("symbols")
        self.symbols = list(symbols) if isinstance(symbols, dict) else []

    def report(self, path: KeyPath, message: str, value: Any = ABSENT, *, missing: bool = False,
               related: tuple[KeyPath, ...] = ()) -> None:
        self.problems.append(Problem(path, message, value, missing, related))
        self.bad.add(path)

    def ok(self, *paths: KeyPath) -> bool:
        return not any(path in self.bad for path in paths)

    def in_file(self, path: KeyPath) -> bool:
        """Whether the file (with any overrides) sets ``path`` rather than leaving a default."""
        return self.raw_value(path) is not ABSENT

    def check(self) -> dict:
        data = self.node(SCHEMA, self.raw, ())
        if data["symbols"]:
            self.check_symbols(data)
            self.check_player(data)
            self.check_size(data)
            self.check_prices(data)
            self.check_player_positions(data)
            self.check_funds(data)
            self.check_money(data)
        self.check_clock(data)
        self.check_leverage(data)
        for key in ("objectives", "lesson_checks"):
            for i, goal in enumerate(data[key]):
                self.check_goal(goal, (key, i))
        self.check_scoring(data)
        self.check_variants(data)
        return data

    def node(self, node: Any, raw: Any, path: KeyPath) -> Any:
        if isinstance(node, Field):
            return self.field(node, raw, path)
        if isinstance(node, Table):
            return self.table(node, raw, path)
        if isinstance(node, PerSymbol):
            return self.per_symbol(node, raw, path)
        return self.list_of(node, raw, path)

    def field(self, spec: Field, raw: Any, path: KeyPath) -> Any:
        if raw is ABSENT:
            if spec.required:
                self.report(path, f"required field missing ({spec.doc})", missing=True)
            return copy.deepcopy(spec.default)
        if spec.kind == "waypoints":
            return self.waypoints(raw, path)
        value, error = _KIND_CHECKS[spec.kind](spec, raw)
        if error:
            self.report(path, error, raw)
            return copy.deepcopy(spec.default)
        return value

    def table(self, spec: Table, raw: Any, path: KeyPath) -> dict:
        if raw is not ABSENT and not isinstance(raw, dict):
            self.report(path, f"must be a table ([{path_text(path)}]), not {_type_name(raw)}",
                        raw if not isinstance(raw, list) else ABSENT)
            return _Checker(self.raw).table(spec, ABSENT, path)  # quietly: defaults only
        raw = {} if raw is ABSENT else raw
        for key in raw:
            if key not in spec.fields:
                self.unknown_key(spec, path, key)
        return {key: self.node(child, raw.get(key, ABSENT), path + (key,))
                for key, child in spec.fields.items()}

    def unknown_key(self, spec: Table, path: KeyPath, key: str) -> None:
        valid = list(spec.fields)
        hint = _key_hint(key, spec, "")
        where = "at the top level" if not path else f"in [[{path_text(path[:-1])}]]" \
            if isinstance(path[-1], int) else f"in [{path_text(path)}]"
        self.report(path + (key,), f"unknown key; {hint}valid keys {where}: {', '.join(valid)}")

    def per_symbol(self, spec: PerSymbol, raw: Any, path: KeyPath) -> dict:
        if path == ("symbols",) and (raw is ABSENT or raw == {}):
            self.report(path, "a level needs at least one symbol: add a table such as "
                        "[symbols.BTC] with price = 122000", missing=raw is ABSENT)
            return {}
        if raw is not ABSENT and not isinstance(raw, dict):
            self.report(path, f"must be a table of symbols, not {_type_name(raw)}", raw)
            raw = ABSENT
        raw = {} if raw is ABSENT else raw
        out = {}
        for key, value in raw.items():
            self.check_symbol_key(path, key, value)
            out[key] = self.node(spec.node, value, path + (key,))
        for symbol in self.symbols:
            if symbol not in out:
                out[symbol] = self.node(spec.node, ABSENT, path + (symbol,))
        return out

    def check_symbol_key(self, path: KeyPath, key: str, value: Any) -> None:
        if path == ("symbols",):
            if not _SYMBOL_NAME.fullmatch(key):
                self.report(path + (key,), "symbol names are 1–16 upper-case letters or digits, "
                            f"e.g. {re.sub('[^A-Z0-9]', '', key.upper())[:16] or 'BTC'}")
            return
        if key in self.symbols or (key == SHARED_FUND_KEY and path == _SHARED_FUND_PATH):
            return
        allowed = self.symbols + ([SHARED_FUND_KEY] if path == _SHARED_FUND_PATH else [])
        self.report(path + (key,), f"{key} is not a level symbol; {_suggest(key, allowed)}"
                    f"allowed keys here: {', '.join(allowed)}", value)

    def list_of(self, spec: ListOf, raw: Any, path: KeyPath) -> list:
        if raw is ABSENT:
            return []
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            self.report(path, f"must be an array of tables, written [[{path_text(path)}]]")
            return []
        if len(raw) > spec.max_items:
            self.report(path, f"has {len(raw)} entries; at most {spec.max_items} allowed")
        return [self.table(spec.table, item, path + (i,)) for i, item in enumerate(raw)]

    def waypoints(self, raw: Any, path: KeyPath) -> list:
        if not isinstance(raw, list):
            self.report(path, 'must be an array of ["HH:MM", price] pairs', raw)
            return []
        out, previous = [], None
        for i, pair in enumerate(raw):
            point = self.waypoint(pair, path + (i,))
            if point is None:
                self.bad.add(path)
                continue
            seconds = time_to_seconds(point[0])  # waypoint() checked it
            if previous is not None and seconds <= previous[1]:
                self.report(path + (i,), f"waypoint times must rise: {point[0]} is not after "
                            f"{previous[0]}", pair)
                self.bad.add(path)
            else:
                previous = (point[0], seconds)
            out.append(point)
        return out

    def waypoint(self, pair: Any, path: KeyPath) -> list | None:
        if not isinstance(pair, list) or len(pair) != 2:
            self.report(path, 'must be a ["HH:MM", price] pair', pair)
            return None
        when, error = _check_time(Field("time"), pair[0])
        if error:
            self.report(path, 'the time must be "HH:MM" or "HH:MM:SS" (hours 0–47)', pair)
            return None
        price = pair[1]
        if not _number(price) or (isinstance(price, float) and not math.isfinite(price)) or \
                not 0 < price <= _MAX_PRICE_USD:
            self.report(path, f"the price must be a positive number, at most "
                        f"{_bound_text(_MAX_PRICE_USD, True)}", pair)
            return None
        return [when, float(price)]

    # --- rules across fields -----------------------------------------------------------------
    def check_symbols(self, data: dict) -> None:
        for symbol, table in data["symbols"].items():
            if table["preset"] is None and symbol in PRESETS:
                table["preset"] = symbol
            elif table["preset"] is None and _SYMBOL_NAME.fullmatch(symbol) and \
                    self.ok(("symbols", symbol, "preset")):
                self.report(("symbols", symbol, "preset"), f"required field missing: {symbol} is "
                            f"not a preset, so name the preset it trades like, one of: "
                            f"{', '.join(PRESETS)}", missing=True)
        tracked = data["tracked_symbol"]
        if tracked is None:
            data["tracked_symbol"] = next(iter(data["symbols"]))
        elif tracked not in data["symbols"]:
            self.report(("tracked_symbol",), f"not a level symbol; "
                        f"{_suggest(tracked, self.symbols)}the level's symbols: "
                        f"{', '.join(self.symbols)}", tracked)

    def check_player(self, data: dict) -> None:
        maker = data["player"]["maker_symbol"]
        if maker is not None and maker not in data["symbols"] and \
                self.ok(("player", "maker_symbol")):
            self.report(("player", "maker_symbol"), f"not a level symbol; "
                        f"{_suggest(maker, self.symbols)}the level's symbols: "
                        f"{', '.join(self.symbols)}", maker)
        holder: dict[str, int] = {}
        for i, position in enumerate(data["player"]["positions"]):
            symbol, path = position["symbol"], ("player", "positions", i, "symbol")
            if symbol is None or not self.ok(path):
                continue
            if symbol not in data["symbols"]:
                self.report(path, f"not a level symbol; {_suggest(symbol, self.symbols)}"
                            f"the level's symbols: {', '.join(self.symbols)}", symbol)
            elif symbol in holder:
                self.report(path, f"duplicate: player.positions[{holder[symbol]}] already holds "
                            f"{symbol}; one position per symbol", symbol)
            holder.setdefault(symbol, i)

    def check_clock(self, data: dict) -> None:
        clock = data["clock"]
        start, end, epilogue = (("clock", key) for key in ("start", "end", "epilogue"))
        if self.ok(start, end) and time_to_seconds(clock["end"]) <= time_to_seconds(clock["start"]):
            self.report_pair(end, start, clock)
        if clock["epilogue"] is not None and self.ok(end, epilogue) and \
                time_to_seconds(clock["epilogue"]) <= time_to_seconds(clock["end"]):
            self.report_pair(epilogue, end, clock)
        if self.ok(start, end, epilogue):
            stop = clock["end"] if clock["epilogue"] is None else clock["epilogue"]
            self.check_window(data, clock["start"], stop)

    def report_pair(self, later: KeyPath, earlier: KeyPath, clock: dict) -> None:
        """``later`` must be after ``earlier``; blame whichever the file actually sets."""
        if self.in_file(later) or not self.in_file(earlier):
            self.report(later, f"must be after {path_text(earlier)} ({clock[earlier[1]]})",
                        clock[later[1]], related=(earlier,))
        else:
            self.report(earlier, f"must be before {path_text(later)} ({clock[later[1]]})",
                        clock[earlier[1]], related=(later,))

    def check_window(self, data: dict, start: str, stop: str) -> None:
        """News must fall inside the run, start .. (epilogue or end); waypoints not after it
        (waypoints before the start are history, skipped: a level based on another may start
        later without rewriting the path)."""
        low, high = time_to_seconds(start), time_to_seconds(stop)  # checked: check_clock
        clock = (("clock", "start"), ("clock", "end"), ("clock", "epilogue"))
        message = f"must be within the clock, {start} to {stop}"
        for i, item in enumerate(data["news"]):
            path = ("news", i, "at")
            if item["at"] is not None and self.ok(path) and \
                    not low <= time_to_seconds(item["at"]) <= high:
                self.report(path, message, item["at"], related=clock)
        for symbol, table in data["symbols"].items():
            path = ("symbols", symbol, "waypoints")
            for i, (when, _) in enumerate(table["waypoints"] if self.ok(path) else ()):
                if time_to_seconds(when) > high:  # earlier ones are history: a later start skips
                    self.report(path + (i,), f"the time must be at or before the clock's stop, "
                                f"{stop}", self.raw_value(path + (i,)), related=clock)

    def check_size(self, data: dict) -> None:
        """At most ``MAX_SYMBOLS`` symbols and ``MAX_ACCOUNT_CELLS`` account × symbol cells."""
        count = len(data["symbols"])
        if count > MAX_SYMBOLS:
            self.report(("symbols",), f"the level has {count:,} symbols; a level trades at most "
                        f"{MAX_SYMBOLS} (each adds a book, a quote ladder per firm and a column "
                        f"for every account)")
            return
        firms, levels = ("market_makers", "firms"), ("market_makers", "levels")
        makers = data["market_makers"]
        quotes = makers["firms"] * makers["levels"] * count
        if self.ok(firms, levels) and quotes > MAX_QUOTE_LEVELS:
            path = levels if self.in_file(levels) and not self.in_file(firms) else firms
            self.report(path, f"market_makers.firms × market_makers.levels × {count} symbols = "
                        f"{quotes:_} quote levels; at most {MAX_QUOTE_LEVELS:_} (with {count} "
                        f"symbols and {makers['levels']} levels, at most "
                        f"{MAX_QUOTE_LEVELS // max(1, makers['levels'] * count)} firms)",
                        makers[path[1]], related=(("symbols",), firms, levels))
        accounts, dips = ("crowd", "accounts"), ("crowd", "dip_buyers")
        if not self.ok(accounts, dips):
            return
        crowd = data["crowd"]
        cells = (crowd["accounts"] + crowd["dip_buyers"]) * count
        if cells > MAX_ACCOUNT_CELLS:
            most = max(0, MAX_ACCOUNT_CELLS // count - crowd["dip_buyers"])
            path = dips if self.in_file(dips) and not self.in_file(accounts) else accounts
            self.report(path, f"(crowd.accounts + crowd.dip_buyers) × {count} symbols = "
                        f"{cells:_} account-symbol cells; at most {MAX_ACCOUNT_CELLS:_}: with "
                        f"{count} symbols and {crowd['dip_buyers']:_} dip buyers, at most "
                        f"{most:_} crowd accounts (or fewer symbols)", crowd[path[1]],
                        related=(("symbols",), accounts, dips))

    def check_player_positions(self, data: dict) -> None:
        """A hedger's starting positions: a crowd to stand against them, at least one lot each at
        the start price, and the equity to fund the isolated ones' margin (computed as the engine
        seeds them: whole lots at the start price's ticks)."""
        player = data["player"]
        if player["role"] != "hedger" or not player["positions"]:
            return
        path = ("crowd", "accounts")
        if self.ok(path) and data["crowd"]["accounts"] == 0:
            self.report(path, "the crowd holds no positions to stand against the player's "
                        "[[player.positions]]: with player.role = hedger and positions, "
                        "crowd.accounts must be at least 1", 0,
                        related=(("player", "role"), ("player", "positions")))
        isolated, equity_path = 0, ("player", "equity_usd")
        for i, position in enumerate(player["positions"]):
            here = ("player", "positions", i)
            table = data["symbols"].get(position["symbol"])
            if table is None or table["preset"] not in _INSTRUMENTS or table["price"] is None \
                    or position["notional_usd"] is None or not self.ok(
                        here + ("symbol",), here + ("notional_usd",), here + ("leverage",),
                        ("symbols", position["symbol"], "price")):
                continue
            inst = _INSTRUMENTS[table["preset"]]
            unit = inst.unit_per_tick_lot
            ticks = max(1, round(table["price"] / float(inst.tick_size)))
            lots = round(position["notional_usd"] * MONEY_PER_USD / (ticks * unit))
            if lots == 0:
                lot_usd = ticks * unit / MONEY_PER_USD
                self.report(here + ("notional_usd",), f"is less than half a lot at the start "
                            f"price ({inst.lot_size} {position['symbol']} × {table['price']:g} = "
                            f"{lot_usd:g} USD): the position would be empty",
                            self.raw_value(here + ("notional_usd",)),
                            related=(("symbols", position["symbol"], "price"),))
            elif position["margin"] == "isolated":
                isolated += -(-lots * ticks * unit // position["leverage"])
        equity = round(player["equity_usd"] * MONEY_PER_USD)
        if isolated > equity and self.ok(equity_path):
            self.report(equity_path, f"must cover the isolated margin of the player's positions, "
                        f"{isolated / MONEY_PER_USD:,.2f} USD (notional_usd / leverage of each "
                        f"isolated position)", player["equity_usd"],
                        related=(("player", "positions"),))

    def check_prices(self, data: dict) -> None:
        """A start price at most ``MAX_START_TICKS`` ticks of its preset; every waypoint at most
        ``MAX_PRICE_RISE`` × the start price (positions are sized at the start: a hundredfold
        rise would make their notional a hundredfold)."""
        for symbol, table in data["symbols"].items():
            price_path, preset = ("symbols", symbol, "price"), table["preset"]
            if preset not in _TICK_SIZES or table["price"] is None or \
                    not self.ok(price_path, ("symbols", symbol, "preset")):
                continue
            tick = _TICK_SIZES[preset]
            top = min(float(tick * MAX_START_TICKS), _MAX_PRICE_USD)
            if table["price"] > top:
                self.report(price_path, f"must be at most {_bound_text(top, True)} with preset "
                            f"{preset} (tick {tick} USD): a price is at most "
                            f"{MAX_START_TICKS:_} ticks", self.raw_value(price_path),
                            related=(("symbols", symbol, "preset"),))
                continue
            path = ("symbols", symbol, "waypoints")
            rise = min(table["price"] * MAX_PRICE_RISE, top)
            for i, (_, price) in enumerate(table["waypoints"] if self.ok(path) else ()):
                if price > rise:
                    self.report(path + (i,), f"the price must be at most {MAX_PRICE_RISE} × the "
                                f"start price symbols.{symbol}.price ({table['price']:g}), at most "
                                f"{_bound_text(rise, True)}", self.raw_value(path + (i,)),
                                related=(price_path,))

    def check_funds(self, data: dict) -> None:
        """Every fund once sized (× fund_multiplier; with fund_sizing = stress, an upper estimate
        of the stress size) at most ``MAX_FUND_USD``, and the floor no higher than any fund."""
        exch = data["exchange"]
        keys = ("fund_multiplier", "fund_floor", "insurance_fund", "fund_shared", "fund_sizing",
                "fund_stress_pct")
        mult_path, floor_path, funds_path = (("exchange", k) for k in keys[:3])
        if not self.ok(*(("exchange", k) for k in keys)) or \
                any(path[:2] == funds_path for path in self.bad):
            return
        mult = Decimal(str(exch["fund_multiplier"]))
        funds = exch["insurance_fund"]
        sized: list[tuple[Decimal, str, KeyPath]] = []
        if exch["fund_shared"] and SHARED_FUND_KEY in funds:
            sized.append((Decimal(str(funds[SHARED_FUND_KEY])) * mult, "shared",
                          funds_path + (SHARED_FUND_KEY,)))
        elif exch["fund_shared"]:
            total = sum((Decimal(str(funds[sym])) for sym in data["symbols"]), Decimal(0))
            sized.append((total * mult, "shared", funds_path))
        else:
            sized += [(Decimal(str(funds[sym])) * mult, sym, funds_path + (sym,))
                      for sym in data["symbols"]]
        for usd, name, path in sized:
            if usd > MAX_FUND_USD:
                blame = mult_path if self.in_file(mult_path) and mult > 1 else path
                self.report(blame, f"the {name} fund would start at {_usd_text(usd)} "
                            f"({path_text(path)} × fund_multiplier {exch['fund_multiplier']:g}); "
                            f"a fund is at most {MAX_FUND_USD:_} USD",
                            self.raw_value(blame), related=(path, mult_path))
                return
        usd, name, path = min(sized, key=lambda item: item[0])
        if exch["fund_floor"] > usd:
            self.report(floor_path, f"must be at most the smallest fund it guards: the {name} "
                        f"fund starts at {_usd_text(usd)} ({path_text(path)} × fund_multiplier)",
                        exch["fund_floor"], related=(path, mult_path))
        if exch["fund_sizing"] == "stress":
            estimate, worst = self.stress_estimate(data)
            if estimate > MAX_FUND_USD:
                blame = next((p for p in (mult_path, ("exchange", "fund_stress_pct"))
                              if self.in_file(p)), ("exchange", "fund_sizing"))
                self.report(blame, f"with fund_sizing = stress the {worst} fund could be sized "
                            f"up to {_usd_text(estimate)} (open interest × fund_stress_pct × "
                            f"fund_multiplier); a fund is at most {MAX_FUND_USD:_} USD",
                            self.raw_value(blame), related=(mult_path, ("crowd", "notional_usd"),
                                                            ("exchange", "fund_stress_pct")))

    @staticmethod
    def stress_estimate(data: dict) -> tuple[float, str]:
        """An upper bound of the largest stress-sized fund, and its name: a move of
        fund_stress_pct leaves at most that share of one side's open interest as bad debt."""
        exch, crowd = data["exchange"], data["crowd"]
        factor = exch["fund_stress_pct"] / 100 * exch["fund_multiplier"]
        per = {sym: crowd["notional_usd"][sym] for sym in data["symbols"]}
        if data["player"]["role"] == "hedger":
            for position in data["player"]["positions"]:
                if position["symbol"] in per and position["notional_usd"] is not None:
                    per[position["symbol"]] += position["notional_usd"]
        if exch["fund_shared"]:
            return sum(per.values()) * factor, "shared"
        worst = max(per, key=per.__getitem__)
        return per[worst] * factor, worst

    def check_money(self, data: dict) -> None:
        """All the money the level starts with, added up, at most ``MAX_LEVEL_MONEY_USD``: the
        crowd's margin (an upper estimate), the firms' and arbitrageurs' capital, the player's
        equity, the funds and the cash pools of stink bids, dip buyers and momentum shorts."""
        crowd, makers, exch = data["crowd"], data["market_makers"], data["exchange"]
        parts: list[tuple[float, str, KeyPath]] = []
        if crowd["accounts"]:
            parts.append((2 * sum(crowd["notional_usd"].values()) * (2 + crowd["margin_buffer"]),
                          "crowd margin ≈ 2 × Σ crowd.notional_usd × (2 + crowd.margin_buffer)",
                          ("crowd", "notional_usd")))
        parts.append((makers["firms"] * makers["capital_usd"],
                      "market_makers.firms × market_makers.capital_usd",
                      ("market_makers", "capital_usd")))
        parts.append((data["arbitrage"]["capital_usd"], "arbitrage.capital_usd",
                      ("arbitrage", "capital_usd")))
        if data["player"]["role"] != "none":
            parts.append((data["player"]["equity_usd"], "player.equity_usd",
                          ("player", "equity_usd")))
        funds = exch["insurance_fund"]
        fund_total = (funds[SHARED_FUND_KEY] if exch["fund_shared"] and SHARED_FUND_KEY in funds
                      else sum(funds[sym] for sym in data["symbols"])) * exch["fund_multiplier"]
        if exch["fund_sizing"] == "stress":
            fund_total = max(fund_total, self.stress_estimate(data)[0] * (
                1 if exch["fund_shared"] else len(data["symbols"])))
        parts.append((fund_total, "insurance funds × fund_multiplier",
                      ("exchange", "insurance_fund")))
        parts.append((sum(crowd["stink_bids_usd"].values()) * 1.01, "Σ crowd.stink_bids_usd",
                      ("crowd", "stink_bids_usd")))
        if crowd["dip_buyers"]:
            parts.append((crowd["dip_buy_usd_per_min"] * 60, "crowd.dip_buy_usd_per_min × 60",
                          ("crowd", "dip_buy_usd_per_min")))
        parts.append((crowd["chase_usd_per_min"] * 30 / crowd["chase_leverage"],
                      "crowd.chase_usd_per_min × 30 / chase_leverage",
                      ("crowd", "chase_usd_per_min")))
        total = sum(usd for usd, _, _ in parts)
        inputs = {p[:2] for _, _, p in parts} | {("exchange", key) for key in (
            "fund_multiplier", "fund_sizing", "fund_stress_pct", "fund_shared", "fund_floor")}
        if total <= MAX_LEVEL_MONEY_USD or any(path[:2] in inputs for path in self.bad):
            return  # within the budget, or a problem with one of its inputs is reported already
        parts.sort(key=lambda part: -part[0])
        usd, _, path = parts[0]
        listed = "; ".join(f"{label} = {_usd_text(amount)}" for amount, label, _ in parts[:3])
        value = self.raw_value(path)
        self.report(path, f"the level's money adds up to {_usd_text(total)} ({listed}; ...); at "
                    f"most {MAX_LEVEL_MONEY_USD:_} USD in all: lower {path_text(path)}",
                    ABSENT if isinstance(value, dict) else value,
                    related=tuple(p for _, _, p in parts[1:3]))

    def check_leverage(self, data: dict) -> None:
        low, high = ("crowd", "leverage_min"), ("crowd", "leverage_max")
        crowd = data["crowd"]
        if self.ok(low, high) and crowd["leverage_min"] > crowd["leverage_max"]:
            path, other = (low, high) if self.in_file(low) else (high, low)
            relation = "at most" if path == low else "at least"
            limit = self.raw_value(other) if self.in_file(other) else crowd[other[1]]
            self.report(path, f"must be {relation} {path_text(other)} ({_toml(limit)})",
                        self.raw_value(path), related=(other,))

    def check_goal(self, goal: dict, path: KeyPath) -> None:
        """A yes/no metric takes ``is`` (or nothing); a number metric exactly one of
        ``at_least`` / ``at_most``."""
        from .objectives import METRICS
        metric = METRICS.get(goal["metric"])
        if metric is None or not self.ok(path + ("metric",)):
            return
        given = [k for k in ("at_least", "at_most", "is") if goal[k] is not None]
        if metric.kind == "bool":
            for key in given:
                if key != "is":
                    self.report(path + (key,), f"{goal['metric']} is a yes/no metric: use "
                                f"is = true or is = false", self.raw_value(path + (key,)))
        elif "is" in given:
            self.report(path + ("is",), f"{goal['metric']} is a number: use at_least or at_most",
                        self.raw_value(path + ("is",)))
        elif len(given) != 1:
            self.report(path + ("metric",), f"{goal['metric']} is a number: give exactly one of "
                        f"at_least, at_most (got {', '.join(given) or 'neither'})",
                        goal["metric"])

    def check_scoring(self, data: dict) -> None:
        sc = data["scoring"]
        for low, high in (("star1", "star2"), ("star2", "star3")):
            if self.ok(("scoring", low), ("scoring", high)) and sc[low] > sc[high]:
                self.report(("scoring", high), f"must be at least scoring.{low} ({sc[low]})",
                            sc[high], related=(("scoring", low),))

    def check_variants(self, data: dict) -> None:
        seen: dict[str, int] = {}
        for i, variant in enumerate(data["variants"]):
            name = variant["name"]
            if name is not None and name in seen:
                self.report(("variants", i, "name"), f"duplicate: variants[{seen[name]}] has "
                            f"that name", name)
            seen.setdefault(name, i)
            for k, text in enumerate(variant["set"]):
                override = _parse_override(text, self.raw)
                if isinstance(override, str):
                    self.report(("variants", i, "set", k),
                                override.replace("--set ", "", 1), text)

    def raw_value(self, path: KeyPath) -> Any:
        node = self.raw
        for part in path:
            node = _child(node, part)
        return node


def validate(raw: dict) -> tuple[dict, list[Problem]]:
    """Check parsed TOML against the schema: (data with defaults filled, problems)."""
    shape = "the level is not a table" if not isinstance(raw, dict) else shape_problem(raw)
    if shape is not None:
        return {}, [Problem((), shape)]
    version = raw.get("format", FORMAT)
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        return {}, [Problem(("format",), f"this level needs format {version}; this crashfloor "
                            f"reads format {FORMAT}", version)]
    checker = _Checker(raw)
    data = checker.check()
    return data, checker.problems


# --- reading a file ---------------------------------------------------------------------------
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_DECLARED_TWICE = re.compile(r"Cannot declare (\(.*\)) twice")


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes. Only a regular file of at most ``MAX_LEVEL_BYTES`` is read: a directory,
    a FIFO (which would block forever), a device (``/dev/zero`` never ends) or a socket is refused
    from ``stat`` before it is opened, and the open itself cannot block (``O_NONBLOCK``; the
    opened file is checked again, in case it was swapped in between)."""
    limit = f"a level file may be at most {MAX_LEVEL_BYTES:,} bytes"
    wanted = "a level must be a regular file"
    try:
        kind = _file_kind(os.stat(path).st_mode)
        if kind is not None:
            raise _error([f"{label}: is {kind}, not a level file; {wanted}"])
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
            | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            kind = _file_kind(info.st_mode)
            if kind is not None:
                raise _error([f"{label}: is {kind}, not a level file; {wanted}"])
            if info.st_size > MAX_LEVEL_BYTES:
                raise _error([f"{label}: the file is {info.st_size:,} bytes; {limit}"])
            content = file.read(MAX_LEVEL_BYTES + 1)  # bounded, whatever stat said
    except LevelError:
        raise
    except FileNotFoundError:
        raise _error([f"{label}: no such file"]) from None
    except OSError as error:
        raise _error([f"{label}: cannot be read: {error.strerror or error}"]) from None
    except ValueError:  # a NUL byte in the path
        raise _error([f"{label}: not a usable file name (it holds a NUL character)"]) from None
    if len(content) > MAX_LEVEL_BYTES:
        raise _error([f"{label}: the file is larger than {MAX_LEVEL_BYTES:,} bytes; {limit}"])
    return content


def _decode(content: bytes, label: str) -> str:
    try:
        return content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise _error([f"{label}: line {line}: not UTF-8 text — byte "
                      f"0x{content[error.start]:02x}; save the file as UTF-8"]) from None


_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4000,}")
_NESTING_TEXT = f"tables and arrays nest at most {MAX_NESTING} deep in a level"


def _parse_toml(text: str, label: str) -> dict:
    """The parsed TOML, or a one-line ``LevelError``: bad syntax, an integer too long for Python
    (over 4,300 digits), nesting too deep for the parser, or (checked after parsing, without
    recursion) nesting or dotted keys deeper than ``MAX_NESTING``."""
    raw, reason = _loads(text)
    if reason is not None:
        raise _error([_toml_error_text(reason, label)])
    problem = shape_problem(raw)
    if problem is not None:
        raise _error([f"{label}: {problem}"])
    return raw


def _loads(text: str) -> tuple[Any, str | None]:
    """``tomllib.loads`` that never raises: (data, None) or (None, the reason, with tomllib's
    position when it gives one)."""
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as error:
        return None, str(error)
    except RecursionError:
        return None, f"nested too deeply to read; {_NESTING_TEXT}"
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        match = _LONG_NUMBER.search(text)
        where = f" (at line {text.count(chr(10), 0, match.start()) + 1}, column " \
            f"{match.start() - text.rfind(chr(10), 0, match.start())})" if match else ""
        return None, f"a number has more than 4,300 digits (no level field takes one that " \
            f"long){where}"


def shape_problem(raw: Any, limit: int = MAX_NESTING) -> str | None:
    """Why ``raw`` (parsed TOML, or a level table from a save) cannot be a level's data, or None:
    tables and arrays nested more than ``limit`` deep (a dotted key of 3,000 parts is 3,000 tables
    deep), or a table key that is not a string. Iterative: any depth is safe to look at."""
    stack: list[tuple[Any, KeyPath]] = [(raw, ())]
    while stack:
        node, path = stack.pop()
        items: Iterable[tuple[Any, Any]]
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        if len(path) >= limit:
            shown = shorten(path_text(path[:limit]) + "…", _SHOWN_CHARS)
            return f"{shown} — nested more than {limit} deep; {_NESTING_TEXT} (a dotted key " \
                f"has at most {limit} parts)"
        for key, child in items:
            if isinstance(node, dict) and not isinstance(key, str):
                return f"{shorten(path_text(path), _SHOWN_CHARS) or '(top level)'} — a key " \
                    f"that is not a string: {shorten(repr(key), 40)}"
            stack.append((child, path + (key,)))
    return None


def _toml_error_text(message: str, label: str) -> str:
    """tomllib's message with its position moved to the front: ``x.toml: line 3: ...``."""
    position = _TOML_POSITION.search(message)
    reason = message[:position.start()] if position else message
    twice = _DECLARED_TWICE.fullmatch(reason)
    if twice:
        keys = tuple(re.findall(r"'((?:[^'\\]|\\.)*)'", twice.group(1)))
        reason = f"[{path_text(keys)}] is declared twice (a duplicate table or key)"
    elif reason == "Cannot overwrite a value":
        reason = "a key is set twice (cannot overwrite a value)"
    if position and position.group(1):
        return f"{label}: line {position.group(1)}: not valid TOML — {reason} " \
               f"(column {position.group(2)})"
    at_end = " (at the end of the file)" if position else ""
    return f"{label}: not valid TOML — {reason}{at_end}"


def _file_problem_lines(problems: list[Problem], label: str, lines: KeyLines) -> list[str]:
    """Each problem as ``file: line N: path = value — message``, in file order."""
    located = []
    for order, problem in enumerate(problems):
        line = None if problem.missing else lines.line(problem.path)
        table_line = lines.line(problem.path[:-1]) if problem.missing and problem.path[:-1] \
            else None
        head = f"{label}: line {line}" if line else label
        message = problem.message + (f"; its table starts at line {table_line}" if table_line
                                     else "")
        sort_line = line or table_line or math.inf
        located.append((sort_line, order, f"{head}: {problem.subject()} — {message}"))
    return [text for *_, text in sorted(located)]


# --- overrides (--set) ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Override:
    text: str
    path: KeyPath
    value: Any


def _parse_override(text: str, raw: dict) -> _Override | str:
    """``"crowd.long_share=0.9"`` → an override, or the problem with it as one message line."""
    if not isinstance(text, str):
        return f"--set {shorten(repr(text), 60)}: expected a key=value string"
    key, equals, value_text = text.partition("=")
    key = key.strip()
    shown = _shown(text)
    if not equals:
        return f"--set {shown}: expected key=value, e.g. crowd.long_share=0.9"
    if len(key) > MAX_KEY_CHARS:
        return f"--set {shown}: the key is {len(key):,} characters long; a key path is at most " \
               f"{MAX_KEY_CHARS} (e.g. symbols.BTC.price, news[0].at)"
    path = parse_path(key)
    if not path or not isinstance(path[0], str):
        return f"--set {shown}: {_shown(repr(key))} is not a key path (e.g. symbols.BTC.price, " \
               f"news[0].at)"
    error = _override_path_error(path, raw)
    if error:
        return f"--set {shown}: {error}"
    value_text = value_text.strip()
    parsed, reason = _loads(f"value = {value_text}")
    if isinstance(parsed, dict) and list(parsed) == ["value"]:
        value = parsed["value"]
        problem = shape_problem(value, max(1, MAX_NESTING - len(path)))
        if problem is not None:
            return f"--set {shown}: the value is nested too deeply; {_NESTING_TEXT}"
    elif reason is not None and "4,300 digits" in reason:
        return f"--set {shown}: the value has more than 4,300 digits; no level field takes a " \
               f"number that long"
    elif reason is not None and "nested too deeply" in reason:
        return f"--set {shown}: the value is nested too deeply; {_NESTING_TEXT}"
    else:
        value = value_text  # a bare word: market_makers.withdrawal=scripted
    return _Override(shorten(f"{key}={value_text}", _SHOWN_CHARS), path, value)


def _override_path_error(path: KeyPath, raw: Any) -> str | None:
    """Why ``path`` names no field of the schema (or no [[table]] of the file), or None."""
    node: Any = SCHEMA
    for depth, part in enumerate(path):
        here = path_text(path[:depth])
        if isinstance(node, Table) and part in node.fields:
            node = node.fields[part]
        elif isinstance(node, Table):
            return _unknown_override_key(node, path, depth)
        elif isinstance(node, PerSymbol) and isinstance(part, str):
            node = node.node
        elif isinstance(node, PerSymbol):
            return f"{here} is keyed by symbol name, e.g. {here}.BTC"
        elif isinstance(node, ListOf):
            if not isinstance(part, int):
                return f"{here} is an array of tables: give an index, e.g. {here}[0].{part}"
            count = len(raw) if isinstance(raw, list) else 0
            if part >= count:
                have = "none" if not count else f"{here}[0]" if count == 1 else \
                    f"{here}[0] to {here}[{count - 1}]"
                return f"there is no {here}[{part}]; the level's [[{here}]] tables: {have}"
            node = node.table
        else:
            return f"{here} is a single value; it has no part " \
                   f"{shorten(path_text(path[depth:]), _SHOWN_CHARS)}"
        raw = _child(raw, part)
    return None


def _child(raw: Any, part: str | int) -> Any:
    if isinstance(raw, dict) and isinstance(part, str):
        return raw.get(part, ABSENT)
    if isinstance(raw, list) and isinstance(part, int) and part < len(raw):
        return raw[part]
    return ABSENT


def _unknown_override_key(node: Table, path: KeyPath, depth: int) -> str:
    part = path[depth]
    prefix = path_text(path[:depth])
    hint = _key_hint(part, node, f"{prefix}." if prefix else "")
    where = f"in [{prefix}]" if prefix else "at the top level"
    return f"unknown key {path_text(path[:depth + 1])}; {hint}valid keys {where}: " \
           f"{', '.join(node.fields)}"


def _apply_override(raw: dict, override: _Override) -> None:
    """Set the override's value in the parsed file, making the tables on its way."""
    node: Any = raw
    for part, following in zip(override.path, override.path[1:], strict=False):
        if isinstance(part, str) and not isinstance(node.get(part), (list, dict)) or \
                isinstance(following, str) and not isinstance(node[part], dict):
            node[part] = {}  # an index needs an existing array: _override_path_error checked
        node = node[part]
    node[override.path[-1]] = copy.deepcopy(override.value)


def _override_problem_text(problem: Problem, overrides: list[_Override], label: str,
                           lines: KeyLines) -> str:
    """Blame the override(s) that touch the problem's keys; cite the file's line where it helps."""
    def touches(override: _Override, path: KeyPath) -> bool:
        n = min(len(override.path), len(path))
        return override.path[:n] == path[:n]

    culprits = [o for o in overrides
                if any(touches(o, path) for path in (problem.path,) + problem.related)]
    culprits = culprits or overrides
    head = ", ".join(f"--set {o.text}" for o in culprits)
    if len(culprits) == 1 and culprits[0].path == problem.path:
        return f"{head}: {problem.message}"
    from_file = not problem.missing and not any(
        problem.path[:len(o.path)] == o.path for o in overrides)
    line = lines.line(problem.path) if from_file else None
    where = f" ({label}: line {line})" if line else ""
    return f"{head}: {problem.subject()} — {problem.message}{where}"


# --- loading ----------------------------------------------------------------------------------
def load_level(path: str | Path, overrides: Sequence[str] = (), *,
               allow_outside_base: bool = False) -> Level:
    """Read, validate and return a level; raise ``LevelError`` listing every problem found.

    ``overrides`` are ``"dotted.path=value"`` strings (the CLI's ``--set``); the value is read
    as a TOML value when it parses as one, else as a bare string. A ``base`` must be a level in
    the shipped levels folder or in this file's folder (or below them), symlinks resolved, unless
    ``allow_outside_base`` (the CLI's ``--allow-outside-base``).
    """
    path = Path(path)
    label = str(path)
    content = _read_bytes(path, label)
    text = _decode(content, label)
    raw = _parse_toml(text, label)
    lines = KeyLines(text, raw)
    digest = hashlib.sha256(content)
    if "base" in raw:
        roots = None if allow_outside_base else _base_roots(path)
        raw = _with_base(raw, path, label, digest, [path.resolve()], roots)
    data, problems = validate(raw)
    merged, parsed, bad_overrides = copy.deepcopy(raw), [], []
    for item in overrides:  # in order: a later --set may index into what an earlier one set
        override = _parse_override(item, merged)
        if isinstance(override, str):
            bad_overrides.append(override)
        else:
            parsed.append(override)
            _apply_override(merged, override)
    if problems or bad_overrides:
        raise _error(_file_problem_lines(problems, label, lines) + bad_overrides)
    if parsed:
        data, problems = validate(merged)
        if problems:
            raise _error([_override_problem_text(p, parsed, label, lines) for p in problems])
    return Level(path, data, digest.hexdigest(), list(overrides), merged)


MAX_BASE_DEPTH = 4


def _base_roots(path: Path) -> tuple[Path, ...]:
    """The folders a base may come from: the shipped levels and the level file's own folder."""
    return tuple(dict.fromkeys([SHIPPED_LEVELS_DIR.resolve(), path.parent.resolve()]))


def _exists(path: Path) -> bool:
    """``path.exists()`` that says False for a name the OS cannot take (too long, a NUL)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _with_base(raw: dict, path: Path, label: str, digest, chain: list[Path],
               roots: tuple[Path, ...] | None) -> dict:
    """``raw`` laid over its base level's raw TOML (recursively); the base's bytes go into
    ``digest``. Problems with the base itself are reported against the base file. With
    ``roots``, the base (symlinks resolved) must lie inside one of those folders."""
    name = raw["base"]
    if not isinstance(name, str):
        raise _error([f"{label}: base = {toml_value(name)} — must be a level name or a path "
                      f"(a string)"])
    shown = toml_value(name, _SHOWN_CHARS)
    if not name.strip() or escape_text(name) != name:
        raise _error([f"{label}: base = {shown} — must be a level name or a relative path to "
                      f"a .toml file, without control characters"])
    candidate = (path.parent / name) if name.endswith(".toml") else path.parent / f"{name}.toml"
    shipped = SHIPPED_LEVELS_DIR / f"{name}.toml"
    if not _exists(candidate) and re.fullmatch(r"[\w.-]+", name) and not name.endswith(".toml") \
            and _exists(shipped):
        candidate = shipped  # a bare name not next to the file: a shipped level
    if not _exists(candidate):
        names = level_names(path.parent)
        raise _error([f"{label}: base = {shown} — no such level next to this file; "
                      f"{_suggest(name, names)}levels there: {', '.join(names) or '(none)'}"])
    resolved = candidate.resolve()
    if roots is not None and not any(resolved.is_relative_to(root) for root in roots):
        raise _error([f"{label}: base = {shown} — outside the levels folders: a base must be "
                      f"a level in {' or '.join(str(root) for root in roots)} (symlinks "
                      f"resolved); to build on another file, run or check it with "
                      f"--allow-outside-base (load_level(..., allow_outside_base=True))"])
    if resolved in chain:
        loop = " → ".join(p.name for p in chain + [resolved])
        raise _error([f"{label}: base = {shown} — the bases form a loop: {loop}"])
    if len(chain) > MAX_BASE_DEPTH:
        raise _error([f"{label}: base = {shown} — bases nest more than {MAX_BASE_DEPTH} deep"])
    base_label = str(candidate)
    content = _read_bytes(candidate, base_label)
    digest.update(content)
    base_text = _decode(content, base_label)
    base_raw = _parse_toml(base_text, base_label)
    if "base" in base_raw:
        base_raw = _with_base(base_raw, candidate, base_label, digest, chain + [resolved], roots)
    _, problems = validate(base_raw)
    if problems:
        raise _error([f"{label}: its base has problems:"]
                     + _file_problem_lines(problems, base_label, KeyLines(base_text, base_raw)))
    merged = _deep_merge(base_raw, raw)
    merged.pop("base", None)
    return merged


def _deep_merge(base: dict, top: dict) -> dict:
    """Tables merge key by key; everything else (values, arrays) in ``top`` replaces."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def level_from_raw(raw: dict, path: str | Path, sha256: str = "") -> Level:
    """A level from its raw TOML dict (``Level.raw``), as saved inside a save file. The dict is
    checked like a parsed file (a table of string keys, nested at most ``MAX_NESTING`` deep)
    before anything walks it recursively."""
    label = str(path)
    problem = "the level is not a table" if not isinstance(raw, dict) else shape_problem(raw)
    if problem is not None:  # before deepcopy, which recurses
        raise _error([f"{label}: {problem}"])
    data, problems = validate(copy.deepcopy(raw))
    if problems:
        raise _error([f"{label}: {p.subject()} — {p.message}" for p in problems])
    return Level(Path(path), data, sha256, [], copy.deepcopy(raw))


def level_names(levels_dir: str | Path) -> list[str]:
    """The names (file stems) of the ``*.toml`` files in ``levels_dir``, sorted."""
    return sorted(file.stem for file in Path(levels_dir).glob("*.toml") if file.is_file())


def find_level(name_or_path: str, levels_dir: str | Path) -> Path:
    """``name_or_path`` if that file exists, else ``levels_dir/<name>.toml``."""
    candidate = Path(name_or_path)
    if _exists(candidate):
        return candidate
    named = Path(levels_dir) / f"{name_or_path}.toml"
    if _exists(named):
        return named
    names = level_names(levels_dir)
    hint = _suggest(candidate.stem, names)
    raise _error([f"{_shown(str(name_or_path))}: no such level file, and no level of that name "
                  f"in {levels_dir}; {hint}available levels: {', '.join(names) or '(none)'}"])


def list_levels(levels_dir: str | Path) -> list[tuple[str, str, str]]:
    """(name, title, summary) for every level, by ``order`` then name; an invalid one shows its
    first problem (at the default order, 100)."""
    out: list[tuple[str, str, str] | tuple[str, str, str, int]] = []
    for name in level_names(levels_dir):
        file = Path(levels_dir) / f"{name}.toml"
        try:
            level = load_level(file)
        except LevelError as error:
            first = error.problems[0].removeprefix(f"{file}: ")
            out.append((name, f"(invalid: {first})", ""))
        else:
            out.append((name, level.data["title"], level.data["summary"], level.data["order"]))
    return [row[:3] for row in sorted(out, key=lambda r: (r[3] if len(r) > 3 else 100,
                                                          r[0]))]


# --- documentation generated from the schema --------------------------------------------------
_SYMBOL_EXAMPLE = "BTC"
_LIVE_IN_TEMPLATE = ("format", "title", "symbols.<SYM>.price")
_EXAMPLES: dict[str, Any] = {
    "format": FORMAT, "symbols.<SYM>.price": 122_000, "symbols.<SYM>.preset": _SYMBOL_EXAMPLE,
    "symbols.<SYM>.waypoints": [["04:00", 122_000], ["05:20", 104_000]],
    "tracked_symbol": _SYMBOL_EXAMPLE, "player.maker_symbol": _SYMBOL_EXAMPLE,
    "clock.epilogue": "06:00", "news[].at": "04:20",
    "news[].headline": "Tariff threat: 100% on all imports", "player.positions[].symbol":
    _SYMBOL_EXAMPLE, "player.positions[].side": "long", "player.positions[].notional_usd": 250_000,
    "base": "1011", "objectives[].metric": "end_equity_usd", "objectives[].at_least": 400_000,
    "objectives[].at_most": 25, "objectives[].is": True, "lesson_checks[].metric": "adl_hits",
    "lesson_checks[].at_least": 1, "lesson_checks[].at_most": 0, "lesson_checks[].is": True,
    "objectives[].label": "End with at least $400,000", "variants[].name": "thin",
    "variants[].label": "A thin fund: a quarter of today's",
    "variants[].set": ["exchange.fund_multiplier=0.25"],
}
_ALTERNATIVES = ("base", "objectives[].at_most", "objectives[].is", "lesson_checks[].at_most",
                 "lesson_checks[].is")
"""Template lines shown as ``## key = example``: alternatives, or fields whose example needs
another file; uncommenting every ``# key = value`` line leaves them out."""


def _bounds(spec: Field) -> tuple[float | None, float | None]:
    low = 0 if spec.kind in ("usd", "fraction") and spec.min is None else spec.min
    high = {"fraction": 1, "usd": MAX_USD}.get(spec.kind) if spec.max is None else spec.max
    return low, high


def _allowed(spec: Field) -> str:
    """What values a field takes, briefly: ``0 – 1``, ``≥ 0``, ``easy, normal, hard``."""
    low, high = _bounds(spec)
    if spec.kind == "choice":
        return ", ".join(spec.choices)
    if spec.kind == "time":
        return "HH:MM or HH:MM:SS, hours 0–47"
    if spec.kind == "waypoints":
        return "[time, price > 0] pairs, times rising, within the clock"
    if low is not None and high is not None and low == high:
        return _bound_text(low)
    if low is not None and high is not None:
        return f"{_bound_text(low, True)} – {_bound_text(high, True)}"
    if low is not None:
        return f"≥ {_bound_text(low, True)}"
    return f"≤ {_bound_text(high, True)}" if high is not None else ""


def _example(spec: Field, path: str) -> Any:
    if path in _EXAMPLES:
        return _EXAMPLES[path]
    if spec.default is not None or not spec.required:
        return spec.default
    fallback = {"time": "04:00", "choice": (spec.choices or ("",))[0], "str": "..."}
    return fallback.get(spec.kind, spec.min or 1)


def _template_field(key: str, spec: Field, path: str, title: str, live: bool,
                    note: str = "") -> str:
    value = title if path == "title" else _example(spec, path)
    notes = [spec.doc, note, _allowed(spec)]
    if spec.required:
        notes.append("required")
    elif value != spec.default and "default" not in spec.doc:
        notes.append(f"default: {'none' if spec.default is None else _toml(spec.default)}")
    assignment = f"{key} = {_toml(value, grouped=True)}"
    prefix = "" if live and path in _LIVE_IN_TEMPLATE else "## " if path in _ALTERNATIVES \
        else "# "
    return f"{prefix}{assignment:<32}  # " + "; ".join(n for n in notes if n)


def _template_table(node: Table, path: str, title: str, live: bool) -> list[str]:
    """The fields of ``node`` (commented out) and then its sub-tables."""
    lines, sections = [], []
    for key, child in node.fields.items():
        child_path = f"{path}.{key}" if path else key
        if isinstance(child, Field):
            lines.append(_template_field(key, child, child_path, title, live))
        elif isinstance(child, PerSymbol) and isinstance(child.node, Field):
            lines.append(_template_field(f"{key}.{_SYMBOL_EXAMPLE}", child.node,
                                         f"{child_path}.<SYM>", title, live, child.doc))
        else:
            sections.append((child, child_path))
    for child, child_path in sections:
        lines += [""] + _template_section(child, child_path, title, live)
    return lines


def _template_section(node: Any, path: str, title: str, live: bool) -> list[str]:
    if isinstance(node, Table):
        header, inner, walk_path = f"[{path}]", node, path
    elif isinstance(node, PerSymbol):
        header, inner, walk_path = f"[{path}.{_SYMBOL_EXAMPLE}]", node.node, f"{path}.<SYM>"
    else:  # an array of tables: shown as a commented-out example
        header, inner, walk_path, live = f"[[{path}]]", node.table, f"{path}[]", False
    doc = node.doc or inner.doc
    first = ("" if live else "# ") + header + (f"  # {doc}" if doc else "")
    return [first] + _template_table(inner, walk_path, title, live)


def new_level_text(name: str) -> str:
    """A starting level file: every section and field, commented with its default and meaning."""
    name_text = " ".join(name.split())  # a newline in a comment would end the comment
    head = [f"# {name_text}: a crashfloor level (format {FORMAT}).",
            "#",
            "# Every field has a default except each symbol's price. A commented-out line shows a",
            "# field's default (or an example), what it means and what it allows: uncomment it to",
            "# change it. Times are HKT, \"HH:MM\" or \"HH:MM:SS\"; hours past 23 run past "
            "midnight.",
            f"# Check the file with:  crashfloor check levels/{name_text}.toml",
            ""]
    return "\n".join(head + _template_table(SCHEMA, "", name, True)) + "\n"


def _reference_sections(node: Table, path: str, title: str, doc: str):
    """Yield (title, doc, [(field path, Field, note)]) for ``node`` and each sub-table."""
    rows, sections = [], []
    for key, child in node.fields.items():
        child_path = f"{path}.{key}" if path else key
        if isinstance(child, Field):
            rows.append((child_path, child, ""))
        elif isinstance(child, PerSymbol) and isinstance(child.node, Field):
            rows.append((f"{child_path}.<SYM>", child.node, child.doc))
        elif isinstance(child, Table):
            sections.append((child, child_path, f"[{child_path}]", child.doc))
        elif isinstance(child, PerSymbol):
            sections.append((child.node, f"{child_path}.<SYM>", f"[{child_path}.<SYM>]",
                             child.doc or child.node.doc))
        else:
            sections.append((child.table, f"{child_path}[]", f"[[{child_path}]]",
                             child.doc or child.table.doc))
    yield title, doc, rows
    for args in sections:
        yield from _reference_sections(*args)


def objective_vocabulary_markdown() -> list[str]:
    """The metrics ``[[objectives]]`` and ``[[lesson_checks]]`` may name, as a Markdown table."""
    from .objectives import METRICS
    out = ["### The objective vocabulary", "",
           "| Metric | Kind | Meaning |", "|---|---|---|"]
    for m in METRICS.values():
        kind = "yes/no (`is`)" if m.kind == "bool" else \
            f"number{f' ({m.unit})' if m.unit else ''} (`at_least` / `at_most`)"
        out.append(f"| `{m.name}` | {kind} | {m.doc} |")
    return out + [""]


def schema_reference_markdown() -> str:
    """The field reference: one Markdown table per section, generated from the schema, then the
    objective vocabulary."""
    out = []
    for title, doc, rows in _reference_sections(SCHEMA, "", "Top level", ""):
        if not rows:
            continue
        out += [f"### `{title}`" if title.startswith("[") else f"### {title}", ""]
        out += [doc, ""] if doc else []
        out += ["| Field | Kind | Default | Allowed | Meaning |", "|---|---|---|---|---|"]
        for path, spec, note in rows:
            default = "required" if spec.required else "—" if spec.default is None else \
                f"`{_toml(spec.default, grouped=True)}`"
            meaning = "; ".join(n for n in (spec.doc, note) if n)
            cells = [f"`{path}`", spec.kind, default, _allowed(spec), meaning]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    out += objective_vocabulary_markdown()
    return "\n".join(out)
