"""A level's problems: ``Problem`` (one thing wrong at one key path), safe error text (escaped,
shortened, at most ``MAX_PROBLEMS`` lines), TOML-shaped values and did-you-mean hints."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from ..errors import LevelError
from ..text import escape_text, shorten
from .schema import Table, walk
from .tomlpos import KeyPath, path_text, quote


ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
"""Marks a key that the file does not set."""
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


def _closest(word: str, choices: list[str]) -> str | None:
    """The choice most like ``word`` (ratio ≥ 0.6), each choice also judged by its first
    ``len(word)`` characters, so a misspelt start of a long key ("adl_brekaer") finds it
    ("adl_breaker_usd_per_min") rather than a short key that merely shares letters."""
    best, score = None, 0.6
    for choice in choices:
        for form in (choice, choice[:len(word)]):
            ratio = difflib.SequenceMatcher(None, word, form).ratio()
            if ratio > score:
                best, score = choice, ratio
    return best


def _suggest(word: str, choices: list[str]) -> str:
    close = _closest(word, choices)
    return f"did you mean {close}? " if close else ""


def _key_hint(key: Any, table: Table, prefix: str) -> str:
    """For an unknown key: the same key in another section, else a close one in this table."""
    if not isinstance(key, str):
        return ""
    homes = [path for path, _ in walk() if path.rsplit(".", 1)[-1] == key]
    near = _closest(key, list(table.fields))
    close = homes or ([prefix + near] if near else [])
    return f"did you mean {close[0]}? " if close else ""
