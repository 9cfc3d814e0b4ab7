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

Writes are atomic (``write_atomic``): a temp file in the same folder, flushed and fsynced, renamed
over the target, then the folder fsynced; a failed or interrupted write leaves the previous file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import msgpack

from . import __version__, state
from .clock import fmt_hhmm
from .errors import LevelError, SaveError
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
    label = str(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise SaveError(f"{label}: {size:,} bytes is more than any {what} "
                            f"({MAX_FILE_BYTES:,} at most); not reading it")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1 if with_payload else _PREFIX.size + MAX_HEADER_BYTES)
    except FileNotFoundError:
        raise SaveError(f"{label}: no such {what} file") from None
    except IsADirectoryError:
        raise SaveError(f"{label}: is a folder, not a {what} file") from None
    except OSError as exc:
        raise SaveError(f"{label}: cannot read it: {exc.strerror or exc}") from None
    return parse_container(data, label, magic, what, with_payload=with_payload)


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


def _unpack_header(head: bytes, label: str) -> dict:
    try:
        header = msgpack.unpackb(head, raw=False, strict_map_key=True,
                                 ext_hook=_no_ext_in_header)
    except SaveError as exc:
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
        return msgpack.unpackb(payload, raw=False, strict_map_key=False,
                               ext_hook=state.ext_hook)
    except state.StateError as exc:
        raise SaveError(f"{label}: {exc}") from None
    except Exception as exc:
        raise SaveError(f"{label}: unreadable payload ({type(exc).__name__}: {exc})") from None


