"""Title → briefing → floor → debrief, as the hedger and as the market maker."""

from __future__ import annotations

from game.screens.briefing import BriefingScreen
from game.screens.debrief import DebriefScreen
from game.screens.floor import FloorScreen
from game.screens.title import TitleScreen
from game.widgets.desk import DeskPanel
from game.widgets.orders import OrdersPanel
from game.widgets.positions import Positions

from engine.crash import CrashRun
from engine.level import load_level
from game.floor_model import FloorModel

from .conftest import FIXTURE_LEVELS, floor_app, new_model, run, shown, title_app

FIXTURES = FIXTURE_LEVELS.parent


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def _title_to_debrief(role_key_presses: list[str], expect_role: str, panel, not_panel):
    app = title_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TitleScreen)
        assert "The 10–11 crash" in app.screen.query_one("#levels").get_option_at_index(0).prompt
        await pilot.press(*role_key_presses, "enter")
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        assert app.screen.level.data["player"]["role"] == expect_role
        await pilot.press("enter")
        await pilot.pause()
        floor = app.screen
        assert isinstance(floor, FloorScreen) and floor.model.role == expect_role
        assert floor.query(panel) and not floor.query(not_panel)
        floor.advance(120)
        await pilot.pause()
        assert floor.model.sim.hhmm == "04:02:00"
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        assert floor.pacer.paused  # the debrief stops the clock
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is floor and not floor.pacer.paused
        await pilot.press("d", "n")
        await pilot.pause()
        assert isinstance(app.screen, TitleScreen)


def test_hedger_title_briefing_floor_debrief():
    run(_title_to_debrief([], "hedger", OrdersPanel, DeskPanel))


def test_maker_title_briefing_floor_debrief():
    run(_title_to_debrief(["r"], "maker", DeskPanel, OrdersPanel))


def test_briefing_shows_story_portfolio_and_keys():
    async def scenario():
        app = title_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("enter")
            await pilot.pause()
            text = " ".join(str(s.render()) for s in app.screen.query("Static"))
            assert "tariff" in text                      # the story
            assert "long BTC $5,000,000 notional" in text  # the starting portfolio
            assert "Buy/sell" in text and "Reduce" in text  # the controls
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, TitleScreen)
    run(scenario())


def test_the_debrief_opens_by_itself_at_the_end():
    async def scenario():
        model = FloorModel(CrashRun(load_level(FIXTURES / "short.toml")))
        app = floor_app(model, paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            app.floor.advance(10_000)
            await pilot.pause()
            assert model.sim.finished
            assert isinstance(app.screen, DebriefScreen)
            assert "04:00–04:03:00 HKT" in str(app.screen.query_one("#debrief-title").render())
            await pilot.press("escape")
            await pilot.pause()
            assert "SESSION OVER" in app.floor.query_one("#clock").rendered_text()[0]
            await pilot.press("b")  # the market is closed
            await pilot.pause()
            assert any("session is over" in m for _, m, _ in shown(app))
    run(scenario())


def test_debrief_tells_the_players_own_story(crash_end):
    async def scenario():
        app = floor_app(crash_end)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("d")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DebriefScreen)
            moments = [m for m in crash_end.timeline if m.kind in ("adl", "liquidation")]
            body = " ".join(str(s.render()) for s in screen.query(".debrief-section"))
            for m in moments:
                assert m.text in body
            assert "What the market did" in body and "What if?" in body
            assert "crashfloor run 1011" in body
            assert "score" not in body.lower()
    run(scenario())


def test_floor_opens_on_the_positions_of_the_level(crash_0510):
    async def scenario():
        app = floor_app(crash_0510)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            rows = app.floor.query_one(Positions).rendered_text()
            held = [p.symbol for p in app.floor.snapshot.positions]
            assert held and all(any(f" {sym} " in row for row in rows) for sym in held)
    run(scenario())


def test_mouse_selects_symbols_and_presses_dialog_buttons():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            bar = floor.query_one("#symbols")
            start = next(s for s, _, sym in bar._spans if sym == "ETH")
            await pilot.click("#symbols", offset=(start + 1, 0))
            assert floor.symbol == "ETH"
            await pilot.click(Positions, offset=(3, 1))  # the first position row: BTC
            assert floor.symbol == "BTC"
            await pilot.press("r")
            await pilot.pause()
            await pilot.click("#reduce-0")  # 25%
            await pilot.pause()
            before = floor.snapshot.position("BTC").lots
            floor.advance(1)
            assert floor.snapshot.position("BTC").lots < before
    run(scenario())


def test_the_designated_makers_briefing_states_its_obligations_not_freedom():
    """dmm once said both "Pulling is no longer free" and "Nobody obliges you to stay": the
    mandate now comes from the level's own obligations."""
    from pathlib import Path
    from game.app import load
    from game.screens.briefing import portfolio_text
    levels = Path(__file__).resolve().parents[2] / "levels"
    dmm, maker = (portfolio_text(load(name, None, [], levels)) for name in ("dmm", "maker"))
    assert "Nobody obliges" not in dmm and "at most 60 bps apart" in dmm
    assert "costs $5,000" in dmm and "3 bps rebate" in dmm
    assert "Nobody obliges you to stay" in maker and "designated" not in maker


def test_the_first_run_guide_pins_four_hints_to_their_panels_once(tmp_path):
    """A level with guide = true opens its floor with the guide (clock stopped): four hints, each
    next to its panel; a marker in the saves folder keeps it from coming back; h shows it again."""
    from engine.crash import CrashRun
    from game.app import CrashfloorApp
    from game.floor_model import FloorModel
    from game.screens.guide import HINTS, GuideScreen
    from .conftest import FIXTURE_LEVELS, run, small_level

    async def scenario(expect_guide: bool):
        model = FloorModel(CrashRun(small_level(extra=["guide=true"])))
        app = CrashfloorApp(model=model, paused=False, ticking=False, levels_dir=FIXTURE_LEVELS,
                            saves_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, GuideScreen) == expect_guide
            if not expect_guide:
                await pilot.press("h")
                await pilot.pause()
            guide = app.screen
            assert isinstance(guide, GuideScreen) and app.floor.pacer.paused
            for hint in HINTS:
                target = app.floor.query_one(f"#{hint.target}").region
                box = guide.query_one("#guide-box").region
                assert hint.title in str(guide.query_one("#guide-box").render())
                assert box.y in (target.bottom - 1, target.y - box.height + 1), hint.target
                await pilot.press("enter")
                await pilot.pause()
            assert app.screen is app.floor and not app.floor.pacer.paused
    run(scenario(expect_guide=True))
    assert (tmp_path / ".guide-seen").exists()
    run(scenario(expect_guide=False))
