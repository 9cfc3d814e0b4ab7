"""The workshop in the TUI: the briefing offers the level's variants and lists its objectives;
the debrief scores the run and says whether the lesson showed up."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.crash import CrashRun
from engine.level import load_level
from game.app import CrashfloorApp
from game.floor_model import FloorModel
from game.screens.briefing import BriefingScreen
from game.screens.debrief import DebriefScreen
from game.screens.floor import FloorScreen

from .conftest import FIXTURE_LEVELS, floor_app, run

LEVELS = Path(__file__).resolve().parents[2] / "levels"


def test_briefing_offers_the_variants_and_starts_the_chosen_one():
    async def scenario():
        app = CrashfloorApp(levels_dir=LEVELS, overrides=["crowd.accounts=1500"], ticking=False)
        async with app.run_test(size=(120, 40)) as pilot:
            app.show_briefing("fund", "hedger")
            await pilot.pause()
            assert isinstance(app.screen, BriefingScreen)
            text = " ".join(str(s.render()) for s in app.screen.query("Static"))
            assert "Objectives" in text and "Lose no position to ADL" in text
            labels = [str(b.label) for b in app.screen.query("RadioButton")]
            assert labels[2] == "BitMEX-like: twenty times today's"
            # the picker has the focus and starts on the level as it is, as its hint says
            assert app.screen.focused is app.screen.query_one("RadioSet")
            assert app.screen.choice == 1 and labels[1].startswith("As-is")
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, BriefingScreen) and app.screen.choice == 2
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, FloorScreen)
            level = app.screen.model.level
            assert level.get("exchange.fund_multiplier") == 20
            assert level.get("crowd.accounts") == 1500
            assert app.screen.model.sim.command_log == []  # the s started; it sold nothing
    run(scenario())


def test_debrief_scores_the_run_and_names_the_lesson(tmp_path):
    path = tmp_path / "scored.toml"
    shutil.copy(FIXTURE_LEVELS.parent / "short.toml", tmp_path / "short.toml")  # a base beside it
    path.write_text('base = "short"\n'
                    'lesson = "Short sessions are short."\n'
                    "[[objectives]]\nmetric = \"survived\"\nweight = 2\n"
                    "[[objectives]]\nmetric = \"end_equity_usd\"\nat_least = 1e9\n"
                    "[[lesson_checks]]\nmetric = \"liquidated_accounts\"\nat_most = 1e9\n"
                    "label = \"Everyone could be liquidated\"\n", encoding="utf-8")
    model = FloorModel(CrashRun(load_level(path)))
    model.run.run()
    expected = model.run.summary()["objectives"]

    async def scenario():
        app = floor_app(model)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, DebriefScreen)
            score = str(app.screen.query_one("#score").render())
            assert f"Score {expected['score']}/100" in score
            assert "✓ Survive" not in score  # labels made from the metric's doc
            assert "✗ the player's equity at the end, USD ≥ $1,000,000,000" in score
            lesson = str(app.screen.query_one("#lesson").render())
            assert "It showed up in your run — Everyone could be liquidated" in lesson
    run(scenario())
