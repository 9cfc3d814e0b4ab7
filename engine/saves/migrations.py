"""Save-format migrations: ``MIGRATIONS[n]`` turns a format-``n`` (header, state tree) into
format ``n + 1``, a pure function of plain data (no engine objects), kept forever once a format
has been released. The formats are described at ``engine.saves.runs.FORMAT_VERSION``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .state import T_DICT, T_ENUM, T_OBJECT

Migration = Callable[[dict, Any], tuple[dict, Any]]


def _objects(tree: Any, cls: str):
    """The ``[class name, field list]`` pairs of every object of class ``cls`` in a state tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            obj = node.get(T_OBJECT)
            if isinstance(obj, list) and len(obj) == 2 and obj[0] == cls \
                    and isinstance(obj[1], list):
                yield obj
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def object_fields(tree: Any, cls: str):
    """The field lists ``[key, value, key, value, ...]`` of every object of class ``cls``
    (``class_name``) in a state tree, to edit in place (a migration's building block)."""
    for obj in _objects(tree, cls):
        yield obj[1]


def rename_field(flat: list, old: str, new: str, convert: Callable[[Any], Any] | None = None):
    """Rename one field of an object's field list (and convert its value); nothing else moves,
    so references by pre-order number stay valid."""
    for i in range(0, len(flat) - 1, 2):
        if flat[i] == old:
            flat[i] = new
            if convert is not None:
                flat[i + 1] = convert(flat[i + 1])


def _v1_to_v2(header: dict, tree: Any) -> tuple[dict, Any]:
    """Format 1 → 2: the market makers' ``state`` is their ``stance``. (Format 1's checksums
    hashed fewer fields: a format-1 save is another engine build's, loaded marked modified
    unless ``saves --verify`` reproduces it.)"""
    stance = "engine.agents.market_makers:Stance"

    def stances(value: Any) -> Any:
        if not isinstance(value, list):
            return value  # the audit refuses what is not a list of stances
        return [{T_ENUM: [stance, x]} if isinstance(x, str) else x for x in value]

    for flat in object_fields(tree, "engine.agents.market_makers:MarketMakers"):
        rename_field(flat, "state", "stance", stances)
    return header, tree


def _v2_to_v3(header: dict, tree: Any) -> tuple[dict, Any]:
    """Format 2 → 3: the scenario hook is the outside market now. Its noise, news and news
    cursor keep their names; its waypoint paths (``IndexPath`` objects, a class that is gone)
    become plain maps under the dropped field ``paths``, so that every later reference keeps its
    number."""
    for flat in object_fields(tree, "engine.scenario:Scenario"):
        for i in range(1, len(flat), 2):
            if flat[i - 1] == "paths" and isinstance(flat[i], list):
                flat[i] = [_as_map(item) for item in flat[i]]
    _rename_class(tree, "engine.scenario:Scenario", "engine.outside.market:OutsideMarket")
    return header, tree


def _as_map(node: Any) -> Any:
    """An object node as a map node with the same fields (one reference number, like it)."""
    obj = node.get(T_OBJECT) if isinstance(node, dict) else None
    if isinstance(obj, list) and len(obj) == 2 and obj[0] == "engine.scenario:IndexPath":
        return {T_DICT: obj[1]}
    return node


def _rename_class(tree: Any, old: str, new: str) -> None:
    for obj in list(_objects(tree, old)):
        obj[0] = new


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3}
"""``MIGRATIONS[n]`` turns a format-``n`` (header, state tree) into format ``n + 1``: a pure
function of plain data (no engine objects), kept forever once a format has been released."""
