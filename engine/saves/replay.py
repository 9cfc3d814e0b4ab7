"""Replays: a session as its level, seed and the player's commands, re-run and verified.

A replay file has the save container (``engine.saves.container``) with its own magic (``REPLAY_MAGIC``):
the header holds ``format_version``, ``kind`` ("replay"), the engine version and build, the level
(as in a save), ``seed`` and ``role``; the payload holds every player command with the sim time it
was queued at (``Simulation.command_log``), the steps cut short (``short_steps``), the state
checksum at every sim-minute (``Simulation.minute_checksums``), and the time and checksum the
recording ended at.

Re-running one (``verify``) builds the level's run, feeds each command in before the step that
starts at its time (``ReplayFeeder``), and compares every minute's checksum as it goes; the first
minute that differs is reported, and the run stops there.

Loading checks every command record field by field (``check_record``: types, lengths, finite
numbers in range) and that every command is the player's: a replay that trades for another
account is not a session anyone played. A save carries the same log, so ``verify_run`` re-runs a
restored run's commands from the start and says whether the state it holds is the one they
produce (how a consistent edit with recomputed checksums is found).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dc_field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgpack

from .. import __version__
from ..clock import fmt_hhmm, parse_hhmm
from ..commands import COMMANDS, Command, from_record
from ..errors import CrashfloorError, SaveError
from .container import (REPLAY_MAGIC, _label, escape_text, field, open_container,
                        pack_container, unpack_limited)
from .files import write_atomic
from .runs import build_run, engine_build, level_record, rebuild_level
from .state import StateError
from ..units import MAX_USD

SUFFIX = ".cfreplay"
FORMAT_VERSION = 1


@dataclass
class Replay:
    """A loaded replay: what to rebuild, what to feed in, what to expect."""
    path: Path | None
    header: dict
    commands: list[tuple[int, Command]]
    short_steps: dict[int, int]
    checksums: dict[int, str]
    end_t: int
    final_checksum: str

    @property
    def seed(self) -> int:
        return self.header["seed"]

    @property
    def level_name(self) -> str:
        return self.header["level"]["name"]

    def build(self):
        """A fresh run of the replay's level and seed, checksums recorded (``SaveError`` if a
        command is not the player's)."""
        label = _label(self.path)
        run = build_run(self.header, label)
        check_accounts(self.commands, run, label)
        run.sim.record_checksums()
        return run


@dataclass
class ReplayCheck:
    """The outcome of a verified re-run."""
    ok: bool
    minutes_checked: int
    divergence: tuple[int, str, str] | None = None
    """(clock, expected, got) of the first minute whose checksum differs."""
    final_checked: bool = False
    run: Any = dc_field(default=None, repr=False)

    def to_json(self) -> dict:
        div = None if self.divergence is None else {
            "at": fmt_hhmm(self.divergence[0]), "expected": self.divergence[1],
            "got": self.divergence[2]}
        return {"ok": self.ok, "minutes_checked": self.minutes_checked,
                "first_divergence": div, "final_checksum_checked": self.final_checked}


# --- writing ------------------------------------------------------------------------------------
def dump_replay(run) -> bytes:
    sim = run.sim
    header = {"format_version": FORMAT_VERSION, "kind": "replay", "engine_version": __version__,
              "engine_build": engine_build(), "level": level_record(run.level), "seed": run.seed,
              "role": run.level.data["player"]["role"], "t": sim.t, "clock": sim.hhmm}
    payload = {"commands": [[t, rec] for t, rec in sim.command_log],
               "short_steps": [[t, dt] for t, dt in sim.short_steps],
               "checksums": [[c, h] for c, h in (sim.minute_checksums or [])],
               "end_t": sim.t, "final_checksum": run.checksum()}
    return pack_container(REPLAY_MAGIC, header, msgpack.packb(payload, use_bin_type=True))


def save_replay(run, path: str | Path) -> Path:
    """Write the replay of ``run`` so far to ``path`` (atomically)."""
    return write_atomic(path, dump_replay(run))


