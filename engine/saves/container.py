"""The container shared by saves and replays: magic, a checksummed msgpack header, a payload.

A file is::

    MAGIC (8 bytes) | header length (u32 LE) | blake2b-256 of the header | header | payload

Reading is bounded: only regular files are read (``read_regular``), the size is checked before a
byte is read (``MAX_FILE_BYTES``), and every msgpack length and the number of containers is capped
(``unpack_limited``). Any problem is one ``SaveError`` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from pathlib import Path
from typing import Any
from collections.abc import Callable

import msgpack

from . import state
from ..errors import SaveError
from ..text import escape_text as text_escape

MAGIC = b"\x89CFSAVE\n"
SUFFIX = ".cfsave"
MAX_FILE_BYTES = 512 * 2**20
MAX_HEADER_BYTES = 8 * 2**20
_PREFIX = struct.Struct("<8sI32s")


# --- text from a file, made safe to print ---------------------------------------------------------


def escape_text(text: object, limit: int | None = 200) -> str:
    """``engine.text.escape_text``, cut to 200 characters unless told otherwise."""
    return text_escape(text, limit)


def _label(path: object) -> str:
    return escape_text(str(path), None)


# --- the container (shared with replays) ------------------------------------------------------------
def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def pack_container(magic: bytes, header: dict, payload: bytes) -> bytes:
    header = dict(header, payload_len=len(payload), payload_blake2b=digest(payload).hex())
    head = msgpack.packb(header, use_bin_type=True)
    return _PREFIX.pack(magic, len(head), digest(head)) + head + payload


def read_container(path: Path, magic: bytes, what: str, *,
                   with_payload: bool = True) -> tuple[dict, bytes]:
    """(header, payload) of a file; ``SaveError`` for anything not exactly as written."""
    label = _label(path)
    limit = MAX_FILE_BYTES if with_payload else _PREFIX.size + MAX_HEADER_BYTES
    data = read_regular(path, limit, what, MAX_FILE_BYTES)
    return parse_container(data, label, magic, what, with_payload=with_payload)


def read_regular(path: str | Path, limit: int, what: str, max_size: int | None = None) -> bytes:
    """At most ``limit`` bytes (and one more, to notice growth) of a **regular** file.

    A FIFO, a device, a socket or a folder is refused before a byte is read (the file is opened
    non-blocking, then checked), and a file larger than ``max_size`` by ``stat`` is refused before
    it is opened; the read is sized by the file, never by ``limit`` alone."""
    label = _label(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        pre = os.stat(path)
        if max_size is not None and stat.S_ISREG(pre.st_mode) and pre.st_size > max_size:
            raise SaveError(f"{label}: {pre.st_size:,} bytes is more than any {what} "
                            f"({max_size:,} at most); not reading it")
        if stat.S_ISDIR(pre.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(pre.st_mode):
            raise SaveError(f"{label}: not a regular file (a pipe, device or socket); not "
                            f"reading it")
        fd = os.open(path, flags)
    except SaveError:
        raise
    except FileNotFoundError:
        raise SaveError(f"{label}: no such {what} file") from None
    except IsADirectoryError:
        raise SaveError(f"{label}: is a folder, not a {what} file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise SaveError(f"{label}: cannot read it: {getattr(exc, 'strerror', None) or exc}") \
            from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped in between stat and open
            raise SaveError(f"{label}: not a regular file; not reading it")
        if max_size is not None and st.st_size > max_size:
            raise SaveError(f"{label}: {st.st_size:,} bytes is more than any {what} "
                            f"({max_size:,} at most); not reading it")
        want = min(st.st_size, limit) + 1
        chunks, got = [], 0
        while got < want:
            chunk = os.read(fd, min(want - got, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SaveError(f"{label}: cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def parse_container(data: bytes, label: str, magic: bytes, what: str, *,
                    with_payload: bool = True) -> tuple[dict, bytes]:
    if len(data) > MAX_FILE_BYTES:
        raise SaveError(f"{label}: more than {MAX_FILE_BYTES:,} bytes; not a {what}")
    if not data:
        raise SaveError(f"{label}: the file is empty; not a crashfloor {what}")
    if len(data) < _PREFIX.size:
        if magic.startswith(data):
            raise SaveError(f"{label}: truncated ({len(data)} bytes): the {what} was cut short")
        raise SaveError(f"{label}: not a crashfloor {what} (wrong magic bytes)")
    found, head_len, head_digest = _PREFIX.unpack_from(data)
    if found != magic:
        other = "a replay" if found == REPLAY_MAGIC else "a save" if found == MAGIC else None
        raise SaveError(f"{label}: not a crashfloor {what} "
                        + (f"(it is {other} file)" if other else "(wrong magic bytes)"))
    if head_len > MAX_HEADER_BYTES:
        raise SaveError(f"{label}: header length {head_len:,} is impossible (damaged file)")
    end = _PREFIX.size + head_len
    if len(data) < end:
        raise SaveError(f"{label}: truncated: the header needs {head_len:,} bytes, "
                        f"{len(data) - _PREFIX.size:,} are there")
    head = data[_PREFIX.size:end]
    if digest(head) != head_digest:
        raise SaveError(f"{label}: header checksum mismatch: the file is damaged")
    header = _unpack_header(head, label)
    payload = data[end:]
    if with_payload:
        _check_payload(header, payload, label)
    return header, payload


MAX_CONTAINER_LEN = 2_000_000
"""No msgpack array or map in a save or replay is longer (a real run's longest list is a few
thousand items; account arrays are packed as raw bytes)."""


class _TooMany(Exception):
    pass


def unpack_limited(data: bytes, *, ext_hook: Callable, strict_map_key: bool,
                   max_containers: int | None = None) -> Any:
    """``msgpack.unpackb`` with every length capped and at most ``max_containers`` arrays and maps
    (default: 20,000 + one per 16 bytes; a real save has one per 80 bytes or more): a file of
    empty containers cannot take memory beyond a small multiple of its size. Raises what msgpack
    raises, or ``StateError``."""
    budget = 20_000 + len(data) // 16 if max_containers is None else max_containers
    count = 0

    def counted_list(items):
        nonlocal count
        count += 1
        if count > budget:
            raise _TooMany
        return items

    def counted_map(pairs):
        nonlocal count
        count += 1
        if count > budget:
            raise _TooMany
        return dict(pairs)

    size = len(data)
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=strict_map_key, ext_hook=ext_hook,
                               list_hook=counted_list, object_pairs_hook=counted_map,
                               max_str_len=size, max_bin_len=size, max_ext_len=size,
                               max_array_len=min(size, MAX_CONTAINER_LEN),
                               max_map_len=min(size // 2, MAX_CONTAINER_LEN))
    except _TooMany:
        raise state.StateError(f"more than {budget:,} arrays and maps in {size:,} bytes; not a "
                               f"file this program writes") from None


def _unpack_header(head: bytes, label: str) -> dict:
    try:
        header = unpack_limited(head, strict_map_key=True, ext_hook=_no_ext_in_header)
    except (SaveError, state.StateError) as exc:
        raise SaveError(f"{label}: {exc}") from None
    except Exception as exc:  # msgpack raises several types for malformed bytes
        raise SaveError(f"{label}: unreadable header ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise SaveError(f"{label}: the header is not a map")
    return header


def _no_ext_in_header(code: int, data: bytes):
    raise SaveError(f"unknown msgpack ext code {code} in the header")


def _check_payload(header: dict, payload: bytes, label: str) -> None:
    want = field(header, "payload_len", int, label)
    if len(payload) < want:
        raise SaveError(f"{label}: truncated: the payload should be {want:,} bytes, "
                        f"{len(payload):,} are there")
    if len(payload) > want:
        raise SaveError(f"{label}: {len(payload) - want:,} unexpected bytes after the payload")
    if digest(payload).hex() != field(header, "payload_blake2b", str, label):
        raise SaveError(f"{label}: payload checksum mismatch: the file is damaged")


def field(header: dict, key: str, kind: type | tuple, label: str) -> Any:
    value = header.get(key)
    if key not in header:
        raise SaveError(f"{label}: the header has no {key!r}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SaveError(f"{label}: header field {key!r} should be {names}, got "
                        f"{type(value).__name__}")
    return value


def unpack_payload(payload: bytes, label: str) -> Any:
    try:
        return unpack_limited(payload, strict_map_key=False, ext_hook=state.ext_hook)
    except state.StateError as exc:
        raise SaveError(f"{label}: {exc}") from None
    except Exception as exc:
        raise SaveError(f"{label}: unreadable payload ({type(exc).__name__}: {exc})") from None




def open_container(path: Path, magic: bytes, kind: str) -> tuple[dict, bytes]:
    """(header, payload) of a save or replay file whose header says it is a ``kind``."""
    header, payload = read_container(path, magic, kind)
    if field(header, "kind", str, _label(path)) != kind:
        raise SaveError(f"{_label(path)}: a {escape_text(repr(header['kind']), 40)} file, not "
                        f"a {kind}")
    return header, payload



REPLAY_MAGIC = b"\x89CFRPLY\n"
