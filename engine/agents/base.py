"""One definition of an agent's state, for the checksum and for saves.

Every agent (and every scenario hook that keeps state) declares its fields in ``__slots__`` and
derives from ``AgentState``. The slots are the one list of what the agent holds:

* **saves** capture and restore exactly the slots (``engine.saves.state`` walks them), so a
  field renamed in the code meets the old name in an old save and the load fails loudly
  (``StateError: ... has no field 'old_name'``) unless a save-format migration renames it
  (``engine.saves.runs.MIGRATIONS``);
* **the checksum** hashes every slot except the ``_wiring`` ones (``state_digest``): references
  to other agents and the level's records, which are inputs or other agents' state, not this
  agent's. A field added to the slots is in the checksum without anyone listing it.
"""

from __future__ import annotations

import enum
import hashlib
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np


class AgentState:
    """Base of the simulation's agents: ``__slots__`` declare the state, ``_wiring`` the
    slots that are not hashed (references and the level's records)."""

    __slots__ = ()
    _wiring: ClassVar[tuple[str, ...]] = ()

    def state_fields(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of every state slot, base classes first, wiring left out."""
        for cls in reversed(type(self).__mro__):
            for name in cls.__dict__.get("__slots__", ()):
                if name not in self._wiring:
                    yield name, getattr(self, name)

    def state_digest(self) -> bytes:
        """Bytes that change whenever the agent's state does (for ``Simulation.checksum``)."""
        h = hashlib.blake2b(digest_size=16)
        for name, value in self.state_fields():
            h.update(name.encode())
            _feed(h, value)
        return h.digest()


def _feed(h: Any, value: Any) -> None:
    """Hash a value by its content, the same on every run and machine (no ids, no set order)."""
    if isinstance(value, np.ndarray):
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, enum.Enum):
        h.update(f"e{value.value!r}".encode())
    elif isinstance(value, (list, tuple, deque)):
        h.update(f"l{len(value)}(".encode())
        for item in value:
            _feed(h, item)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"d{len(value)}(".encode())
        for key, item in value.items():
            _feed(h, key)
            _feed(h, item)
        h.update(b")")
    elif hasattr(value, "__slots__") and not isinstance(value, type):
        h.update(f"o{type(value).__name__}(".encode())
        for cls in reversed(type(value).__mro__):
            for name in cls.__dict__.get("__slots__", ()):
                _feed(h, getattr(value, name))
        h.update(b")")
    else:
        h.update(repr(value).encode())
        h.update(b",")