# --- reading ------------------------------------------------------------------------------------
def load_replay(path: str | Path) -> Replay:
    path = Path(path)
    label = _label(path)
    header, payload = open_container(path, REPLAY_MAGIC, "replay")
    version = field(header, "format_version", int, label)
    if version != FORMAT_VERSION:
        raise SaveError(f"{label}: replay format {version}; this crashfloor reads format "
                        f"{FORMAT_VERSION}")
    field(header, "seed", int, label)
    rebuild_level(field(header, "level", dict, label), label)  # fails early on a bad level
    try:
        body = unpack_limited(payload, strict_map_key=True, ext_hook=_no_ext)
    except SaveError as exc:
        raise SaveError(f"{label}: {exc}") from None
    except StateError as exc:
        raise SaveError(f"{label}: {exc}") from None
    except Exception as exc:
        raise SaveError(f"{label}: unreadable replay ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise SaveError(f"{label}: the replay body is not a map")
    end_t = _time(field(body, "end_t", int, label), label)
    commands = []
    last = 0
    for i, (t, record) in enumerate(_pairs(body, "commands", label)):
        t = _time(t, label)
        if t < last or t > end_t:
            raise SaveError(f"{label}: command {i} at t={t} is out of order (commands run from "
                            f"t=0 to the end, t={end_t}, in order)")
        last = t
        commands.append((t, check_record(record, f"{label}: command {i} (t={t})")))
    short = {_time(t, label): _time(dt, label) for t, dt in _pairs(body, "short_steps", label)}
    checks = {_time(c, label): _hex(h, label) for c, h in _pairs(body, "checksums", label)}
    return Replay(path, header, commands, short, checks, end_t,
                  _hex(field(body, "final_checksum", str, label), label))


def _no_ext(code: int, data: bytes):
    raise SaveError(f"unknown msgpack ext code {code} in a replay")


# --- command records, field by field ------------------------------------------------------------
_MAX_NUMBER = MAX_USD * 1000
"""No number in a command is larger (a price, a size, USD): past anything the exchange takes."""
_TEXT_FIELDS = {"symbol": 32, "side": 16, "tif": 16, "mode": 16, "kind": 16, "to": 16}
_NUMBER_TEXT_FIELDS = ("qty", "price", "fraction", "usd", "trigger")
_FLOAT_FIELDS = ("bid_spread_bps", "ask_spread_bps", "bid_size_usd", "ask_size_usd")
_BOOL_FIELDS = ("reduce_only", "quoting", "skew")
_WHOLE_FIELDS = ("account", "oid", "leverage", "lots")
_OPTIONAL = {(kind, f.name) for kind, cls in COMMANDS.items() for f in fields(cls)
             if f.default is None}
"""The fields a command may leave out (None): every field whose default is None."""


def check_record(record: Any, where: str) -> Command:
    """The command a replay (or a save's log) records, every field type-checked first:
    ``SaveError`` naming the command and the field otherwise (never a traceback)."""
    if not isinstance(record, dict):
        raise SaveError(f"{where}: not a command record (a {type(record).__name__})")
    kind = record.get("type")
    if not isinstance(kind, str) or kind not in COMMANDS:
        raise SaveError(f"{where}: unknown command type {escape_text(repr(kind), 40)}; types: "
                        f"{', '.join(COMMANDS)}")
    cls = COMMANDS[kind]
    names = [f.name for f in fields(cls)]
    for key in record:
        if key != "type" and key not in names:
            raise SaveError(f"{where}: {kind} has no field {escape_text(repr(key), 40)}")
    for name in names:
        if name not in record:
            continue
        problem = _field_problem(kind, name, record[name])
        if problem:
            raise SaveError(f"{where}: {kind}.{name} = {escape_text(repr(record[name]), 60)} "
                            f"{problem}")
    try:
        return from_record(record)
    except (CrashfloorError, TypeError, ValueError) as exc:
        raise SaveError(f"{where}: bad {kind} record ({escape_text(exc, 120)})") from None


def _field_problem(kind: str, name: str, value: Any) -> str | None:
    if value is None:
        return None if (kind, name) in _OPTIONAL else "must be given"
    if name in _WHOLE_FIELDS:
        if type(value) is not int:
            return "must be a whole number"
        return None if 0 <= value < 2**62 else "is out of range"
    if name in _TEXT_FIELDS:
        if type(value) is not str:
            return "must be text"
        return None if len(value) <= _TEXT_FIELDS[name] else "is too long"
    if name in _BOOL_FIELDS:
        return None if type(value) is bool else "must be true or false"
    if name in _NUMBER_TEXT_FIELDS or name in _FLOAT_FIELDS:
        if type(value) in (int, float):
            number = value
        elif type(value) is str and name in _NUMBER_TEXT_FIELDS and len(value) <= 40:
            try:
                number = Decimal(value)
            except InvalidOperation:
                return "is not a number"
        else:
            return "must be a number" + (" (as text)" if name in _NUMBER_TEXT_FIELDS else "")
        finite = number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)
        if not finite:
            return "must be a finite number"
        return None if abs(number) <= _MAX_NUMBER else f"is out of range (at most {_MAX_NUMBER:,})"
    return "is not a field this engine checks"


