"""Down to 60×20 and back: "terminal too small", never an exception; 80×24 is compact."""

from __future__ import annotations

from game.widgets.too_small import TooSmall

from .conftest import floor_app, new_model, run, title_app

SIZES = [(120, 40), (100, 30), (80, 24), (60, 20), (20, 5), (60, 20), (80, 24), (120, 40)]


async def _walk_sizes(app, pilot):
    for width, height in SIZES:
        await pilot.resize_terminal(width, height)
        await pilot.pause()
        small = width < 80 or height < 24
        assert app.has_class("-too-small") == small
        assert app.screen.query_one(TooSmall).display == small


def test_resizing_the_floor_never_raises():
    async def scenario():
        model = new_model(role="maker", until="04:05")
        app = floor_app(model, paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await _walk_sizes(app, pilot)
            await pilot.resize_terminal(80, 24)
            for _ in range(6):  # every compact view, stepping the engine under each
                await pilot.press("v")
                app.floor.advance(5)
                await pilot.pause()
            assert app.floor.has_class("-compact")
            await pilot.resize_terminal(120, 40)
            await pilot.pause()
            assert not app.floor.has_class("-compact")
    run(scenario())


def test_resizing_title_briefing_and_debrief_never_raises():
    async def scenario():
        app = title_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await _walk_sizes(app, pilot)
            await pilot.press("enter")
            await _walk_sizes(app, pilot)
            await pilot.press("enter", "d")
            await _walk_sizes(app, pilot)
    run(scenario())
