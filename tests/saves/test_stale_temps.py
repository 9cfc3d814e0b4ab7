"""Temp files that killed writes leave behind (``.NAME.PID.XXXXXXXX.tmp``) are removed by the next
write to that folder once their writer is gone or they are ten minutes old; nothing else is ever
touched (other names, folders, links, other users' files, a live writer's file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from engine import saves

from .conftest import ROOT


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _make(folder, name, age: float, kind: str = "file"):
    path = folder / name
    if kind == "file":
        path.write_bytes(b"partial save bytes")
    elif kind == "folder":
        path.mkdir()
    then = time.time() - age
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def test_the_next_write_removes_only_stale_temp_files(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    folder = tmp_path / "saves"
    folder.mkdir()
    gone = [
        _make(folder, ".a.cfsave.abcdefgh.tmp", 20 * 60),            # old, before PIDs in names
        _make(folder, f".b.cfsave.{dead}.abcd1234.tmp", 60),          # its writer is gone
        _make(folder, f".c.cfreplay.{live}.zz_zz9zz.tmp", 11 * 60),   # old whoever wrote it
        _make(folder, ".d.cfreplay.a_b_c_d_.tmp", 3600),
    ]
    kept = [
        _make(folder, f".e.cfsave.{dead}.ijklmnop.tmp", 2),           # just written: grace
        _make(folder, f".f.cfsave.{live}.qrstuvwx.tmp", 5 * 60),      # a live writer's
        _make(folder, f".g.cfsave.{os.getpid()}.qrstuvwx.tmp", 5 * 60),  # this process's
        _make(folder, ".h.cfsave.abcdefgh.tmp", 30),                  # recent, no PID
        _make(folder, "notes.tmp", 3600),
        _make(folder, ".i.txt.abcdefgh.tmp", 3600),                   # not a save's
        _make(folder, ".j.cfsave.abc.tmp", 3600),                     # not mkstemp's pattern
        _make(folder, ".k.cfsave.abcdefgh.tmp.bak", 3600),
        _make(folder, "l.cfsave", 3600),                              # a save
        _make(folder, ".m.cfsave.abcdefgh.tmp", 3600, kind="folder"),
    ]
    link = folder / ".n.cfsave.abcdefgh.tmp"
    link.symlink_to(outside)
    os.utime(link, (time.time() - 3600,) * 2, follow_symlinks=False)
    kept.append(link)
    saves.write_atomic(folder / "new.cfsave", b"new")
    left = {p.name for p in folder.iterdir()}
    assert not {p.name for p in gone} & left
    assert {p.name for p in kept} | {"new.cfsave"} == left
    assert outside.read_text() == "keep me"
    assert (folder / "new.cfsave").read_bytes() == b"new"


def test_a_killed_writers_temp_file_is_cleaned_by_the_next_write(tmp_path):
    """A writer killed in the middle of a write (here: while it syncs) leaves its temp file; the
    next save to that folder removes it (once a little old), and the save is the complete one."""
    path = tmp_path / "game.cfsave"
    code = ("import os, sys, time\n"
            "from engine.saves import write_atomic\n"
            "def stall(fd):\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(120)\n"
            "os.fsync = stall\n"
            "write_atomic(sys.argv[1], b'partial' * 1000)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    child.send_signal(signal.SIGKILL)
    child.wait()
    (left,) = [p for p in tmp_path.iterdir()]
    assert left.name.startswith(".game.cfsave.") and left.name.endswith(".tmp")
    saves.write_atomic(path, b"complete")           # the writer just died: its file stays
    assert left.exists()
    os.utime(left, (time.time() - 60,) * 2)
    saves.write_atomic(path, b"complete")           # a minute later it is cleaned
    assert [p.name for p in tmp_path.iterdir()] == ["game.cfsave"]
    assert path.read_bytes() == b"complete"
