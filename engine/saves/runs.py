"""Save files: a whole ``CrashRun`` on disk, loaded back bit-identical, or refused clearly.

A file is::

    MAGIC (8 bytes) | header length (u32 LE) | blake2b-256 of the header | header | payload

The **header** is a msgpack map: ``format_version``, ``kind`` ("save"), ``engine_version`` and
``engine_build`` (a digest of the engine's source), the level (``name``, ``sha256``, ``path``,
``overrides``, its file ``text`` and, when the engine has it, its merged ``raw`` table), ``seed``,
``role``, the sim time ``t`` and ``clock``, the player's ``equity_usd``, the state's
``checksum()``, and the payload's length and blake2b-256. The **payload** is the msgpack of
``engine.state.capture(run)``: every engine object's fields, numpy arrays as raw bytes + dtype +
shape (ext type 1).

Loading checks, before anything is built: the size (``MAX_FILE_BYTES``, from ``stat`` before a
byte is read), the magic, the header's digest and fields, the format version (older ones are
migrated by ``MIGRATIONS``, one pure function per version step), the payload's length and digest,
every msgpack ext code. Then it rebuilds the level's run from the embedded level and seed, writes
the saved state into it (types checked against the fresh run), and checks that money is conserved,
that books and order records agree and, when the same engine build wrote the file, that
``checksum()`` equals the saved one. Any failure is one ``SaveError`` naming the file and the
problem.

Opening a file never writes one and never reads another: the level is rebuilt in memory from
the table embedded in the header (or its embedded text), never from the header's ``path`` or
``name``, and a restored run keeps that record (``level_record``) for its next save. Only regular
files are read (a FIFO or a device is refused before a byte is read), and unpacking is bounded:
every msgpack length is capped and the number of containers is at most ``len(data) // 16`` plus
a little (``unpack_limited``), so memory while loading stays a small multiple of the file's size.

After the restore, ``engine.audit`` checks the state's meaning (positions net to zero, funds at
their floor, orders and margins agree, prices in range, the run's fixed rules are its level's...).
The rule for trust: a damaged file, a checksum that differs or a failed audit is **refused**; a
file written by another engine build (whose checksum cannot be compared) **loads, marked
modified** (``run.modified`` holds the reason, the next save's header says so, and
``crashfloor saves`` / ``results`` show it). A save whose checksums were recomputed after an edit
that keeps the state consistent can only be told by re-running its recorded commands
(``engine.replay.verify_run``), which ``crashfloor results`` and ``crashfloor saves --verify`` do.

Writes are atomic (``write_atomic``): a temp file in the same folder, flushed and fsynced, renamed
over the target, then the folder fsynced; a failed or interrupted write leaves the previous file.
A killed write leaves its temp file (``.NAME.PID.XXXXXXXX.tmp``); the next write to that folder
removes such files once their writer is gone or they are ``STALE_TEMP_SECONDS`` old.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import struct
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from collections.abc import Callable

import msgpack

from . import __version__, audit, state
from .clock import fmt_hhmm
from .errors import CrashfloorError, LevelError, SaveError
from .text import escape_text as text_escape
from .units import MONEY_PER_USD

MAGIC = b"\x89CFSAVE\n"
SUFFIX = ".cfsave"
FORMAT_VERSION = 1
"""The format this engine writes. Bump it with a migration in ``MIGRATIONS`` and a golden save of
the old format in ``tests/saves/golden/``."""
MAX_FILE_BYTES = 512 * 2**20
MAX_HEADER_BYTES = 8 * 2**20
_PREFIX = struct.Struct("<8sI32s")

Migration = Callable[[dict, Any], tuple[dict, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a format-``n`` (header, state tree) into format ``n + 1``: a pure
function of plain data (no engine objects), kept forever once a format has been released."""


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


# --- atomic writes ------------------------------------------------------------------------------
STALE_TEMP_SECONDS = 600
"""A temp file of a write older than this is stale whoever wrote it (a write takes a second)."""
_DEAD_WRITER_GRACE = 30
"""A temp file whose writer's process is gone is removed once it is this old (a writer in another
PID namespace sharing the folder may look gone)."""
_TEMP_NAME = re.compile(r"\.(?P<name>.+\.(?:cfsave|cfreplay))\.(?:(?P<pid>[0-9]{1,10})\.)?"
                        r"[a-z0-9_]{8}\.tmp")
