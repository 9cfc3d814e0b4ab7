"""Writes are atomic: a save interrupted at any point — the write failing part-way, fsync or the
rename failing, or the writing process killed — leaves the previous save loadable and no stray
temp file behind (a killed process may leave one; it is never mistaken for a save)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from engine import saves
from engine.errors import SaveError

from .conftest import ROOT, small_run


class _FailingFile:
    """A file that writes ``budget`` bytes, then fails as a full disk would."""

    def __init__(self, f, budget: int):
        self.f, self.budget = f, budget

    def write(self, data):
        if len(data) > self.budget:
            self.f.write(data[: self.budget])
            raise OSError(28, "No space left on device")
        self.budget -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.fixture(scope="module")
def two_saves():
    run = small_run(seed=6)
    run.run(until="04:03")
    old = saves.dump_run(run)
    run.run(until="04:06")
    return old, saves.dump_run(run)


def _assert_previous_intact(path, old: bytes) -> None:
    assert path.read_bytes() == old
    assert saves.load_run(path).sim.hhmm == "04:03:00"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_write_failing_at_random_points_keeps_the_previous_save(tmp_path, monkeypatch,
                                                                  two_saves):
    old, new = two_saves
    path = tmp_path / "game.cfsave"
    saves.write_atomic(path, old)
    real_fdopen = os.fdopen
    rng = random.Random(7)
    for budget in [0, 1, 43, 44, len(new) - 1] + [rng.randrange(len(new)) for _ in range(25)]:
        monkeypatch.setattr(os, "fdopen",
                            lambda fd, mode, b=budget: _FailingFile(real_fdopen(fd, mode), b))
        with pytest.raises(SaveError, match="the previous file is untouched"):
            saves.write_atomic(path, new)
        _assert_previous_intact(path, old)
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    saves.write_atomic(path, new)
    assert saves.load_run(path).sim.hhmm == "04:06:00"


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_fsync_or_rename_failing_keeps_the_previous_save(tmp_path, monkeypatch, two_saves, step):
    old, new = two_saves
    path = tmp_path / "game.cfsave"
    saves.write_atomic(path, old)

    def fail(*args):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(os, step, fail)
    with pytest.raises(SaveError):
        saves.write_atomic(path, new)
    monkeypatch.undo()
    _assert_previous_intact(path, old)


def test_a_killed_writer_leaves_a_loadable_save(tmp_path, two_saves):
    """A child process rewrites the save in a loop; it is SIGKILLed at random moments, and the
    target is always one of the complete versions."""
    old, new = two_saves
    path = tmp_path / "game.cfsave"
    saves.write_atomic(path, old)
    (tmp_path / "new.bin").write_bytes(new)
    code = ("import sys; from pathlib import Path; from engine.saves import write_atomic\n"
            "datas = [Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()]\n"
            "print('ready', flush=True)\n"
            "i = 0\n"
            "while True:\n"
            "    write_atomic(sys.argv[1], datas[i % 2]); i += 1\n")
    (tmp_path / "old.bin").write_bytes(old)
    rng = random.Random(3)
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", code, str(path), str(tmp_path / "old.bin"),
                                  str(tmp_path / "new.bin")], cwd=ROOT, stdout=subprocess.PIPE)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.01, 0.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert path.read_bytes() in (old, new)
        saves.load_run(path)
        assert [r for r in saves.list_saves(tmp_path) if not hasattr(r, "level")] == []
