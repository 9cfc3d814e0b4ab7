"""The workshop room in a real browser: ``crashfloor room`` served with textual-serve, driven by
Playwright in Debian's Chromium (``../shared/docs/browser-testing.md``).

Two trainees join one room (a third is refused its wrong code), wait in the lobby; the heat is
started; one trainee buys, the other closes everything; the room's leaderboard shows both with
the equities their own screens show; the heat ends and both browsers show their debriefs; the
room server is stopped and started again and the leaderboard is still there. Screenshots of a
trainee's floor go to ``game/assets/room-trainee.png`` when ``CRASHFLOOR_SCREENSHOTS=1``.

The screen has no DOM text (xterm.js draws on a canvas): an init script keeps xterm's
``Terminal`` when it is built and ``window.__rows()`` returns its rows.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from game.room.store import RoomStore

from ..conftest import MINI_LEVEL

IN_CI = bool(os.environ.get("CRASHFLOOR_CI"))
"""Set by .ci/run: there a browser test that cannot run is a failure, not a skip."""
try:
    import playwright.sync_api as playwright_api
except ImportError:
    if IN_CI:
        raise
    playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = ("/usr/lib/chromium/chromium" if os.path.exists("/usr/lib/chromium/chromium")
            else shutil.which("chromium") or shutil.which("chromium-browser"))
"""Debian's browser itself, past its wrapper script."""
if CHROMIUM is None and IN_CI:
    raise RuntimeError("CI must run the browser tests: Debian's chromium is missing")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

ROOT = Path(__file__).resolve().parents[2]
CODE = "ABC234"

CAPTURE = """
(() => {
  let term = null;
  Object.defineProperty(Object.prototype, '_core', {
    configurable: true,
    set(value) {
      if (!term && this && typeof this.write === 'function') { term = this; }
      Object.defineProperty(this, '_core', {value, writable: true, configurable: true});
    },
  });
  window.__rows = () => {
    if (!term) return [];
    const b = term.buffer.active, out = [];
    for (let i = 0; i < term.rows; i++) {
      const line = b.getLine(b.viewportY + i);
      out.push(line ? line.translateToString(true) : '');
    }
    return out;
  };
})();
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_room(folder: Path, port: int, desk_port: int) -> tuple[subprocess.Popen, str]:
    """The room, and the facilitator's code it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "game.cli", "room", str(MINI_LEVEL),
                             "--seed", "5", "--room-dir", str(folder), "--port", str(port),
                             "--code", CODE, "--facilitator-port", str(desk_port)],
                            stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=ROOT)
    said = proc.stderr.readline()  # "crashfloor room: heat N ... trainees open ... code X"
    match = re.search(r"with the code (\w+)", said)
    assert match, said
    return proc, match.group(1)


def _stop_room(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def _screen(page) -> str:
    return "\n".join(page.evaluate("window.__rows()"))


def _wait_text(page, pattern: str, timeout: float = 40) -> str:
    regex = re.compile(pattern)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = _screen(page)
        if regex.search(text):
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"never saw /{pattern}/ on the screen:\n{_screen(page)}")


def _open(browser, url: str, first: str = "your name"):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.route(re.compile(r".*fonts\.(googleapis|gstatic)\.com.*"), lambda route: route.abort())
    page.add_init_script(CAPTURE)
    page.goto(url)
    _wait_text(page, first)
    page.focus(".xterm-helper-textarea")
    return page


def _board(text: str) -> dict[str, float]:
    """The facilitator's leaderboard rows: name → equity."""
    return {m.group(1): float(m.group(2).replace(",", ""))
            for m in re.finditer(r"^\s*\d+\s+(\w+)\s+(?:playing|finished|in the lobby)\s+"
                                 r"\S+\s+\$([\d,]+)", text, re.M)}


def _join(page, name: str, code: str) -> None:
    page.keyboard.type(name)
    _wait_text(page, re.escape(name))
    page.keyboard.press("Tab")
    page.wait_for_timeout(500)  # the focus moves in the app before the code's keys arrive
    page.keyboard.type(code)
    _wait_text(page, "•" * len(code))
    page.keyboard.press("Enter")


