"""Walking the schema over a parsed level: types, ranges, unknown keys and defaults, one field
at a time (``_Walker``); the rules across fields build on it in ``validation``."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from .model import _child, time_to_seconds
from .problems import ABSENT, Problem, _key_hint, _suggest, _type_name
from .schema import SCHEMA, Field, ListOf, PerSymbol, Table
from .tomlpos import KeyPath, path_text
from .values import _KIND_CHECKS, _bound_text, _check_time, _number


SHARED_FUND_KEY = "shared"
_SHARED_FUND_PATH = ("exchange", "insurance_fund")
_SYMBOL_NAME = re.compile(r"[A-Z0-9]{1,16}")
_MAX_PRICE_USD = SCHEMA.fields["symbols"].node.fields["price"].max


# --- checking a whole level -------------------------------------------------------------------
class _Walker:
    """Walks the schema over the parsed file, filling defaults and collecting problems (the rules
    across fields are ``validation._Checker``)."""

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
            return _Walker(self.raw).table(spec, ABSENT, path)  # quietly: defaults only
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

    def raw_value(self, path: KeyPath) -> Any:
        node = self.raw
        for part in path:
            node = _child(node, part)
        return node
