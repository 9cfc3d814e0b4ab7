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
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from .errors import InvalidInput, LevelError
from .level_schema import FORMAT, MAX_LEVEL_BYTES, PRESETS, SCHEMA, Field, ListOf, PerSymbol, \
    Table, walk
from .tomlpos import KeyLines, KeyPath, parse_path, path_text, quote

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
"""Marks a key that the file does not set."""

SHARED_FUND_KEY = "shared"
_SHARED_FUND_PATH = ("exchange", "insurance_fund")
_SYMBOL_NAME = re.compile(r"[A-Z0-9]{1,16}")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_MAX_HOURS = 47
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
            raise InvalidInput(f"--variant {name}: the level defines no variant of that name "
                               f"(its variants: {', '.join(named) or 'none'}); give overrides "
                               f"as {name}:key=value,...")
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
        raise InvalidInput(f"not {_TIME_FORMAT}: {text!r}")
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
        text = path_text(self.path) or "(top level)"
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
        return f"exactly {_bound_text(low)}"
    if low is not None and high is not None:
        return f"between {_bound_text(low)} and {_bound_text(high)}"
    if low is not None:
        return f"at least {_bound_text(low)}"
    return f"at most {_bound_text(high)}" if high is not None else ""


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
    if not math.isfinite(value):
        return None, f"must be a finite number, not {_toml(value)}"
    value = float(value) if spec.kind in ("float", "fraction") else value
    return value, _in_range(spec, value)


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
            seconds = _parse_time(point[0])
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
        if not _number(pair[1]) or not math.isfinite(pair[1]) or pair[1] <= 0:
            self.report(path, "the price must be a positive number", pair)
            return None
        return [when, float(pair[1])]

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
        if self.ok(start, end) and _parse_time(clock["end"]) <= _parse_time(clock["start"]):
            self.report_pair(end, start, clock)
        if clock["epilogue"] is not None and self.ok(end, epilogue) and \
                _parse_time(clock["epilogue"]) <= _parse_time(clock["end"]):
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
        low, high = _parse_time(start), _parse_time(stop)
        clock = (("clock", "start"), ("clock", "end"), ("clock", "epilogue"))
        message = f"must be within the clock, {start} to {stop}"
        for i, item in enumerate(data["news"]):
            path = ("news", i, "at")
            if item["at"] is not None and self.ok(path) and \
                    not low <= _parse_time(item["at"]) <= high:
                self.report(path, message, item["at"], related=clock)
        for symbol, table in data["symbols"].items():
            path = ("symbols", symbol, "waypoints")
            for i, (when, _) in enumerate(table["waypoints"] if self.ok(path) else ()):
                if _parse_time(when) > high:  # earlier ones are history: a later start skips them
                    self.report(path + (i,), f"the time must be at or before the clock's stop, "
                                f"{stop}", self.raw_value(path + (i,)), related=clock)

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


