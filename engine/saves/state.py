"""Capture and restore the whole mutable state of an engine object graph (for saves).

``capture(root)`` walks a live object graph — a ``CrashRun`` and everything it reaches — and
returns a tree of msgpack-native values; ``restore(template, tree)`` writes such a tree back into
a *freshly built* graph of the same shape (same level, same seed), in place. Nothing is listed by
hand: every attribute of every engine object is saved, so a field added to an agent or to the
exchange later is saved and restored without touching this module.

What is walked, and how it is written:

* ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes`` and ``list`` as themselves (ints past
  64 bits as ext ``BIGINT``); numpy arrays as ext ``NDARRAY`` (dtype, shape, raw bytes);
* every other value as a one-entry map ``{tag: payload}``: tuples, dicts (any keys, insertion
  order), deques, sets (sorted), defaultdicts, enums, Decimals, numpy scalars, the numpy
  ``Generator`` (its bit generator's state) and **engine objects** — instances of classes
  defined in an ``engine`` module, as their class name and attributes (``__dict__`` and slots);
* identity is kept: a mutable value (engine object, list, dict, deque, set, array, generator)
  reached a second time is written as a reference to its first occurrence (pre-order number),
  so an order book's records shared by its order index and its price queues, or the generator
  shared by the simulation and the exchange, come back shared;
* wiring is not state: bound methods are written as (object reference, name); ``memoryview``s
  and the ``Level`` are skipped (kept from the fresh graph, views rebuilt by a per-class hook);
  callables from outside the engine (a UI listener) are left out of the lists that hold them.

``restore`` follows the tree and the fresh graph side by side: an engine object meets its fresh
counterpart and is filled in place (so every reference to it — a listener, ``ex.desks`` — stays
valid); containers are refilled in place; anything new is built. Types are checked against the
fresh graph (an int where the engine has an array, a float64 array where it has int64, an
unknown class or field all raise ``StateError``): every field, and every item of a list, tuple,
deque or dict against the fresh item at its place (past the fresh container's end, against the
kind all its items share: an int in place of an order book or an agent, or after the books, is
refused; an agents list that grew is the audit's to refuse); a NaN or an
infinity where the engine holds a whole number is refused; the tree nests at most ``MAX_DEPTH``
deep and, when ``restore`` is given ``max_nodes``, has at most that many containers. A field
missing from the tree keeps its fresh value: that is how saves from before a field existed still
load. The state's meaning (money, positions, orders) is checked afterwards by ``engine.audit``.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import math
import struct
import types
from collections import defaultdict, deque
from decimal import Decimal, InvalidOperation
from typing import Any
from collections.abc import Callable

import msgpack
import numpy as np

EXT_NDARRAY = 1
EXT_BIGINT = 2
EXT_CODES = (EXT_NDARRAY, EXT_BIGINT)

T_TUPLE, T_DICT, T_DEQUE, T_SET, T_DEFAULTDICT, T_OBJECT, T_REF, T_METHOD, T_SKIP, T_ENUM, \
    T_DECIMAL, T_GENERATOR, T_NPSCALAR, T_FROZENSET = range(14)

_INT64 = (-(2**63), 2**64 - 1)
_DTYPE_KINDS = "?biufc"
_MAX_NDIM = 8
MAX_DEPTH = 100
"""Nodes nest at most this deep in a state tree (a real run's tree nests about 20 deep)."""
_FACTORIES: dict[str | None, type] = {"int": int, "float": float, "list": list, "dict": dict,
                                      "set": set}
"""defaultdict factories a save may name, by ``__name__`` (looked up with None when a factory
has no name)."""
_SKIP_CLASSES = {"engine.level:Level"}
"""Engine objects that are inputs, not state: the fresh graph's own stays."""
_AFTER_RESTORE = {"engine.accounts:Accounts": "_views",
                  "engine.exchange.front:Exchange": "_after_restore"}
"""Methods called on an object once its fields are restored (rebuild derived wiring)."""


class StateError(ValueError):
    """The tree does not describe a state this engine can hold (the message names where)."""


def class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def is_engine_class(cls: type) -> bool:
    module = cls.__module__
    return module == "engine" or module.startswith("engine.")


def resolve_class(name: object, where: str) -> type[object]:
    """An engine class by ``module:qualname``; nothing outside ``engine`` is ever imported."""
    if not isinstance(name, str) or ":" not in name:
        raise StateError(f"{where}: bad class name {name!r}")
    module_name, _, qualname = name.partition(":")
    if not (module_name == "engine" or module_name.startswith("engine.")):
        raise StateError(f"{where}: class {name!r} is not an engine class")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise StateError(f"{where}: this engine has no class {name!r}") from None
    if not isinstance(obj, type) or not is_engine_class(obj):
        raise StateError(f"{where}: {name!r} is not an engine class")
    return obj


def attributes(obj: object) -> list[tuple[str, Any]]:
    """An object's fields in a fixed order: slots along the MRO (base first), then ``__dict__``.
    Fields a class names in ``_not_state`` (caches it rebuilds itself) are left out."""
    out: list[tuple[str, Any]] = []
    seen = set(getattr(type(obj), "_not_state", ()))
    for cls in reversed(type(obj).__mro__):
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__") or name in seen:
                continue
            seen.add(name)
            if hasattr(obj, name):
                out.append((name, getattr(obj, name)))
    out.extend((k, v) for k, v in getattr(obj, "__dict__", {}).items() if k not in seen)
    return out


# --- arrays and big ints as msgpack ext types --------------------------------------------------
def pack_ndarray(arr: np.ndarray) -> msgpack.ExtType:
    if arr.dtype.kind not in _DTYPE_KINDS or arr.dtype.fields is not None:
        raise StateError(f"cannot save a numpy array of dtype {arr.dtype}")
    dtype = arr.dtype.str.encode()
    head = struct.pack(f"<B{len(dtype)}sB{arr.ndim}Q", len(dtype), dtype, arr.ndim, *arr.shape)
    return msgpack.ExtType(EXT_NDARRAY, head + np.ascontiguousarray(arr).tobytes())


def unpack_ndarray(data: bytes) -> np.ndarray:
    """A read-only array over ``data``; every length and the dtype are checked first."""
    try:
        (n,) = struct.unpack_from("<B", data, 0)
        dtype = np.dtype(bytes(data[1:1 + n]).decode("ascii"))
        (ndim,) = struct.unpack_from("<B", data, 1 + n)
        if ndim > _MAX_NDIM:
            raise StateError(f"array of {ndim} dimensions")
        shape = struct.unpack_from(f"<{ndim}Q", data, 2 + n)
    except (struct.error, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"malformed array header ({exc})") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
        raise StateError(f"array of unsupported dtype {dtype}")
    offset = 2 + n + 8 * ndim
    count = 1
    for dim in shape:
        count *= dim
    if count * dtype.itemsize != len(data) - offset:
        raise StateError(f"array of shape {tuple(shape)} and dtype {dtype} needs "
                         f"{count * dtype.itemsize} bytes, the file has {len(data) - offset}")
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)


def ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_NDARRAY:
        return unpack_ndarray(data)
    if code == EXT_BIGINT:
        if not 0 < len(data) <= 64:
            raise StateError(f"big integer of {len(data)} bytes")
        return int.from_bytes(data, "little", signed=True)
    raise StateError(f"unknown msgpack ext code {code} (this engine knows {list(EXT_CODES)})")


def _bigint(value: int) -> msgpack.ExtType:
    size = (value.bit_length() + 8) // 8
    return msgpack.ExtType(EXT_BIGINT, value.to_bytes(size, "little", signed=True))


# --- capture ------------------------------------------------------------------------------------
class _Capture:
    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.keep: list[object] = []   # what the memo's ids point to stays alive meanwhile

    def _remember(self, value: object) -> None:
        self.memo[id(value)] = len(self.memo)
        self.keep.append(value)

    def value(self, v: Any, path: str) -> Any:
        if v is None or type(v) in (bool, float, str, bytes):
            return v
        if type(v) is int:
            return v if _INT64[0] <= v <= _INT64[1] else _bigint(v)
        ref = self.memo.get(id(v))
        if ref is not None:
            return {T_REF: ref}
        if type(v) is list:
            self._remember(v)
            return [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)
                    if not _foreign_callable(x)]
        if isinstance(v, np.ndarray):
            self._remember(v)
            return pack_ndarray(v)
        if isinstance(v, np.generic):
            return {T_NPSCALAR: pack_ndarray(np.asarray(v))}
        if isinstance(v, enum.Enum):
            return {T_ENUM: [class_name(type(v)), self.value(v.value, path)]}
        if type(v) is tuple:
            return {T_TUPLE: [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]}
        if type(v) is defaultdict:
            self._remember(v)
            name = getattr(v.default_factory, "__name__", None)
            if _FACTORIES.get(name) is not v.default_factory:
                raise StateError(f"{path}: cannot save a defaultdict of {v.default_factory!r}")
            return {T_DEFAULTDICT: [name, self._pairs(v, path)]}
        if type(v) is dict:
            self._remember(v)
            return {T_DICT: self._pairs(v, path)}
        if type(v) is deque:
            self._remember(v)
            return {T_DEQUE: [v.maxlen, [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]]}
        if type(v) in (set, frozenset):
            if type(v) is set:
                self._remember(v)
            items = [self.value(x, path) for x in _sorted(v, path)]
            return {T_SET if type(v) is set else T_FROZENSET: items}
        if type(v) is Decimal:
            return {T_DECIMAL: str(v)}
        if isinstance(v, np.random.Generator):
            self._remember(v)
            bitgen = v.bit_generator
            return {T_GENERATOR: [type(bitgen).__name__, self.value(bitgen.state, path)]}
        if type(v) is memoryview:
            return {T_SKIP: "memoryview"}
        if hasattr(v, "__self__") and hasattr(v, "__func__"):   # a bound method
            return {T_METHOD: [self.value(v.__self__, f"{path}.__self__"), v.__func__.__name__]}
        if isinstance(v, (types.FunctionType, types.BuiltinFunctionType)):
            return {T_SKIP: "function"}
        cls = type(v)
        if is_engine_class(cls):
            name = class_name(cls)
            if name in _SKIP_CLASSES:
                return {T_SKIP: name}
            self._remember(v)
            flat: list[Any] = []
            for key, x in attributes(v):
                flat.append(key)
                flat.append(self.value(x, f"{path}.{key}"))
            return {T_OBJECT: [name, flat]}
        raise StateError(f"{path}: cannot save a {cls.__module__}.{cls.__qualname__}")

    def _pairs(self, d: dict, path: str) -> list:
        flat: list[Any] = []
        for k, x in d.items():
            flat.append(self.value(k, f"{path} key"))
            flat.append(self.value(x, f"{path}[{k!r}]"))
        return flat


def _foreign_callable(x: object) -> bool:
    """A callable from outside the engine in an engine list: wiring (a UI listener), not state."""
    if not callable(x) or isinstance(x, type):
        return False
    owner = getattr(x, "__self__", x)
    return not is_engine_class(type(owner)) and not (
        getattr(x, "__module__", "") or "").startswith("engine")


def _sorted(items, path: str) -> list:
    try:
        return sorted(items)
    except TypeError:
        raise StateError(f"{path}: cannot save a set of unorderable values") from None


def capture(root: object) -> Any:
    """The state tree of ``root`` and everything it reaches (see the module docstring)."""
    return _Capture().value(root, "run")


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
        if payload in _SKIP_CLASSES and tv is not None and class_name(type(tv)) == payload:
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
            new = self.value(old, flat[i + 1], where)
            _check_type(old, new, where)
            try:
                object.__setattr__(target, field_name, new)
            except (AttributeError, TypeError) as exc:
                raise StateError(f"{where}: cannot be set ({exc})") from None
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
