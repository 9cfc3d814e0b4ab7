"""`crashfloor play` and `crashfloor` with no arguments; the headless paths never load textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

import game.cli

ROOT = game.cli.LEVELS_DIR.parent


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, stdin=subprocess.DEVNULL, timeout=120, check=True)
    return out.stdout.strip()


def test_headless_commands_never_import_textual():
    code = ("import sys, io, contextlib, game.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    game.cli.main(['levels'])\n"
            "    game.cli.main(['check', '1011'])\n"
            "    game.cli.main(['run', '1011', '--until', '04:00:03', '--set', "
            "'crowd.accounts=200', '--json'])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    assert _python(code) == "[]"


def test_play_needs_a_terminal(capsys):
    code = game.cli.main(["play", "1011"])
    assert code == 2 and "needs a terminal" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["play", "nosuchlevel"], "no such level"),
    (["play", "1011", "--speed", "0"], "--speed must be 0.1 to 600"),
    (["play", "fund", "--variant", "nope"], "defines no variant of that name"),
    (["play", "1011", "--set", "exchange.fund_multiplier=x"], "must be a number"),
    (["play", "--resume", "x.cfsave", "--set", "a=1"], "give no LEVEL, --role, --seed, --variant"),
])
def test_play_reports_bad_arguments_before_opening(capsys, argv, message):
    assert game.cli.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def opened(monkeypatch):
    """Pretend to be in a terminal and record the app instead of running it."""
    import game.app
    apps = []
    monkeypatch.setattr(game.cli, "_interactive", lambda: True)
    monkeypatch.setattr(game.app.CrashfloorApp, "run", lambda self: apps.append(self))
    return apps


def test_play_goes_straight_onto_the_floor(opened):
    assert game.cli.main(["play", "1011", "--role", "maker", "--seed", "3", "--speed", "60"]) == 0
    (app,) = opened
    assert (app.start_level, app.role, app.seed, app.speed) == ("1011", "maker", 3, 60.0)


def test_no_arguments_in_a_terminal_opens_the_title_screen(opened):
    assert game.cli.main([]) == 0
    (app,) = opened
    assert app.start_level is None and app.prepared is None


def test_play_takes_a_variant_and_sets(opened):
    assert game.cli.main(["play", "fund", "--variant", "bitmex", "--set",
                          "crowd.long_share=0.8"]) == 0
    (app,) = opened
    assert app.start_level == "fund"
    assert app.overrides == ["exchange.fund_multiplier=20", "crowd.long_share=0.8"]
