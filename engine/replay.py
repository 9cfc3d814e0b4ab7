"""Replays: a session as its level, seed and the player's commands, re-run and verified.

A replay file has the save container (``engine.save``) with its own magic (``REPLAY_MAGIC``):
the header holds ``format_version``, ``kind`` ("replay"), the engine version and build, the level
(as in a save), ``seed`` and ``role``; the payload holds every player command with the sim time it
was queued at (``Simulation.command_log``), the steps cut short (``short_steps``), the state
checksum at every sim-minute (``Simulation.minute_checksums``), and the time and checksum the
recording ended at.

Re-running one (``verify``) builds the level's run, feeds each command in before the step that
starts at its time (``ReplayFeeder``), and compares every minute's checksum as it goes; the first
minute that differs is reported, and the run stops there.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any

import msgpack

from . import __version__
from .clock import fmt_hhmm, parse_hhmm
from .commands import Command, from_record
from .errors import CrashfloorError, SaveError
from .save import (REPLAY_MAGIC, build_run, engine_build, field, level_record, open_container,
                   pack_container, rebuild_level, write_atomic)

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
        """A fresh run of the replay's level and seed, checksums recorded."""
        run = build_run(self.header, str(self.path))
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
    label = str(path)
    header, payload = open_container(path, REPLAY_MAGIC, "replay")
    version = field(header, "format_version", int, label)
    if version != FORMAT_VERSION:
        raise SaveError(f"{label}: replay format {version}; this crashfloor reads format "
                        f"{FORMAT_VERSION}")
    field(header, "seed", int, label)
    rebuild_level(field(header, "level", dict, label), label)  # fails early on a bad level
    try:
        body = msgpack.unpackb(payload, raw=False, strict_map_key=True,
                               ext_hook=_no_ext)
    except SaveError:
        raise
    except Exception as exc:
        raise SaveError(f"{label}: unreadable replay ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise SaveError(f"{label}: the replay body is not a map")
    commands = []
    for item in _pairs(body, "commands", label):
        t, record = item
        try:
            commands.append((_time(t, label), from_record(record)))
        except CrashfloorError as exc:
            raise SaveError(f"{label}: bad command at t={t}: {exc}") from None
    short = {_time(t, label): _time(dt, label) for t, dt in _pairs(body, "short_steps", label)}
    checks = {_time(c, label): _hex(h, label) for c, h in _pairs(body, "checksums", label)}
    return Replay(path, header, commands, short, checks, _time(field(body, "end_t", int, label),
                                                                label),
                  _hex(field(body, "final_checksum", str, label), label))


def _no_ext(code: int, data: bytes):
    raise SaveError(f"unknown msgpack ext code {code} in a replay")


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


def verify(replay: Replay, until: str | None = None) -> ReplayCheck:
    """Re-run ``replay`` to its end (or ``until``, HKT), checking every minute's checksum."""
    run = replay.build()
    sim = run.sim
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
