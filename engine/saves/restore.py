"""Restore: write a state tree from ``capture`` back into a freshly built engine object graph, in
place, with every type checked against the fresh graph (see ``engine.saves.state``)."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections import defaultdict, deque
from decimal import Decimal, InvalidOperation
from typing import Any
from collections.abc import Callable

import numpy as np

from .state import (MAX_DEPTH, T_DECIMAL, T_DEFAULTDICT, T_DEQUE, T_DICT, T_ENUM, T_FROZENSET,
                    T_GENERATOR, T_METHOD, T_NPSCALAR, T_OBJECT, T_REF, T_SET, T_SKIP, T_TUPLE,
                    _AFTER_RESTORE, _FACTORIES, StateError, attributes, is_input,
                    class_name, resolve_class)


# --- restore ------------------------------------------------------------------------------------
def _kind(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float   # ints and floats are one kind: a counter may become a running mean
    return type(v)


class _Restore:
    def __init__(self, max_nodes: int | None = None) -> None:
        self.memo: list[Any] = []
        self.used: set[int] = set()
        self.after: list[tuple[object, str]] = []
        self.depth = 0
        self.nodes = 0
        self.max_nodes = max_nodes

    def _reuse(self, tv: Any, kind: type) -> Any:
        """The fresh container to refill in place, if it is one of ``kind`` not used yet."""
        if type(tv) is kind and id(tv) not in self.used:
            self.used.add(id(tv))
            return tv
        return None

    def value(self, tv: Any, node: Any, path: str) -> Any:
        if node is None or type(node) in (bool, int, float, str, bytes):
            return node
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise StateError(f"{path}: more than {self.max_nodes:,} nodes in the state")
        if self.depth >= MAX_DEPTH:
            raise StateError(f"{path}: the state nests more than {MAX_DEPTH} deep")
        self.depth += 1
        try:
            return self._value(tv, node, path)
        finally:
            self.depth -= 1

    def items(self, tv: Any, nodes: list, path: str) -> list:
        """The items of a saved sequence, each of the kind the fresh sequence ``tv`` holds at
        that place (past its end: the kind all its items share, if they share one)."""
        fresh = tv if isinstance(tv, (list, tuple, deque)) else ()
        common = _common_kind(fresh)
        out = []
        for i, x in enumerate(nodes):
            hint = fresh[i] if i < len(fresh) else None
            where = f"{path}[{i}]"
            item = self.value(hint, x, where)
            _check_type(hint if i < len(fresh) else common, item, where)
            out.append(item)
        return out

    def _value(self, tv: Any, node: Any, path: str) -> Any:
        if type(node) is list:
            out = self._reuse(tv, list)
            out = [] if out is None else out
            self.memo.append(out)
            items = self.items(tv, node, path)
            out[:] = items
            return out
        if isinstance(node, np.ndarray):
            if (isinstance(tv, np.ndarray) and id(tv) not in self.used and tv.dtype == node.dtype
                    and tv.shape == node.shape and tv.flags.writeable):
                self.used.add(id(tv))
                tv[...] = node
                out = tv
            else:
                out = node.copy()
            self.memo.append(out)
            return out
        if type(node) is not dict or len(node) != 1:
            raise StateError(f"{path}: unexpected {type(node).__name__} in the state")
        ((tag, payload),) = node.items()
        handler = _HANDLERS.get(tag) if type(tag) is int else None
        if handler is None:
            raise StateError(f"{path}: unknown node tag {tag!r}")
        return handler(self, tv, payload, path)

    # --- tagged nodes -------------------------------------------------------------------------
    def ref(self, tv, payload, path):
        if type(payload) is not int or not 0 <= payload < len(self.memo):
            raise StateError(f"{path}: reference {payload!r} to nothing saved before it")
        return self.memo[payload]

    def tuple_(self, tv, payload, path):
        return tuple(self.items(tv, _list(payload, path), path))

    def dict_(self, tv, payload, path, out=None):
        flat = _list(payload, path)
        if len(flat) % 2:
            raise StateError(f"{path}: a dict with an odd number of keys and values")
        if out is None:
            out = self._reuse(tv, dict)
            out = {} if out is None else out
            self.memo.append(out)
        pairs = []
        fresh = tv if isinstance(tv, dict) else {}
        common = _common_kind(fresh.values())
        for i in range(0, len(flat), 2):
            key = self.value(None, flat[i], f"{path} key")
            try:
                hint = fresh.get(key)
                known = key in fresh
            except TypeError:
                raise StateError(f"{path}: unhashable key {_short(key)}") from None
            where = f"{path}[{_short(key)}]"
            item = self.value(hint, flat[i + 1], where)
            _check_type(hint if known else common, item, where)
            pairs.append((key, item))
        out.clear()
        out.update(pairs)
        return out

    def defaultdict_(self, tv, payload, path):
        name, flat = _pair(payload, path)
        factory = _FACTORIES.get(name) if isinstance(name, str) else None
        if factory is None:
            raise StateError(f"{path}: defaultdict of unknown default {name!r}")
        out = self._reuse(tv, defaultdict)
        if out is None or out.default_factory is not factory:
            out = defaultdict(factory)
        self.memo.append(out)
        return self.dict_(tv, flat, path, out)

    def deque_(self, tv, payload, path):
        maxlen, items = _pair(payload, path)
        if maxlen is not None and (type(maxlen) is not int or maxlen < 0):
            raise StateError(f"{path}: bad deque length {maxlen!r}")
        out = self._reuse(tv, deque)
        if out is None or out.maxlen != maxlen:
            out = deque(maxlen=maxlen)
        self.memo.append(out)
        values = self.items(tv, _list(items, path), path)
        out.clear()
        out.extend(values)
        return out

    def set_(self, tv, payload, path):
        out = self._reuse(tv, set)
        out = set() if out is None else out
        self.memo.append(out)
        values = [self.value(None, x, path) for x in _list(payload, path)]
        out.clear()
        try:
            out.update(values)
        except TypeError:
            raise StateError(f"{path}: unhashable set member") from None
        return out

    def frozenset_(self, tv, payload, path):
        try:
            return frozenset(self.value(None, x, path) for x in _list(payload, path))
        except TypeError:
            raise StateError(f"{path}: unhashable set member") from None

    def decimal(self, tv, payload, path):
        try:
            return Decimal(payload) if isinstance(payload, str) else _bad(path, "a decimal")
        except InvalidOperation:
            raise StateError(f"{path}: bad decimal {payload!r}") from None

    def npscalar(self, tv, payload, path):
        if not isinstance(payload, np.ndarray) or payload.ndim != 0:
            raise StateError(f"{path}: a numpy scalar must be a 0-d array")
        return payload[()]

    def enum_(self, tv, payload, path):
        name, value = _pair(payload, path)
        cls = resolve_class(name, path)
        if not issubclass(cls, enum.Enum):
            raise StateError(f"{path}: {name} is not an enum")
        try:
            return cls(self.value(None, value, path))
        except (ValueError, TypeError):
            raise StateError(f"{path}: {value!r} is not a {cls.__name__}") from None

    def skip(self, tv, payload, path):
        if payload == "memoryview":
            return tv if type(tv) is memoryview else None
        if payload == "function" and callable(tv):
            return tv
        if is_input(payload) and tv is not None and class_name(type(tv)) == payload:
            return tv
        raise StateError(f"{path}: the fresh run has no {payload!r} here")

    def method(self, tv, payload, path):
        owner_node, name = _pair(payload, path)
        owner = self.value(getattr(tv, "__self__", None), owner_node, f"{path}.__self__")
        bound = getattr(owner, name, None) if isinstance(name, str) else None
        if not callable(bound) or getattr(bound, "__self__", None) is not owner:
            raise StateError(f"{path}: {type(owner).__name__} has no method {name!r}")
        return bound

    def generator(self, tv, payload, path):
        name, state = _pair(payload, path)
        if isinstance(tv, np.random.Generator) and id(tv) not in self.used and \
                type(tv.bit_generator).__name__ == name:
            self.used.add(id(tv))
            out = tv
        elif name in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
            out = np.random.Generator(getattr(np.random, name)())
        else:
            raise StateError(f"{path}: unknown bit generator {name!r}")
        self.memo.append(out)
        state = self.value(None, state, f"{path}.state")
        try:
            out.bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise StateError(f"{path}: bad random generator state ({exc})") from None
        return out

    def object_(self, tv, payload, path):
        name, flat = _pair(payload, path)
        cls = resolve_class(name, path)
        flat = _list(flat, path)
        if len(flat) % 2:
            raise StateError(f"{path}: {name} with an odd number of names and values")
        in_place = type(tv) is cls and id(tv) not in self.used
        if in_place:
            obj = tv
            self.used.add(id(obj))
        else:
            try:
                obj = cls.__new__(cls)
            except TypeError as exc:
                raise StateError(f"{path}: cannot rebuild a {name} ({exc})") from None
        self.memo.append(obj)
        fresh = dict(attributes(obj)) if in_place else {}
        allowed = _field_names(cls)
        moved = getattr(cls, "_moved_fields", {})
        for i in range(0, len(flat), 2):
            key = flat[i]
            where = f"{path}.{key}"
            target, field_name = obj, key
            if type(key) is str and key in getattr(cls, "_dropped_fields", ()):
                self.value(None, flat[i + 1], where)  # read (its references count), then dropped
                continue
            if type(key) is str and key in moved and in_place:
                target, field_name = _moved_target(obj, moved[key], where)
            elif type(key) is not str or (allowed is not None and key not in allowed):
                raise StateError(f"{path}: {name} has no field {key!r}")
            old = getattr(target, field_name, None) if target is not obj else fresh.get(key)
            if old is not None and is_input(class_name(type(old))) \
                    and not (isinstance(flat[i + 1], dict) and T_SKIP in flat[i + 1]):
                # an older save kept this input (a level section) as a dict: read it (its
                # references count) and keep the fresh run's record
                self.value(None, flat[i + 1], where)
                continue
            new = self.value(old, flat[i + 1], where)
            _check_type(old, new, where)
            try:
                object.__setattr__(target, field_name, new)
            except (AttributeError, TypeError) as exc:
                raise StateError(f"{where}: cannot be set ({exc})") from None
        if not in_place and dataclasses.is_dataclass(cls):
            _fill_defaults(obj)
        hook = _AFTER_RESTORE.get(class_name(cls))  # by class: older saves name it elsewhere
        if hook is not None:
            self.after.append((obj, hook))
        return obj


_HANDLERS: dict[int, Callable] = {
    T_REF: _Restore.ref, T_TUPLE: _Restore.tuple_, T_DICT: _Restore.dict_,
    T_DEFAULTDICT: _Restore.defaultdict_, T_DEQUE: _Restore.deque_, T_SET: _Restore.set_,
    T_FROZENSET: _Restore.frozenset_, T_DECIMAL: _Restore.decimal, T_NPSCALAR: _Restore.npscalar,
    T_ENUM: _Restore.enum_, T_SKIP: _Restore.skip, T_METHOD: _Restore.method,
    T_GENERATOR: _Restore.generator, T_OBJECT: _Restore.object_,
}


def _fill_defaults(obj: object) -> None:
    """Give a rebuilt record (a command, an event) the default of every field its save predates
    (``PlaceOrder.lots`` in a format-1 save)."""
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if not hasattr(obj, f.name) and f.default is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default)


def _moved_target(obj: object, dotted: str, where: str) -> tuple[object, str]:
    """(object, field) that a field of an older save lives in now: ``_moved_fields`` maps the
    old name to a dotted path from the object (e.g. the exchange's ``_orders`` to
    ``ledger.orders`` since the exchange was split into parts)."""
    *parts, field_name = dotted.split(".")
    target = obj
    for part in parts:
        target = getattr(target, part, None)
        if target is None:
            raise StateError(f"{where}: moved to {dotted!r}, which this graph does not have")
    return target, field_name


def _field_names(cls: type) -> set[str] | None:
    """The fields a class can hold, when it says (slots or dataclass fields); None: any."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        if "__slots__" not in klass.__dict__ and not dataclasses.is_dataclass(klass):
            return None
        slots = klass.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    if dataclasses.is_dataclass(cls):
        names.update(f.name for f in dataclasses.fields(cls))
    return names