def _press_until(page, key: str, pattern: str, tries: int = 20) -> None:
    """Press ``key`` until ``pattern`` shows: a key sent while the floor is still being built is
    lost, so it is sent again (once the pattern shows, no more)."""
    for _ in range(tries):
        page.keyboard.press(key)
        try:
            _wait_text(page, pattern, timeout=3)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{key!r} never brought /{pattern}/:\n{_screen(page)}")


def _equity_on_screen(text: str) -> float:
    match = re.search(r"equity\s+\$([\d,]+(?:\.\d+)?)", text)
    assert match, f"no equity on the screen:\n{text}"
    return float(match.group(1).replace(",", ""))


def test_two_trainees_play_a_heat_in_their_browsers(tmp_path, monkeypatch):
    scratch = tempfile.mkdtemp(prefix="cfpw-")  # short: Chromium's socket path has a limit
    monkeypatch.setenv("TMPDIR", scratch)
    port, desk_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}/"
    room, desk_code = _start_room(tmp_path, port, desk_port)
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            try:
                desk = _open(browser, f"http://127.0.0.1:{desk_port}/", "facilitator's code")
                desk.keyboard.type("WRONGCODE1")
                desk.keyboard.press("Enter")
                _wait_text(desk, "not the facilitator's code")
                desk.keyboard.type(desk_code)
                desk.keyboard.press("Enter")
                _wait_text(desk, r"Heat \d+: .*lobby")
                eve = _open(browser, url)
                _join(eve, "Eve", "WRONG1")
                _wait_text(eve, "not this room's code")
                ada, bob = _open(browser, url), _open(browser, url)
                _join(ada, "Ada", CODE)
                _join(bob, "Bob", CODE.lower())
                for page in (ada, bob):
                    _wait_text(page, "Waiting for the facilitator")
                store = RoomStore(tmp_path / "room.db")
                heat = store.heat()
                assert [t.name for t in store.trainees(heat.id)] == ["Ada", "Bob"]
                desk.focus(".xterm-helper-textarea")
                desk.keyboard.press("s")
                _wait_text(desk, r"running")
                # Each trainee pauses first and stages the trade, so that it reaches the book
                # in the calm minutes however loaded the machine is (the mini level's makers
                # pull at 04:56, 36 s after the open at 10x).
                for page in (ada, bob):
                    _wait_text(page, r"HKT")
                    page.focus(".xterm-helper-textarea")
                    _press_until(page, " ", "PAUSED")
                _press_until(ada, "b", "Staged")
                _press_until(bob, "X", "Staged")
                for page in (ada, bob):
                    page.keyboard.press(" ")
                _wait_text(ada, r"(?i)bought|filled")
                # The opening DOGE book may not hold Bob's whole short (a partial fill, shown as
                # one): he closes what is left, as a player would.
                _wait_text(bob, r"(?i)bought|filled")
                _press_until(bob, "X", r"no open positions")
                if os.environ.get("CRASHFLOOR_SCREENSHOTS") == "1":
                    ada.screenshot(path=str(ROOT / "game" / "assets" / "room-trainee.png"))
                time.sleep(2.5)  # a report a second: both trainees' latest reach the room
                for page in (ada, bob):
                    page.keyboard.press(" ")  # each pauses its clock: equities hold still
                time.sleep(2.5)
                shown = {"Ada": _equity_on_screen(_screen(ada)),
                         "Bob": _equity_on_screen(_screen(bob))}
                board = _board(_wait_text(desk, r"Ada.*\$[\d,]+[\s\S]*|Bob.*\$"))
                for name, equity in shown.items():
                    assert board[name] == pytest.approx(equity, abs=1.0), (name, board, shown)
                if os.environ.get("CRASHFLOOR_SCREENSHOTS") == "1":
                    desk.screenshot(path=str(ROOT / "game" / "assets" / "room-facilitator.png"))
                desk.keyboard.press("e")
                for page in (ada, bob):
                    _wait_text(page, r"(?i)debrief")
                store.close()
            finally:
                browser.close()
    finally:
        _stop_room(room)
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=1)
    again, _ = _start_room(tmp_path, port, desk_port)
    try:
        store = RoomStore(tmp_path / "room.db")
        board = store.leaderboard(heat.id)
        assert [t.name for t in board if t.finished] and {t.name for t in board} == \
            {"Ada", "Bob"}
        store.close()
    finally:
        _stop_room(again)
        shutil.rmtree(scratch, ignore_errors=True)
