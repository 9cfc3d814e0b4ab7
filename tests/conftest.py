"""Fixtures shared by the CLI, determinism and shipped-level tests.

Outcome figures (prices, counts) are being calibrated while these tests are written, so nothing
here pins them: tests compare two runs, or a run against the engine, never against a number.

* ``mini_level`` — ``tests/levels/fixtures/valid/mini_crash.toml``: two symbols, 1,500 accounts,
  04:50–05:05; a full run takes well under a second and still liquidates and usually ADLs.
* ``default_cli_run`` — the ONE full-size run of the suite's CLI/determinism/level files:
  ``crashfloor`` with no arguments in a subprocess with stdout piped (session-scoped, ~15 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("CRASHFLOOR_VERIFY_SCAN", "1")
"""Every margin scan in the tests (and their subprocesses) is checked against a full valuation."""

ROOT = Path(__file__).resolve().parent.parent
LEVELS_DIR = ROOT / "levels"
FIXTURES = ROOT / "tests" / "levels" / "fixtures"
VALID_FIXTURES = FIXTURES / "valid"
INVALID_FIXTURES = FIXTURES / "invalid"
MINI_LEVEL = VALID_FIXTURES / "mini_crash.toml"


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a ``crashfloor`` subprocess: no forced colours, a fixed width."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")}
    env.update({"COLUMNS": "120", "NO_COLOR": "1", **extra})
    return env


def run_cli_subprocess(args: list[str], *, cwd: Path | str = ROOT, timeout: float = 300,
                       **env: str) -> subprocess.CompletedProcess:
    """``python -m game.cli ARGS`` with this interpreter (the venv's), stdout and stderr piped."""
    return subprocess.run([sys.executable, "-m", "game.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=cli_env(**env), timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def levels_dir() -> Path:
    return LEVELS_DIR


@pytest.fixture(scope="session")
def mini_level() -> Path:
    """A small valid level file for fast runs."""
    assert MINI_LEVEL.is_file(), MINI_LEVEL
    return MINI_LEVEL


@pytest.fixture(scope="session")
def default_cli_run(tmp_path_factory) -> subprocess.CompletedProcess:
    """``crashfloor`` with no arguments, stdout piped (not a tty), run from an unrelated
    directory: the default level at full size. Shared by every test that needs a full run."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    return run_cli_subprocess([], cwd=cwd, timeout=600)


@pytest.fixture(autouse=True)
def _saves_out_of_the_repository(tmp_path_factory, monkeypatch):
    """Autosaves made by tests go to a temporary folder, never into the checkout's saves/
    (a test that wants a folder of its own passes saves_dir or sets CRASHFLOOR_SAVES itself).
    The first-run guide counts as seen there: only the guide's own test meets it."""
    if "CRASHFLOOR_SAVES" not in os.environ:
        folder = tmp_path_factory.mktemp("saves")
        (folder / ".guide-seen").write_text("tests\n", encoding="utf-8")
        monkeypatch.setenv("CRASHFLOOR_SAVES", str(folder))