def check_accounts(commands: list[tuple[int, Command]], run, label: str) -> None:
    """Every command must be the player's (the only account a player commands)."""
    for t, cmd in commands:
        if run.player is None or cmd.account != run.player:
            raise SaveError(f"{label}: a {type(cmd).__name__} at t={t} for account "
                            f"{cmd.account}, not the player's ({run.player})")


def _pairs(body: dict, key: str, label: str) -> list:
    items = field(body, key, list, label)
    for item in items:
        if not isinstance(item, list) or len(item) != 2:
            raise SaveError(f"{label}: {key} must be a list of pairs")
    return items


def _time(value: Any, label: str) -> int:
    if type(value) is not int or not 0 <= value <= 7 * 86_400:
        raise SaveError(f"{label}: bad time {value!r}")
    return value


def _hex(value: Any, label: str) -> str:
    if not isinstance(value, str) or len(value) > 128:
        raise SaveError(f"{label}: bad checksum {value!r}")
    return value


# --- re-running ---------------------------------------------------------------------------------
class ReplayFeeder:
    """Steps a run as the recorded session did: commands in before the step starting at their
    time, cut-short steps cut the same."""

    def __init__(self, replay: Replay):
        self.replay = replay
        self.next = 0

    def skip_to(self, t: int) -> None:
        """Start feeding at sim time ``t`` (a run resumed mid-replay)."""
        while self.next < len(self.replay.commands) and self.replay.commands[self.next][0] < t:
            self.next += 1

    @property
    def done(self) -> bool:
        return self.next >= len(self.replay.commands)

    def step(self, sim):
        commands = self.replay.commands
        while self.next < len(commands) and commands[self.next][0] <= sim.t:
            sim.submit(commands[self.next][1])
            self.next += 1
        return sim.step(self.replay.short_steps.get(sim.t))


def verify(replay: Replay, until: str | None = None, run=None) -> ReplayCheck:
    """Re-run ``replay`` to its end (or ``until``, HKT), checking every minute's checksum
    (``run``: a fresh run to re-run it in, instead of ``replay.build()``)."""
    run = replay.build() if run is None else run
    sim = run.sim
    sim.record_checksums()
    stop = replay.end_t
    if until is not None:
        stop = min(stop, parse_hhmm(until, "--until") - sim.start)
    feeder = ReplayFeeder(replay)
    checked = 0
    while sim.t < stop and not sim.finished:
        before = len(sim.minute_checksums)
        feeder.step(sim)
        for clock, got in sim.minute_checksums[before:]:
            expected = replay.checksums.get(clock)
            if expected is None:
                continue
            if expected != got:
                return ReplayCheck(False, checked, (clock, expected, got), run=run)
            checked += 1
    final = sim.t == replay.end_t
    if final and run.checksum() != replay.final_checksum:
        return ReplayCheck(False, checked, (sim.clock, replay.final_checksum, run.checksum()),
                           final_checked=True, run=run)
    return ReplayCheck(True, checked, None, final_checked=final, run=run)


