"""Save files: a whole ``CrashRun`` on disk, loaded back bit-identical, or refused clearly.

A file is::

    MAGIC (8 bytes) | header length (u32 LE) | blake2b-256 of the header | header | payload

The **header** is a msgpack map: ``format_version``, ``kind`` ("save"), ``engine_version`` and
``engine_build`` (a digest of the engine's source), the level (``name``, ``sha256``, ``path``,
``overrides``, its file ``text`` and, when the engine has it, its merged ``raw`` table), ``seed``,
``role``, the sim time ``t`` and ``clock``, the player's ``equity_usd``, the state's
``checksum()``, and the payload's length and blake2b-256. The **payload** is the msgpack of
``engine.saves.state.capture(run)``: every engine object's fields, numpy arrays as raw bytes + dtype +
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

After the restore, ``engine.saves.audit`` checks the state's meaning (positions net to zero, funds at
their floor, orders and margins agree, prices in range, the run's fixed rules are its level's...).
The rule for trust: a damaged file, a checksum that differs or a failed audit is **refused**; a
file written by another engine build (whose checksum cannot be compared) **loads, marked
modified** (``run.modified`` holds the reason, the next save's header says so, and
``crashfloor saves`` / ``results`` show it). A save whose checksums were recomputed after an edit
that keeps the state consistent can only be told by re-running its recorded commands
(``engine.saves.replay.verify_run``), which ``crashfloor results`` and ``crashfloor saves --verify`` do.

Writes are atomic (``write_atomic``): a temp file in the same folder, flushed and fsynced, renamed
over the target, then the folder fsynced; a failed or interrupted write leaves the previous file.
A killed write leaves its temp file (``.NAME.PID.XXXXXXXX.tmp``); the next write to that folder
removes such files once their writer is gone or they are ``STALE_TEMP_SECONDS`` old.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from . import audit, restore, state
from .. import __version__
from ..errors import CrashfloorError, LevelError, SaveError
from ..units import MONEY_PER_USD
from .container import (MAGIC, MAX_HEADER_BYTES, SUFFIX, _label, escape_text, field,
                        open_container, pack_container, read_container, read_regular,
                        unpack_payload)
from .files import _safe, write_atomic
from .migrations import MIGRATIONS

FORMAT_VERSION = 3
"""The format this engine writes. Bump it with a migration in ``MIGRATIONS`` and a golden save of
the old format in ``tests/saves/golden/``.

Format 2: agents declare their fields (``__slots__``, ``engine.agents.base``) and the checksum
hashes every one of them; ``MarketMakers.state`` is ``MarketMakers.stance`` (a ``Stance``); the
desks live on the simulation, not the exchange (``Simulation._after_restore``).

Format 3: the index is the outside market's (``engine.outside``: ``OutsideMarket`` replaced
``engine.scenario.Scenario``, whose waypoint paths are dropped, the fresh run rebuilding them from
the save's own level); the firms' risk lives in their shared stance (``engine.agents.stance``), so
the ``MarketMakers`` fields of their old private risk signal are dropped. The migrations are in
``engine.saves.migrations``."""


# --- what the header says -----------------------------------------------------------------------
_BUILD: str | None = None


def engine_build() -> str:
    """A digest of the engine's source files: two files with the same build restore exactly."""
    global _BUILD
    if _BUILD is None:
        h = hashlib.blake2b(digest_size=8)
        root = Path(__file__).resolve().parent.parent  # the engine/ folder
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
    from .. import level as level_module
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
    from .. import level as level_module
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



def load_run(path: str | Path, verify: bool = False):
    """The ``CrashRun`` a save holds, ready to step on; ``SaveError`` if anything is off.

    Refused: a damaged file, a state that does not fit the engine, a failed audit
    (``engine.saves.audit``), or a checksum that differs from the one the same engine build saved.
    Loaded but marked modified (``run.modified`` says why; ``modified_reason(run)``): a save
    another engine build wrote, or one of a run that was itself loaded modified.

    ``verify=True`` also re-runs the save's recorded commands from the start
    (``engine.saves.replay.verify_run``, as long as playing to the save's time): a state they do not
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
        restore.restore(run, tree, max_nodes=20_000 + len(payload) // 4)
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
    from ..crash import CrashRun
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
    the state passes ``engine.saves.audit`` (``fresh``: the run's skeleton before the restore), and
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