"""``write_atomic``'s temp files: ``.NAME.PID.XXXXXXXX.tmp`` (``.NAME.XXXXXXXX.tmp`` before the
PID was added), for NAME a save or a replay."""


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that the file is either the old one or the new one (stale
    temp files of killed writes in that folder are removed first: ``clean_stale_temps``)."""
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=folder)
    except (OSError, ValueError) as exc:
        raise SaveError(f"{_label(path)}: cannot write there: "
                        f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a save from the facilitator
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SaveError(f"{_label(path)}: the write failed ({exc.strerror or exc}); the "
                            f"previous file is untouched") from None
        raise
    _fsync_folder(folder)
    return path


def clean_stale_temps(folder: str | Path, now: float | None = None) -> list[Path]:
    """Remove the temp files that killed writes left in ``folder``; returns what was removed.

    Only regular files of this user named as ``write_atomic`` names them (``_TEMP_NAME``, for a
    save or a replay) are candidates, and only when they are ``STALE_TEMP_SECONDS`` old, or their
    writer's process is gone and they are a little old. Nothing else is ever touched; errors
    are ignored (a cleanup never fails a write)."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        age = now - st.st_mtime
        pid = match.group("pid")
        dead = pid is not None and age > _DEAD_WRITER_GRACE and _writer_gone(int(pid))
        if age > STALE_TEMP_SECONDS or dead:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _writer_gone(pid: int) -> bool:
    """Whether no process ``pid`` exists (False when that cannot be told)."""
    if os.name != "posix" or not 0 < pid < 2**31 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some systems cannot open a folder; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- what the header says -----------------------------------------------------------------------
_BUILD: str | None = None


def engine_build() -> str:
    """A digest of the engine's source files: two files with the same build restore exactly."""
    global _BUILD
    if _BUILD is None:
        h = hashlib.blake2b(digest_size=8)
        root = Path(__file__).resolve().parent
        for file in sorted(root.rglob("*.py")):
            h.update(file.relative_to(root).as_posix().encode())
            h.update(file.read_bytes())
        _BUILD = h.hexdigest()
    return _BUILD


_RECORD = "saved_record"
"""The attribute a level rebuilt from a save keeps its record under (``level_record``)."""
MAX_LEVEL_TEXT = 1 * 2**20
MAX_LEVEL_DEPTH = 32
MAX_LEVEL_NODES = 200_000


def level_record(level) -> dict:
    """The level as a save embeds it: enough to rebuild it when the file has changed or gone.

    A level rebuilt from a save or replay returns that file's record as it was: a restored run
    never reads a path taken from a file. A level loaded from a file re-reads that file's text
    (a regular file only, bounded) when its hash still matches."""
    saved = getattr(level, _RECORD, None)
    if isinstance(saved, dict):
        return dict(saved)
    text = b""
    try:
        content = read_regular(level.path, MAX_LEVEL_TEXT, "level")
        if len(content) <= MAX_LEVEL_TEXT and \
                hashlib.sha256(content).hexdigest() == level.sha256:
            text = content
    except (SaveError, OSError, TypeError, ValueError):
        pass
    out = {"name": level.name, "path": str(level.path), "sha256": level.sha256,
           "overrides": list(level.overrides), "text": text}
    raw = getattr(level, "raw", None)
    if raw is not None:
        out["raw"] = raw
    return out