# --- atomic writes ------------------------------------------------------------------------------
def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that the file is either the old one or the new one."""
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SaveError(f"{path}: cannot write there: {exc.strerror or exc}") from None
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
            raise SaveError(f"{path}: the write failed ({exc.strerror or exc}); the previous "
                            f"file is untouched") from None
        raise
    _fsync_folder(folder)
    return path


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


def level_record(level) -> dict:
    """The level as a save embeds it: enough to rebuild it when the file has changed or gone."""
    text = b""
    try:
        content = Path(level.path).read_bytes()
        if hashlib.sha256(content).hexdigest() == level.sha256:
            text = content
    except OSError:
        pass
    out = {"name": level.name, "path": str(level.path), "sha256": level.sha256,
           "overrides": list(level.overrides), "text": text}
    raw = getattr(level, "raw", None)
    if raw is not None:
        out["raw"] = raw
    return out


def rebuild_level(record: Any, label: str):
    """The ``Level`` a save was made with: from the embedded table, or the embedded file text."""
    from .level import load_level
    if not isinstance(record, dict):
        raise SaveError(f"{label}: the header's level is not a map")
    name = field(record, "name", str, label)
    path = Path(field(record, "path", str, label))
    overrides = field(record, "overrides", list, label)
    sha = field(record, "sha256", str, label)
    try:
        raw = record.get("raw")
        if raw is not None:
            from . import level as level_module
            from_raw = getattr(level_module, "level_from_raw", None)
            if from_raw is not None and isinstance(raw, dict):
                return dataclasses.replace(from_raw(raw, path, sha),
                                           overrides=[str(o) for o in overrides])
        text = field(record, "text", bytes, label)
        if not text:
            raise SaveError(f"{label}: the save does not embed its level {name!r}")
        if hashlib.sha256(text).hexdigest() != sha and "base" not in text.decode("utf-8", "replace"):
            raise SaveError(f"{label}: the embedded level does not match its hash")
        with tempfile.TemporaryDirectory(prefix="crashfloor-level-") as tmp:
            file = Path(tmp) / f"{name}.toml"
            file.write_bytes(text)
            level = load_level(file, [str(o) for o in overrides])
        return dataclasses.replace(level, path=path)
    except LevelError as exc:
        raise SaveError(f"{label}: its level {name!r} no longer validates: "
                        + "; ".join(exc.problems[:3])) from None


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

    @property
    def autosave(self) -> bool:
        return self.path.name.startswith("autosave-")


def _header(run) -> dict:
    sim, player = run.sim, run.player
    equity = None if player is None else sim.exchange.equity_units(player) / MONEY_PER_USD
    return {"format_version": FORMAT_VERSION, "kind": "save", "engine_version": __version__,
            "engine_build": engine_build(), "level": level_record(run.level), "seed": run.seed,
            "role": run.level.data["player"]["role"], "t": sim.t, "clock": sim.hhmm,
            "equity_usd": equity, "checksum": run.checksum()}


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
    header, _ = migrate(header, None, str(path))
    return _info(path, header)


def _info(path: Path, header: dict) -> SaveInfo:
    label = str(path)
    level = field(header, "level", dict, label)
    equity = field(header, "equity_usd", (float, int, type(None)), label)
    return SaveInfo(path, field(level, "name", str, label), field(header, "role", str, label),
                    field(header, "seed", int, label), field(header, "t", int, label),
                    field(header, "clock", str, label), equity,
                    field(header, "format_version", int, label),
                    field(header, "engine_version", str, label))


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
    if field(header, "kind", str, str(path)) != kind:
        raise SaveError(f"{path}: a {header['kind']!r} file, not a {kind}")
    return header, payload


def load_run(path: str | Path):
    """The ``CrashRun`` a save holds, ready to step on; ``SaveError`` if anything is off."""
    path = Path(path)
    label = str(path)
    header, payload = open_container(path, MAGIC, "save")
    version = field(header, "format_version", int, label)
    if version > FORMAT_VERSION or version < 1:
        migrate(header, None, label)  # raises the version error
    tree = unpack_payload(payload, label)
    header, tree = migrate(header, tree, label)
    run = build_run(header, label)
    try:
        state.restore(run, tree)
    except state.StateError as exc:
        raise SaveError(f"{label}: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise SaveError(f"{label}: the saved state does not fit this engine "
                        f"({type(exc).__name__}: {exc})") from None
    check_restored(run, header, label)
    return run


def build_run(header: dict, label: str):
    """A fresh run of the header's level and seed (the template the state is written into)."""
    from .crash import CrashRun
    from .errors import CrashfloorError
    level = rebuild_level(field(header, "level", dict, label), label)
    seed = field(header, "seed", int, label)
    try:
        return CrashRun(level, seed=seed)
    except CrashfloorError as exc:
        raise SaveError(f"{label}: cannot rebuild its run: {exc}") from None


def check_restored(run, header: dict, label: str) -> None:
    """Invariants a restored run must meet, and its checksum when the same engine wrote it."""
    ex = run.sim.exchange
    acc = ex.acc
    if not (0 <= acc.n <= acc.capacity and acc.wallet.shape == (acc.capacity,)
            and acc.qty.shape == (len(ex.symbols), acc.capacity)):
        raise SaveError(f"{label}: the accounts' arrays do not match their size")
    if ex.total_money() != ex.net_deposits:
        raise SaveError(f"{label}: the saved money does not add up (damaged or edited state)")
    resting = {oid for book in ex.books for oid in book.order_ids()}
    if resting != set(ex.ledger.orders):
        raise SaveError(f"{label}: the order books and the order records disagree")
    if field(header, "seed", int, label) != run.seed:
        raise SaveError(f"{label}: the header says seed {header['seed']}, the state {run.seed}")
    if field(header, "t", int, label) != run.sim.t:
        raise SaveError(f"{label}: the header says t={header['t']}, the state t={run.sim.t}")
    if header.get("engine_build") == engine_build() and \
            run.checksum() != field(header, "checksum", str, label):
        raise SaveError(f"{label}: the restored state's checksum differs from the saved one")


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
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")]
    files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    out: list[SaveInfo | tuple[Path, str]] = []
    for file in files:
        try:
            out.append(read_info(file))
        except SaveError as exc:
            out.append((file, str(exc)))
    return out


REPLAY_MAGIC = b"\x89CFRPLY\n"
