"""Capture and restore the whole mutable state of an engine object graph (for saves).

``capture(root)`` walks a live object graph — a ``CrashRun`` and everything it reaches — and
returns a tree of msgpack-native values; ``restore(template, tree)`` (``engine.saves.restore``)
writes such a tree back into a *freshly built* graph of the same shape (same level, same seed),
in place. Nothing is listed by hand: every attribute of every engine object is saved, so a field
added to an agent or to the exchange later is saved and restored without touching this module.

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
counterpart and is filled in place (so every reference to it — a listener, ``sim.desks`` — stays
valid); containers are refilled in place; anything new is built. Types are checked against the
fresh graph (an int where the engine has an array, a float64 array where it has int64, an
unknown class or field all raise ``StateError``): every field, and every item of a list, tuple,
deque or dict against the fresh item at its place (past the fresh container's end, against the
kind all its items share: an int in place of an order book or an agent, or after the books, is
refused; an agents list that grew is the audit's to refuse); a NaN or an
infinity where the engine holds a whole number is refused; the tree nests at most ``MAX_DEPTH``
deep and, when ``restore`` is given ``max_nodes``, has at most that many containers. A field
missing from the tree keeps its fresh value: that is how saves from before a field existed still
load. The state's meaning (money, positions, orders) is checked afterwards by ``engine.saves.audit``.
"""

from __future__ import annotations

import enum
import importlib
import struct
import types
from collections import defaultdict, deque
from decimal import Decimal
from typing import Any

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
"""Engine objects that are inputs, not state: the fresh graph's own stays (so do the level's
typed records, every class of ``engine.level.config``: ``is_input``)."""
_INPUT_MODULE = "engine.level.config:"
_AFTER_RESTORE = {"engine.accounts:Accounts": "_views",
                  "engine.exchange.front:Exchange": "_after_restore",
                  "engine.sim:Simulation": "_after_restore",
                  "engine.crash:CrashRun": "_after_restore"}
"""Methods called on an object once its fields are restored (rebuild derived wiring)."""


class StateError(ValueError):
    """The tree does not describe a state this engine can hold (the message names where)."""


def is_input(name: str) -> bool:
    """Is the class of this ``class_name`` an input (the level and its records), not state?"""
    return name in _SKIP_CLASSES or name.startswith(_INPUT_MODULE)


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
            if is_input(name):
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