def _check_tree(value: Any, label: str, what: str) -> None:
    """A level table from a file: plain TOML values, at most ``MAX_LEVEL_DEPTH`` deep and
    ``MAX_LEVEL_NODES`` values (walked without recursion)."""
    stack = [(value, 0)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_LEVEL_NODES:
            raise SaveError(f"{label}: {what} has more than {MAX_LEVEL_NODES:,} values")
        if depth > MAX_LEVEL_DEPTH:
            raise SaveError(f"{label}: {what} nests more than {MAX_LEVEL_DEPTH} deep")
        if isinstance(node, dict):
            if not all(isinstance(k, str) for k in node):
                raise SaveError(f"{label}: {what} has a key that is not text")
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif node is not None and type(node) not in (bool, int, float, str):
            raise SaveError(f"{label}: {what} holds a {type(node).__name__}")


def _record_field(record: dict, key: str, kind: type, label: str, limit: int) -> Any:
    value = field(record, key, kind, label)
    if len(value) > limit:
        raise SaveError(f"{label}: the level's {key} is {len(value):,} long (at most {limit:,})")
    return value


def rebuild_level(record: Any, label: str):
    """The ``Level`` a save was made with, from the embedded table (or the embedded file text),
    in memory: no file is written or read, whatever the record's ``name`` or ``path`` say. The
    level's name is the record's, made safe for a file name; the record itself is kept on the
    level (``level_record`` returns it for the next save)."""
    from . import level as level_module
    if not isinstance(record, dict):
        raise SaveError(f"{label}: the header's level is not a map")
    name = _record_field(record, "name", str, label, 4096)
    shown = escape_text(name, 60)
    path_text = _record_field(record, "path", str, label, 4096)
    overrides = _record_field(record, "overrides", list, label, 1000)
    if not all(isinstance(o, str) and len(o) <= 4096 for o in overrides):
        raise SaveError(f"{label}: the level's overrides must be text")
    sha = _record_field(record, "sha256", str, label, 128)
    text = _record_field(record, "text", bytes, label, MAX_HEADER_BYTES)
    raw = record.get("raw")
    where = Path(f"{_safe(name)[:80]}.toml")
    try:
        if isinstance(raw, dict):
            _check_tree(raw, label, "the embedded level")
            level = level_module.level_from_raw(raw, where, sha)
        elif raw is not None:
            raise SaveError(f"{label}: the embedded level table is not a table")
        else:
            level = _level_from_text(text, sha, overrides, where, label, shown)
        level = dataclasses.replace(level, path=where, overrides=list(overrides))
    except LevelError as exc:
        problems = "; ".join(escape_text(p, 200) for p in exc.problems[:3])
        raise SaveError(f"{label}: its level {shown!r} no longer validates: {problems}") \
            from None
    except RecursionError:
        raise SaveError(f"{label}: its level {shown!r} nests too deep") from None
    except (CrashfloorError, SaveError):
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile table may break the validator
        raise SaveError(f"{label}: its level {shown!r} cannot be rebuilt "
                        f"({type(exc).__name__})") from None
    kept = {"name": name, "path": path_text, "sha256": sha, "overrides": list(overrides),
            "text": text}
    if raw is not None:
        kept["raw"] = raw
    object.__setattr__(level, _RECORD, kept)
    return level


def _level_from_text(text: bytes, sha: str, overrides: list[str], where: Path, label: str,
                     shown: str):
    """A level from its embedded TOML text (a save without the level's table), in memory."""
    import tomllib
    from . import level as level_module
    if not text:
        raise SaveError(f"{label}: the save does not embed its level {shown!r}")
    if hashlib.sha256(text).hexdigest() != sha:
        raise SaveError(f"{label}: the embedded level does not match its hash")
    try:
        raw = tomllib.loads(text.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SaveError(f"{label}: the embedded level {shown!r} is not valid TOML "
                        f"({escape_text(exc, 120)})") from None
    if "base" in raw:
        raise SaveError(f"{label}: the embedded level {shown!r} names a base level; a save "
                        f"must embed the level's whole table")
    _check_tree(raw, label, "the embedded level")
    parse = getattr(level_module, "_parse_override", None)
    apply = getattr(level_module, "_apply_override", None)
    for item in overrides:
        override = parse(item, raw) if parse is not None else None
        if override is None or isinstance(override, str) or apply is None:
            raise SaveError(f"{label}: its level override {escape_text(item, 80)!r} does not "
                            f"apply")
        apply(raw, override)
    return level_module.level_from_raw(raw, where, sha)


@dataclass(frozen=True)
class SaveInfo:
    """What a save's header says, for lists and the title screen (no state is read)."""
    path: Path
    level: str
    role: str
    seed: int
    t: int
    clock: str
    equity_usd: float | None
    format_version: int
    engine_version: str
    modified: str | None = None
    """Why the save is marked modified (from its header: another engine build wrote it, or the
    run it holds was loaded modified), or None."""

    @property
    def autosave(self) -> bool:
        return self.path.name.startswith("autosave-")


def other_build_reason(build: object) -> str:
    return (f"written by another engine build ({escape_text(build, 24)}); its state could not "
            f"be checked against its checksum")


def modified_reason(run) -> str | None:
    """Why ``run`` is marked modified (``load_run``), or None."""
    reason = getattr(run, "modified", None)
    return reason if isinstance(reason, str) and reason else None


def _header(run) -> dict:
    sim, player = run.sim, run.player
    equity = None if player is None else sim.exchange.equity_units(player) / MONEY_PER_USD
    out = {"format_version": FORMAT_VERSION, "kind": "save", "engine_version": __version__,
           "engine_build": engine_build(), "level": level_record(run.level), "seed": run.seed,
           "role": run.level.data["player"]["role"], "t": sim.t, "clock": sim.hhmm,
           "equity_usd": equity, "checksum": run.checksum()}
    reason = modified_reason(run)
    if reason is not None:
        out["modified"] = reason
    return out


# --- saving and loading -------------------------------------------------------------------------
def dump_run(run) -> bytes:
    """The bytes of a save of ``run`` as it stands (between steps)."""
    try:
        payload = msgpack.packb(state.capture(run), use_bin_type=True)
    except state.StateError as exc:
        raise SaveError(f"cannot save this run: {exc}") from None
    return pack_container(MAGIC, _header(run), payload)


def save_run(run, path: str | Path) -> Path:
    """Save ``run`` to ``path`` atomically; returns the path."""
    return write_atomic(path, dump_run(run))


def read_info(path: str | Path) -> SaveInfo:
    """The header of a save (checked, migrated); the state is not read."""
    path = Path(path)
    header, _ = read_container(path, MAGIC, "save", with_payload=False)
    header, _ = migrate(header, None, _label(path))
    return _info(path, header)


def _info(path: Path, header: dict) -> SaveInfo:
    label = _label(path)
    level = field(header, "level", dict, label)
    equity = field(header, "equity_usd", (float, int, type(None)), label)
    return SaveInfo(path, field(level, "name", str, label), field(header, "role", str, label),
                    field(header, "seed", int, label), field(header, "t", int, label),
                    field(header, "clock", str, label), equity,
                    field(header, "format_version", int, label),
                    field(header, "engine_version", str, label), header_modified(header))


def header_modified(header: dict) -> str | None:
    """Why a save's header says it is modified: its own mark, or another engine build."""
    mark = header.get("modified")
    if mark is not None:
        return escape_text(mark, 300) if isinstance(mark, str) and mark else \
            "marked modified (a malformed mark)"
    build = header.get("engine_build")
    if build != engine_build():
        return other_build_reason(build)
    return None


def migrate(header: dict, tree: Any, label: str) -> tuple[dict, Any]:
    """Bring a header (and state tree) of any released format to ``FORMAT_VERSION``."""
    version = field(header, "format_version", int, label)
    if version > FORMAT_VERSION:
        raise SaveError(f"{label}: written in save format {version} by a newer crashfloor; this "
                        f"one reads formats 1 to {FORMAT_VERSION}")
    if version < 1:
        raise SaveError(f"{label}: unknown save format {version}")
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SaveError(f"{label}: no migration from save format {version}")
        header, tree = step(header, tree)
        version += 1
        header = dict(header, format_version=version)
    return header, tree


def open_container(path: Path, magic: bytes, kind: str) -> tuple[dict, bytes]:
    """(header, payload) of a save or replay file whose header says it is a ``kind``."""
    header, payload = read_container(path, magic, kind)
    if field(header, "kind", str, _label(path)) != kind:
        raise SaveError(f"{_label(path)}: a {escape_text(repr(header['kind']), 40)} file, not "
                        f"a {kind}")
    return header, payload


def load_run(path: str | Path, verify: bool = False):
    """The ``CrashRun`` a save holds, ready to step on; ``SaveError`` if anything is off.

    Refused: a damaged file, a state that does not fit the engine, a failed audit
    (``engine.audit``), or a checksum that differs from the one the same engine build saved.
    Loaded but marked modified (``run.modified`` says why; ``modified_reason(run)``): a save
    another engine build wrote, or one of a run that was itself loaded modified.

    ``verify=True`` also re-runs the save's recorded commands from the start
    (``engine.replay.verify_run``, as long as playing to the save's time): a state they do not
    produce is marked modified, one they do is clean whatever build wrote it."""
    path = Path(path)
    label = _label(path)
    header, payload = open_container(path, MAGIC, "save")
    version = field(header, "format_version", int, label)
    if version > FORMAT_VERSION or version < 1:
        migrate(header, None, label)  # raises the version error
    tree = unpack_payload(payload, label)
    header, tree = migrate(header, tree, label)
    run = build_run(header, label)
    fresh = audit.skeleton(run)
    try:
        state.restore(run, tree, max_nodes=20_000 + len(payload) // 4)
    except state.StateError as exc:
        raise SaveError(f"{label}: {escape_text(exc, 400)}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError, ArithmeticError) as exc:
        raise SaveError(f"{label}: the saved state does not fit this engine "
                        f"({type(exc).__name__}: {escape_text(exc, 200)})") from None
    check_restored(run, header, label, fresh)
    if verify:
        from .replay import verify_run
        reason = verify_run(run, label)
        run.modified = reason  # None: a re-run reproduced it, whatever build wrote it
    return run


def build_run(header: dict, label: str):
    """A fresh run of the header's level and seed (the template the state is written into)."""
    from .crash import CrashRun
    level = rebuild_level(field(header, "level", dict, label), label)
    seed = field(header, "seed", int, label)
    try:
        return CrashRun(level, seed=seed)
    except CrashfloorError as exc:
        raise SaveError(f"{label}: cannot rebuild its run: {escape_text(exc, 300)}") from None
    except Exception as exc:  # noqa: BLE001 - a hostile level may break the builder
        raise SaveError(f"{label}: cannot rebuild its run ({type(exc).__name__}: "
                        f"{escape_text(exc, 200)})") from None


def check_restored(run, header: dict, label: str, fresh: dict | None = None) -> None:
    """What a restored run must meet before a game starts: the header agrees with the state,
    the state passes ``engine.audit`` (``fresh``: the run's skeleton before the restore), and
    its checksum is the saved one when the same engine build wrote it; another build's save is
    marked modified instead (``run.modified``)."""
    if field(header, "seed", int, label) != run.seed:
        raise SaveError(f"{label}: the header says seed {header['seed']}, the state "
                        f"{escape_text(repr(run.seed), 40)}")
    if field(header, "t", int, label) != run.sim.t:
        raise SaveError(f"{label}: the header says t={header['t']}, the state "
                        f"t={escape_text(repr(run.sim.t), 40)}")
    problems = audit.audit_run(run, fresh)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise SaveError(f"{label}: the saved state is not one the engine can reach: "
                        f"{escape_text(problems[0], 300)}{more}")
    mark = getattr(run, "modified", None)
    if mark is not None and not (isinstance(mark, str) and mark):
        raise SaveError(f"{label}: the run's modified mark is malformed")
    saved = field(header, "checksum", str, label)
    if header.get("engine_build") == engine_build():
        if run.checksum() != saved:
            raise SaveError(f"{label}: the restored state's checksum differs from the saved one")
        if mark is None and isinstance(header.get("modified"), str) and header["modified"]:
            run.modified = escape_text(header["modified"], 300)
    else:
        run.modified = mark or other_build_reason(header.get("engine_build"))


# --- where saves go -----------------------------------------------------------------------------
def default_name(level: str, role: str, clock: int, now: datetime, prefix: str = "") -> str:
    """``[prefix]LEVEL-ROLE-HHMM-YYYYMMDD-HHMMSS.cfsave``: level, role, sim time, wall date."""
    hhmm = fmt_hhmm(clock).replace(":", "")
    return f"{prefix}{_safe(level)}-{role}-{hhmm}-{now:%Y%m%d-%H%M%S}{SUFFIX}"


def run_name(run, now: datetime, prefix: str = "") -> str:
    return default_name(run.level.name, run.level.data["player"]["role"], run.sim.clock, now,
                        prefix)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "level"


def list_saves(folder: str | Path) -> list[SaveInfo | tuple[Path, str]]:
    """Every save in ``folder``, newest first: its ``SaveInfo``, or (path, problem)."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            return []
        files = [p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")]
    except OSError:
        return []

    def newest(p: Path) -> tuple:
        try:
            return (p.lstat().st_mtime_ns, p.name)
        except OSError:
            return (0, p.name)
    files.sort(key=newest, reverse=True)
    out: list[SaveInfo | tuple[Path, str]] = []
    for file in files:
        try:
            out.append(read_info(file))
        except SaveError as exc:
            out.append((file, str(exc)))
    return out


REPLAY_MAGIC = b"\x89CFRPLY\n"
