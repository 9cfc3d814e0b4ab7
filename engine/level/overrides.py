"""``--set`` overrides: parsing ``key=value`` against the schema, applying them to the parsed
file, and blaming the override behind a problem."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..text import shorten
from .model import _child
from .problems import _SHOWN_CHARS, Problem, _key_hint, _shown
from .reading import _NESTING_TEXT, _loads, shape_problem
from .schema import MAX_NESTING, SCHEMA, ListOf, PerSymbol, Table
from .tomlpos import KeyLines, KeyPath, parse_path, path_text


MAX_KEY_CHARS = 256
"""A ``--set`` key path is at most this long."""


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


def _unknown_override_key(node: Table, path: KeyPath, depth: int) -> str:
    part = path[depth]
    prefix = path_text(path[:depth])
    hint = _key_hint(part, node, f"{prefix}." if prefix else "")
    where = f"in [{prefix}]" if prefix else "at the top level"
    return f"unknown key {path_text(path[:depth + 1])}; {hint}valid keys {where}: " \
           f"{', '.join(node.fields)}"


def _apply_override(raw: dict, override: _Override) -> None:
    """Set the override's value in the parsed file, making the tables on its way. A venue set
    this way replaces the rule-book fields the file set (``venues.py``: a later setting wins)."""
    if override.path == ("exchange", "venue") and isinstance(raw.get("exchange"), dict):
        from .venues import VENUES
        rule_book = VENUES.get(override.value) if isinstance(override.value, str) else None
        for key in rule_book or ():
            raw["exchange"].pop(key, None)
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
