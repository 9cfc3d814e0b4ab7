"""``crashfloor room`` serves the room with textual-serve: the page answers on loopback with the
room's title and no path of this machine in it, a stop takes the server's app processes with it,
and a restarted room keeps its heat."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from game.room.store import RoomStore

from ..conftest import MINI_LEVEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _page(port: int, seconds: float = 30) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the room never answered")


def _start(tmp_path, port):
    return subprocess.Popen([sys.executable, "-m", "game.cli", "room", str(MINI_LEVEL),
                             "--seed", "4", "--room-dir", str(tmp_path), "--port", str(port)],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def test_the_room_serves_its_page_and_stops_cleanly(tmp_path):
    pytest.importorskip("textual_serve")
    port = _free_port()
    proc = _start(tmp_path, port)
    try:
        said = proc.stderr.readline()
        page = _page(port)
        assert "crashfloor workshop" in page
        assert str(tmp_path) not in page and "room.db" not in page and sys.executable not in page
    finally:
        _stop(proc)
    assert f"trainees open http://127.0.0.1:{port}" in said and "room code" not in said
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
    store = RoomStore(tmp_path / "room.db")
    heat = store.heat()
    assert (heat.seed, heat.state) == (4, "lobby")
    store.join(heat.id, "Ada")
    store.close()
    again = _start(tmp_path, port)  # a restarted room: the same heat, Ada still in it
    try:
        again.stderr.readline()
        _page(port)
        store = RoomStore(tmp_path / "room.db")
        assert store.heat().id == heat.id and [t.name for t in store.trainees(heat.id)] == ["Ada"]
        store.close()
    finally:
        _stop(again)


def test_a_room_off_loopback_needs_a_code(tmp_path):
    """Listening on every interface, the room says its code; trainees must type it."""
    pytest.importorskip("textual_serve")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "game.cli", "room", str(MINI_LEVEL),
                             "--room-dir", str(tmp_path), "--port", str(port), "--host",
                             "0.0.0.0", "--code", "ZX9KQ2"], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        said = proc.stderr.readline()
        _page(port)
    finally:
        _stop(proc)
    assert "type the room code ZX9KQ2" in said
    store = RoomStore(tmp_path / "room.db")
    assert store.check_code("zx9kq2") and not store.check_code("ZX9KQ3")
    store.close()
    assert not os.path.exists(tmp_path / "ZX9KQ2")