# --- a save's commands, re-run --------------------------------------------------------------------
def logged_commands(run) -> list[tuple[int, Command]]:
    """``run``'s logged commands with the sim time each was queued at, checked (``check_record``)."""
    return [(t, check_record(rec, f"command {i}"))
            for i, (t, rec) in enumerate(run.sim.command_log)]


def catch_up(fresh, run, progress=None, *, keep=None, before_step=None) -> None:
    """Step ``fresh`` — a new run of ``run``'s level and seed, perhaps with a switch changed —
    through ``run``'s logged commands at their times and its cut-short steps, to ``run``'s time;
    the commands ``run`` had queued for its next step are queued in ``fresh`` too (how a resumed
    session is rebuilt with its story, and how the debrief's counterfactuals re-run it).
    ``progress(t, target)`` is called at every new sim-minute (a progress bar); ``keep(command)``
    drops the logged commands it refuses; ``before_step(fresh)`` runs before every step (a
    scripted player that reacts to the market: ``engine.counterfactual.maker_rerun``)."""
    sim = run.sim
    logged = [(t, c) for t, c in logged_commands(run) if keep is None or keep(c)]
    applied = [(t, c) for t, c in logged if t < sim.t]
    feeder = ReplayFeeder(Replay(None, {}, applied, dict(sim.short_steps), {}, sim.t, ""))
    minute = -1
    while fresh.sim.t < sim.t and not fresh.sim.finished:
        if before_step is not None:
            before_step(fresh)
        feeder.step(fresh.sim)
        if progress is not None and fresh.sim.t // 60 != minute:
            minute = fresh.sim.t // 60
            progress(fresh.sim.t, sim.t)
    for _, command in logged[len(applied):]:
        fresh.sim.submit(command)



def verify_run(run, label: str = "save") -> str | None:
    """Whether ``run`` (restored from a save) holds the state its recorded commands produce: a
    fresh run of its level and seed is fed ``run.sim.command_log`` (and its cut-short steps) up to
    its time, then compared by checksum and summary. None when they agree; else why not (the
    save was edited, or another engine build wrote it)."""
    from ..crash import CrashRun
    sim = run.sim
    try:
        commands = [(t, check_record(rec, f"{label}: logged command {i}"))
                    for i, (t, rec) in enumerate(sim.command_log)]
        if [t for t, _ in commands] != sorted(t for t, _ in commands):
            return "its command log is out of order"
        fresh = CrashRun(run.level, seed=run.seed)
        check_accounts(commands, fresh, label)
    except SaveError as exc:
        return f"its recorded commands cannot be re-run ({escape_text(exc, 200)})"
    except Exception as exc:  # noqa: BLE001 - a hostile log may break the rebuild
        return f"its recorded commands cannot be re-run ({type(exc).__name__})"
    header = {"level": level_record(run.level), "seed": run.seed}
    # the commands queued for the next step are logged at the run's time: not applied yet
    applied = [(t, c) for t, c in commands if t < sim.t]
    replay = Replay(None, header, applied, dict(sim.short_steps), {}, sim.t, run.checksum())
    try:
        check = verify(replay, run=fresh)
        if not check.ok or not check.final_checked:
            return "its state is not what its recorded commands produce (the save was edited, " \
                   "or another engine build wrote it)"
        if _unmarked(fresh.summary()) != _unmarked(run.summary()):
            return "its session record is not what its recorded commands produce (the save " \
                   "was edited)"
    except Exception as exc:  # noqa: BLE001 - the restored run may break when summarised
        return f"it cannot be compared with a re-run ({type(exc).__name__})"
    return None


def _unmarked(summary: dict) -> dict:
    """A summary without its modified mark (what is compared is the session, not the mark)."""
    return {k: v for k, v in summary.items() if k not in ("modified", "modified_reason")}