def _check_type(old: Any, new: Any, where: str) -> None:
    """The saved value must be of the kind the fresh engine holds there (None goes with any); a
    number where the engine holds a whole number must be finite."""
    kind_old, kind_new = _kind(old), _kind(new)
    if kind_old is None or kind_new is None:
        return
    if type(new) is float and not math.isfinite(new) and isinstance(old, (int, np.integer)):
        raise StateError(f"{where}: the engine holds a whole number here, the save {new!r}")
    if kind_old is not kind_new:
        raise StateError(f"{where}: the engine holds a {_describe(old)} here, the save a "
                         f"{_describe(new)}")
    if kind_old is np.ndarray and (old.dtype != new.dtype or old.ndim != new.ndim
                                   or old.shape[:-1] != new.shape[:-1]):
        raise StateError(f"{where}: the engine holds a {_describe(old)} here, the save a "
                         f"{_describe(new)}")


def _common_kind(values) -> Any:
    """The kind every non-None value shares (``_kind``), or None when they do not share one."""
    common = None
    for v in values:
        kind = _kind(v)
        if kind is None:
            continue
        if common is None:
            common = v
        elif _kind(common) is not kind:
            return None
    return common


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"{v.dtype} array of shape {v.shape}"
    return type(v).__name__


def _list(payload: Any, path: str) -> list:
    return payload if type(payload) is list else _bad(path, "a list")


def _pair(payload: Any, path: str) -> tuple[Any, Any]:
    if type(payload) is not list or len(payload) != 2:
        _bad(path, "a pair")
    return payload[0], payload[1]


def _bad(path: str, what: str):
    raise StateError(f"{path}: malformed node (expected {what})")


def restore(template: object, tree: Any, max_nodes: int | None = None) -> None:
    """Write ``tree`` (from ``capture``) into ``template``, a freshly built graph, in place.
    ``StateError`` (naming where) if the tree is not a state of this graph, nests deeper than
    ``MAX_DEPTH`` or has more than ``max_nodes`` container nodes."""
    r = _Restore(max_nodes)
    out = r.value(template, tree, "run")
    if out is not template:
        raise StateError(f"run: the save holds a {type(out).__name__}, not a "
                         f"{type(template).__name__}")
    for obj, hook in r.after:
        getattr(obj, hook)()