def _read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes; refuses a missing, unreadable or oversized file before reading it all."""
    limit = f"a level file may be at most {MAX_LEVEL_BYTES:,} bytes"
    try:
        if path.is_dir():
            raise LevelError([f"{label}: is a directory, not a level file"])
        size = path.stat().st_size
        if size > MAX_LEVEL_BYTES:
            raise LevelError([f"{label}: the file is {size:,} bytes; {limit}"])
        with path.open("rb") as file:
            content = file.read(MAX_LEVEL_BYTES + 1)  # bounded: stat lies for pipes and devices
    except FileNotFoundError:
        raise LevelError([f"{label}: no such file"]) from None
    except OSError as error:
        raise LevelError([f"{label}: cannot be read: {error.strerror or error}"]) from None
    if len(content) > MAX_LEVEL_BYTES:
        raise LevelError([f"{label}: the file is larger than {MAX_LEVEL_BYTES:,} bytes; {limit}"])
    return content


def _decode(content: bytes, label: str) -> str:
    try:
        return content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise LevelError([f"{label}: line {line}: not UTF-8 text — byte "
                          f"0x{content[error.start]:02x}; save the file as UTF-8"]) from None


def _parse_toml(text: str, label: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LevelError([_toml_error_text(str(error), label)]) from None


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
    key, equals, value_text = text.partition("=")
    key = key.strip()
    if not equals:
        return f"--set {text}: expected key=value, e.g. crowd.long_share=0.9"
    path = parse_path(key)
    if not path or not isinstance(path[0], str):
        return f"--set {text}: {key!r} is not a key path (e.g. symbols.BTC.price, news[0].at)"
    error = _override_path_error(path, raw)
    if error:
        return f"--set {text}: {error}"
    try:
        value = tomllib.loads(f"value = {value_text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()  # a bare word: market_makers.withdrawal=scripted
    return _Override(f"{key}={value_text.strip()}", path, value)


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
        elif isinstance(node, ListOf) and not isinstance(part, int):
            return f"{here} is an array of tables: give an index, e.g. {here}[0].{part}"
        elif isinstance(node, ListOf):
            count = len(raw) if isinstance(raw, list) else 0
            if part >= count:
                have = "none" if not count else f"{here}[0]" if count == 1 else \
                    f"{here}[0] to {here}[{count - 1}]"
                return f"there is no {here}[{part}]; the level's [[{here}]] tables: {have}"
            node = node.table
        else:
            return f"{here} is a single value; it has no part {path_text(path[depth:])}"
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
    for part, following in zip(override.path, override.path[1:]):
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
def load_level(path: str | Path, overrides: list[str] = ()) -> Level:
    """Read, validate and return a level; raise ``LevelError`` listing every problem found.

    ``overrides`` are ``"dotted.path=value"`` strings (the CLI's ``--set``); the value is read
    as a TOML value when it parses as one, else as a bare string.
    """
    path = Path(path)
    label = str(path)
    content = _read_bytes(path, label)
    text = _decode(content, label)
    raw = _parse_toml(text, label)
    lines = KeyLines(text, raw)
    digest = hashlib.sha256(content)
    if "base" in raw:
        raw = _with_base(raw, path, label, digest, [path.resolve()])
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
        raise LevelError(_file_problem_lines(problems, label, lines) + bad_overrides)
    if parsed:
        data, problems = validate(merged)
        if problems:
            raise LevelError([_override_problem_text(p, parsed, label, lines) for p in problems])
    return Level(path, data, digest.hexdigest(), list(overrides), merged)


MAX_BASE_DEPTH = 4


def _with_base(raw: dict, path: Path, label: str, digest, chain: list[Path]) -> dict:
    """``raw`` laid over its base level's raw TOML (recursively); the base's bytes go into
    ``digest``. Problems with the base itself are reported against the base file."""
    name = raw["base"]
    if not isinstance(name, str):
        raise LevelError([f"{label}: base = {_toml(name)} — must be a level name or a path "
                          f"(a string)"])
    candidate = (path.parent / name) if name.endswith(".toml") else path.parent / f"{name}.toml"
    if not candidate.is_file():
        names = level_names(path.parent)
        raise LevelError([f"{label}: base = {_toml(name)} — no such level next to this file; "
                          f"{_suggest(name, names)}levels there: {', '.join(names) or '(none)'}"])
    resolved = candidate.resolve()
    if resolved in chain:
        loop = " → ".join(p.name for p in chain + [resolved])
        raise LevelError([f"{label}: base = {_toml(name)} — the bases form a loop: {loop}"])
    if len(chain) > MAX_BASE_DEPTH:
        raise LevelError([f"{label}: base = {_toml(name)} — bases nest more than "
                          f"{MAX_BASE_DEPTH} deep"])
    base_label = str(candidate)
    content = _read_bytes(candidate, base_label)
    digest.update(content)
    base_text = _decode(content, base_label)
    base_raw = _parse_toml(base_text, base_label)
    if "base" in base_raw:
        base_raw = _with_base(base_raw, candidate, base_label, digest, chain + [resolved])
    _, problems = validate(base_raw)
    if problems:
        raise LevelError([f"{label}: its base has problems:"]
                         + _file_problem_lines(problems, base_label,
                                               KeyLines(base_text, base_raw)))
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
    """A level from its raw TOML dict (``Level.raw``), as saved inside a save file."""
    data, problems = validate(copy.deepcopy(raw))
    label = str(path)
    if problems:
        raise LevelError([f"{label}: {p.subject()} — {p.message}" for p in problems])
    return Level(Path(path), data, sha256, [], copy.deepcopy(raw))


def level_names(levels_dir: str | Path) -> list[str]:
    """The names (file stems) of the ``*.toml`` files in ``levels_dir``, sorted."""
    return sorted(file.stem for file in Path(levels_dir).glob("*.toml") if file.is_file())


def find_level(name_or_path: str, levels_dir: str | Path) -> Path:
    """``name_or_path`` if that file exists, else ``levels_dir/<name>.toml``."""
    candidate = Path(name_or_path)
    if candidate.exists():
        return candidate
    named = Path(levels_dir) / f"{name_or_path}.toml"
    if named.exists():
        return named
    names = level_names(levels_dir)
    hint = _suggest(candidate.stem, names)
    raise LevelError([f"{name_or_path}: no such level file, and no level of that name in "
                      f"{levels_dir}; {hint}available levels: {', '.join(names) or '(none)'}"])


def list_levels(levels_dir: str | Path) -> list[tuple[str, str, str]]:
    """(name, title, summary) for every level, by ``order`` then name; an invalid one shows its
    first problem (at the default order, 100)."""
    out = []
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
    high = 1 if spec.kind == "fraction" and spec.max is None else spec.max
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
