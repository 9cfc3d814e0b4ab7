"""``crashfloor room``: serve a heat to browsers (textual-serve) and run the facilitator's screen.

    crashfloor room 1011 --variant bitmex --seed 3 --facilitator
    crashfloor room 1011 --host 0.0.0.0 --port 8000        # a classroom network: a code to type

Each browser that opens the address gets its own app process (``room-trainee``): join with a
name (and, off loopback, the room code), wait in the lobby, play, see the debrief. The room lives
in ``--room-dir`` (default ``saves/room``): start the command again after a crash and the room is
as it was (an open heat goes on; its codes are new, and printed).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.errors import InvalidInput

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub) -> None:
    room = sub.add_parser("room", help="serve a heat of LEVEL to trainees' browsers; with "
                          "--facilitator, the facilitator's screen in this terminal")
    room.add_argument("level", help="a level name from levels/ or a path")
    room.add_argument("--variant", help="one of the level's [[variants]]")
    room.add_argument("--seed", type=int, default=1, help="the heat's seed (default 1)")
    room.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only; "
                           "0.0.0.0 for a classroom network, which then needs the room code)")
    room.add_argument("--port", type=int, default=8000)
    room.add_argument("--room-dir", type=Path, help="the room's folder (default saves/room)")
    room.add_argument("--code", help="the room code trainees type (default: a random one)")
    room.add_argument("--facilitator", action="store_true",
                      help="show the facilitator's screen here (start, pause, end, next heat, "
                           "leaderboard, export)")
    room.add_argument("--facilitator-port", type=int, metavar="PORT",
                      help="also serve the facilitator's screen to a browser tab on PORT, "
                           "behind the facilitator's code (printed here)")
    room.set_defaults(handler=cmd_room)

    trainee = sub.add_parser("room-trainee", help="a trainee's app in a room (what each "
                             "browser connection of crashfloor room runs)")
    trainee.add_argument("--db", type=Path, required=True)
    trainee.add_argument("--need-code", action="store_true")
    trainee.set_defaults(handler=cmd_room_trainee)

    fac = sub.add_parser("room-facilitator", help="the facilitator's screen of a running room")
    fac.add_argument("--db", type=Path, required=True)
    fac.add_argument("--need-code", action="store_true")
    fac.set_defaults(handler=cmd_room_facilitator)


def room_db(room_dir: Path | None) -> Path:
    if room_dir is None:
        from game.cli_saves import saves_dir
        room_dir = saves_dir() / "room"
    return Path(room_dir) / "room.db"


def cmd_room(args) -> int:
    from engine.level import find_level
    from game.cli import LEVELS_DIR, variant_overrides

    from .store import RoomStore, new_code
    if not 1 <= args.port <= 65535:
        raise InvalidInput(f"--port must be 1..65535, got {args.port}")
    find_level(args.level, LEVELS_DIR)
    if args.variant:
        variant_overrides(args.level, args.variant)  # an unknown variant is said now
    need_code = args.host not in LOOPBACK or args.code is not None
    code = (args.code or new_code()).strip().upper()
    facilitator_code = new_code(10)
    db = room_db(args.room_dir)
    store = RoomStore.create(db, code, facilitator_code)
    try:
        heat = store.heat()
        if heat.state == "ended" or (heat.level, heat.variant, heat.seed) != (
                args.level, args.variant, args.seed):
            heat = store.new_heat(args.level, args.variant, args.seed)
    except InvalidInput:  # a new room: no heat yet
        heat = store.new_heat(args.level, args.variant, args.seed)
    store.close()
    address = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    def stopped(_signum, _frame):
        raise KeyboardInterrupt  # SIGTERM too: the server's group is stopped on the way out
    signal.signal(signal.SIGTERM, stopped)
    server = serve(db, args.host, args.port, need_code)
    desk = None
    if args.facilitator_port:
        try:
            desk = serve(db, args.host, args.facilitator_port, True, "room-facilitator")
        except BaseException:
            stop(server)
            raise
    say = f"crashfloor room: heat {heat.id} ({args.level}) — trainees open {address}" + \
        (f" and type the room code {code}" if need_code else "")
    if desk is not None:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        say += (f"; the facilitator's screen is at http://{host}:{args.facilitator_port} "
                f"with the code {facilitator_code}")
    print(say, file=sys.stderr, flush=True)
    try:
        if args.facilitator:
            from .facilitator import FacilitatorApp
            FacilitatorApp(db, address, code if need_code else None).run()
        else:
            print("crashfloor room: ctrl-c stops the room; the facilitator's screen is "
                  f"`crashfloor room-facilitator --db {shlex.quote(str(db))}`", file=sys.stderr)
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)
        if desk is not None:
            stop(desk)
    return 0


def serve(db: Path, host: str, port: int, need_code: bool,
          app: str = "room-trainee") -> subprocess.Popen:
    """textual-serve in a process group of its own, one app (``room-trainee`` or
    ``room-facilitator``) per browser connection; returns when it answers (or raises
    ``InvalidInput`` saying why it did not start)."""
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise InvalidInput("crashfloor room needs textual-serve: pip install -e '.[room]' "
                           "(or '.[dev]')") from None
    command = [sys.executable, "-m", "game.cli", app, "--db", str(db)]
    if need_code:
        command.append("--need-code")
    script = ("from textual_serve.server import Server; "
              f"Server({shlex.join(command)!r}, host={host!r}, port={port}, "
              "title='crashfloor workshop').serve()")
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = _answers(host, port, proc)
    except BaseException:  # ctrl-c or SIGTERM while it starts
        stop(proc)
        raise
    if not ready:
        err = proc.stderr.read().decode(errors="replace")[-400:] if proc.stderr else ""
        stop(proc)
        raise InvalidInput(f"the room could not listen on {host}:{port}"
                           + (f": {err.strip().splitlines()[-1]}" if err.strip() else ""))
    return proc


def _answers(host: str, port: int, proc: subprocess.Popen, seconds: float = 15) -> bool:
    import urllib.request
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's group, a short wait, then kill what is left (its app processes)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_room_trainee(args) -> int:
    from .app import RoomTraineeApp
    RoomTraineeApp(args.db, need_code=args.need_code).run()
    return 0


def cmd_room_facilitator(args) -> int:
    from .facilitator import FacilitatorApp
    FacilitatorApp(args.db, need_code=args.need_code).run()
    return 0
