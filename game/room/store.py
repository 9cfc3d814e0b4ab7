"""The workshop room's state in one place that survives a crash: a small SQLite database (WAL).

One room holds heats (a level, a variant and a seed, played by everybody at once) and the
trainees in each. Every process — the room server, the facilitator's screen, each trainee's app —
opens the same file and goes through this narrow API; SQLite's write-ahead log lets one write
while the others read, and a restarted server finds the room as it was.

Codes (the trainees' room code, the facilitator's code) are random (``secrets``), stored only as
salted hashes, and compared in constant time (``hmac.compare_digest``). Names are kept as typed
(trimmed, 1–24 printable characters) and escaped wherever they are shown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput

STATES = ("lobby", "running", "paused", "ended")
"""A heat's states, in order: trainees wait in the lobby until the facilitator starts it."""

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Room codes: no 0/O or 1/I to misread."""

MAX_NAME = 24

_SCHEMA = """
CREATE TABLE IF NOT EXISTS room (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    created REAL NOT NULL,
    trainee_salt TEXT NOT NULL, trainee_hash TEXT NOT NULL,
    facilitator_salt TEXT NOT NULL, facilitator_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS heat (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    level TEXT NOT NULL, variant TEXT, seed INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'lobby',
    created REAL NOT NULL, started REAL, ended REAL
);
CREATE TABLE IF NOT EXISTS trainee (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    heat INTEGER NOT NULL REFERENCES heat(id),
    name TEXT NOT NULL,
    joined REAL NOT NULL, seen REAL NOT NULL,
    sim_clock INTEGER, equity_usd REAL,
    finished INTEGER NOT NULL DEFAULT 0, result TEXT,
    UNIQUE (heat, name)
);
CREATE TABLE IF NOT EXISTS progress (
    trainee INTEGER NOT NULL REFERENCES trainee(id),
    sim_clock INTEGER NOT NULL, equity_usd REAL NOT NULL,
    PRIMARY KEY (trainee, sim_clock)
);
"""


@dataclass(frozen=True)
class Heat:
    id: int
    level: str
    variant: str | None
    seed: int
    state: str
    started: float | None
    ended: float | None


@dataclass(frozen=True)
class Trainee:
    id: int
    heat: int
    name: str
    sim_clock: int | None
    equity_usd: float | None
    finished: bool
    result: dict | None
    seen: float


def new_code(length: int = 6) -> str:
    """A random room code of ``length`` characters from ``CODE_ALPHABET``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256((salt + code.strip().upper()).encode()).hexdigest()


def level_label(level: str) -> str:
    """How a heat's level is shown to trainees: its name, never a path of this machine."""
    return Path(level).stem if ("/" in level or "\\" in level or level.endswith(".toml")) \
        else level


def clean_name(name: object) -> str:
    """A trainee's name, trimmed; ``InvalidInput`` unless 1–24 printable characters."""
    if not isinstance(name, str):
        raise InvalidInput("a name must be text")
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise InvalidInput(f"a name must be 1–{MAX_NAME} printable characters")
    return name


class RoomStore:
    """The room database at ``path`` (created with ``create``, opened with the constructor)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise InvalidInput(f"no room at {self.path}: start one with crashfloor room")
        self.db = self._connect(self.path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @classmethod
    def create(cls, path: str | Path, trainee_code: str, facilitator_code: str) -> RoomStore:
        """A new room at ``path`` (an existing room there keeps its heats and trainees and
        takes the new codes)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = cls._connect(path)
        db.executescript(_SCHEMA)
        ts, fs = secrets.token_hex(8), secrets.token_hex(8)
        db.execute("INSERT INTO room (id, created, trainee_salt, trainee_hash, facilitator_salt, "
                   "facilitator_hash) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                   "trainee_salt=excluded.trainee_salt, trainee_hash=excluded.trainee_hash, "
                   "facilitator_salt=excluded.facilitator_salt, "
                   "facilitator_hash=excluded.facilitator_hash",
                   (time.time(), ts, _hash(ts, trainee_code), fs, _hash(fs, facilitator_code)))
        db.close()
        return cls(path)

    def close(self) -> None:
        self.db.close()

    # --- codes -----------------------------------------------------------------------------------
    def check_code(self, code: object, who: str = "trainee") -> bool:
        """Is ``code`` the room's trainee (or facilitator) code? Constant-time."""
        if who not in ("trainee", "facilitator") or not isinstance(code, str):
            return False
        salt, digest = self.db.execute(
            f"SELECT {who}_salt, {who}_hash FROM room WHERE id = 1").fetchone()
        return hmac.compare_digest(_hash(salt, code), digest)

    # --- heats -----------------------------------------------------------------------------------
    def new_heat(self, level: str, variant: str | None, seed: int) -> Heat:
        """A new heat in the lobby; the heat before it, if still open, ends."""
        now = time.time()
        with self.db:
            self.db.execute("UPDATE heat SET state='ended', ended=? WHERE state != 'ended'",
                            (now,))
            cur = self.db.execute("INSERT INTO heat (level, variant, seed, created) "
                                  "VALUES (?, ?, ?, ?)", (level, variant, int(seed), now))
        return self.heat(int(cur.lastrowid or 0))

    def heat(self, heat_id: int | None = None) -> Heat:
        """A heat by id, or the latest one."""
        row = self.db.execute(
            "SELECT id, level, variant, seed, state, started, ended FROM heat "
            + ("WHERE id = ?" if heat_id is not None else "ORDER BY id DESC LIMIT 1"),
            (heat_id,) if heat_id is not None else ()).fetchone()
        if row is None:
            raise InvalidInput("the room has no heat yet" if heat_id is None
                               else f"no heat {heat_id}")
        return Heat(*row)

    def set_state(self, heat_id: int, state: str) -> Heat:
        """Move a heat to ``state`` (lobby → running ⇄ paused → ended; nothing leaves ended)."""
        if state not in STATES:
            raise InvalidInput(f"a heat's state is one of {', '.join(STATES)}, not {state!r}")
        heat = self.heat(heat_id)
        allowed = {"lobby": {"running", "ended"}, "running": {"paused", "ended"},
                   "paused": {"running", "ended"}, "ended": set()}[heat.state]
        if state != heat.state and state not in allowed:
            raise InvalidInput(f"heat {heat_id} is {heat.state}: it cannot become {state}")
        now = time.time()
        self.db.execute("UPDATE heat SET state = ?, started = COALESCE(started, "
                        "CASE WHEN ? = 'running' THEN ? END), ended = CASE WHEN ? = 'ended' "
                        "THEN ? ELSE ended END WHERE id = ?",
                        (state, state, now, state, now, heat_id))
        return self.heat(heat_id)

    # --- trainees --------------------------------------------------------------------------------
    def join(self, heat_id: int, name: object) -> Trainee:
        """Join heat ``heat_id`` as ``name``; the same name again is the same trainee (a browser
        that closed rejoins and continues)."""
        name = clean_name(name)
        if self.heat(heat_id).state == "ended":
            raise InvalidInput(f"heat {heat_id} has ended")
        now = time.time()
        self.db.execute("INSERT INTO trainee (heat, name, joined, seen) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(heat, name) DO UPDATE SET seen = excluded.seen",
                        (heat_id, name, now, now))
        return self.trainee(heat_id, name)

    def trainee(self, heat_id: int, name: str) -> Trainee:
        row = self.db.execute("SELECT id, heat, name, sim_clock, equity_usd, finished, result, "
                              "seen FROM trainee WHERE heat = ? AND name = ?",
                              (heat_id, clean_name(name))).fetchone()
        if row is None:
            raise InvalidInput(f"nobody called {name!r} in heat {heat_id}")
        return _trainee(row)

    def report(self, trainee_id: int, sim_clock: int, equity_usd: float) -> None:
        """A trainee's progress: where its session's clock is and its equity."""
        with self.db:
            self.db.execute("UPDATE trainee SET sim_clock = ?, equity_usd = ?, seen = ? "
                            "WHERE id = ?", (int(sim_clock), float(equity_usd), time.time(),
                                             trainee_id))
            self.db.execute("INSERT OR REPLACE INTO progress (trainee, sim_clock, equity_usd) "
                            "VALUES (?, ?, ?)", (trainee_id, int(sim_clock), float(equity_usd)))

    def curve(self, trainee_id: int) -> list[tuple[int, float]]:
        """A trainee's reported (sim clock, equity), in time order."""
        return [(int(c), float(e)) for c, e in self.db.execute(
            "SELECT sim_clock, equity_usd FROM progress WHERE trainee = ? ORDER BY sim_clock",
            (trainee_id,))]

    def finish(self, trainee_id: int, result: dict) -> None:
        """A trainee's session is over: its result (``crashfloor run --json``'s player figures
        and score)."""
        self.db.execute("UPDATE trainee SET finished = 1, result = ?, seen = ? WHERE id = ?",
                        (json.dumps(result, sort_keys=True), time.time(), trainee_id))

    def trainees(self, heat_id: int) -> list[Trainee]:
        rows = self.db.execute("SELECT id, heat, name, sim_clock, equity_usd, finished, result, "
                               "seen FROM trainee WHERE heat = ? ORDER BY id", (heat_id,))
        return [_trainee(r) for r in rows]

    def leaderboard(self, heat_id: int) -> list[Trainee]:
        """The heat's trainees, best first: finished ones by score, then equity; the rest by
        equity; ties by name."""
        def key(t: Trainee):
            score = (t.result or {}).get("score")
            return (not t.finished, -(score if score is not None else -1e18),
                    -(t.equity_usd if t.equity_usd is not None else -1e18), t.name)
        return sorted(self.trainees(heat_id), key=key)


def _trainee(row) -> Trainee:
    return Trainee(row[0], row[1], row[2], row[3], row[4], bool(row[5]),
                   None if row[6] is None else json.loads(row[6]), row[7])
