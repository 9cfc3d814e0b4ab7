"""Shared pieces of the TUI tests: small runs of a frozen copy of the crash level, apps that
open on a prepared floor with the clock stopped, and the notifications an app showed.

No real timers: every floor here is built with ``ticking=False`` and stepped by hand
(``FloorScreen.advance``). The session-scoped runs are read-only: apps on them start paused, so
no command can reach the exchange.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.crash import CrashRun
from game.app import CrashfloorApp, load
from game.floor_model import FloorModel

FIXTURE_LEVELS = Path(__file__).resolve().parent / "fixtures" / "levels"
SMALL = ["crowd.accounts=1500"]
"""1,500 traders instead of 20,000: builds in well under a second, 05:10 in a few seconds."""


def small_level(role: str | None = None, extra: list[str] = ()):
    return load("1011", role, SMALL + list(extra), FIXTURE_LEVELS)


def new_model(role: str | None = None, until: str | None = "04:00", extra: list[str] = ()):
    """A FloorModel attached at the open, its run stepped to ``until`` (None: the end)."""
    model = FloorModel(CrashRun(small_level(role, extra)))
    if until != "04:00":
        model.run.run(until=until)
    return model


def floor_app(model: FloorModel, *, paused: bool = True) -> CrashfloorApp:
    return CrashfloorApp(model=model, paused=paused, ticking=False, levels_dir=FIXTURE_LEVELS)


def title_app() -> CrashfloorApp:
    return CrashfloorApp(levels_dir=FIXTURE_LEVELS, overrides=SMALL, ticking=False)


def shown(app) -> list[tuple[str, str, str]]:
    """(title, message, severity) of every notice the app shows: its toasts, then the notice
    line's log of an open floor (where the floor's notices go)."""
    from game.widgets.notices import NoticeLine
    toasts = [(n.title, n.message, n.severity) for n in app._notifications]
    return toasts + [(n.title, n.message, n.severity) for screen in app.screen_stack
                     for line in screen.query(NoticeLine) for n in line.entries]


def run(coroutine):
    """Run an async pilot scenario (no asyncio plugin needed)."""
    return asyncio.run(coroutine)


@pytest.fixture(scope="session")
def crash_0510() -> FloorModel:
    """The hedger's floor at 05:10 HKT, mid-crash. Read-only."""
    return new_model(until="05:10")


@pytest.fixture(scope="session")
def crash_end() -> FloorModel:
    """The hedger's floor at the end of the session (05:35). Read-only."""
    return new_model(until=None)


@pytest.fixture(scope="session")
def maker_0445() -> FloorModel:
    """The maker's floor at 04:45, quoting since the open. Read-only."""
    from engine.commands import SetQuotes
    model = new_model("maker")
    model.submit(SetQuotes(model.player, quoting=True))
    model.run.run(until="04:45")
    return model
