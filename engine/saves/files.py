"""Where saves go: atomic writes, the cleanup of killed writes' temp files, and file names."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from datetime import datetime
from pathlib import Path

from ..clock import fmt_hhmm
from ..errors import SaveError
from .container import SUFFIX, _label


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
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=folder)
        clean_stale_temps(folder, now=os.fstat(fd).st_mtime)  # the folder's clock, not ours
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


def clean_stale_temps(folder: str | Path, now: float) -> list[Path]:
    """Remove the temp files that killed writes left in ``folder``; returns what was removed.
    ``now`` is a time on the folder's own clock (``write_atomic`` passes its new temp file's
    mtime), so the engine never reads the wall clock.

    Only regular files of this user named as ``write_atomic`` names them (``_TEMP_NAME``, for a
    save or a replay) are candidates, and only when they are ``STALE_TEMP_SECONDS`` old, or their
    writer's process is gone and they are a little old. Nothing else is ever touched; errors
    are ignored (a cleanup never fails a write)."""
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

