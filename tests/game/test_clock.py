"""Pause, speed, the help overlay, the command palette; the pacer turning wall time into steps."""

from __future__ import annotations

import pytest

import game.screens.floor as floor_module
from game.pacer import MAX_TICK_GAP, Pacer
from game.screens.floor import FloorScreen
from game.screens.help import HelpScreen

from .conftest import floor_app, new_model, run


def _clock_line(app) -> str:
    return app.floor.query_one("#clock").rendered_text()[0]


def test_pause_and_speed_keys():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            assert floor.pacer.speed == 10 and "▶ 10×" in _clock_line(app)
            await pilot.press("space")
            assert floor.pacer.paused and "PAUSED" in _clock_line(app)
            await pilot.press("space", "plus")
            assert not floor.pacer.paused and floor.pacer.speed == 30
            await pilot.press("plus", "plus")
            assert floor.pacer.speed == 60 and "▶ 60×" in _clock_line(app)
            await pilot.press("minus", "minus", "minus", "minus", "minus")
            assert floor.pacer.speed == 1
    run(scenario())


def test_the_timer_runs_speed_times_wall_time():
    """FloorScreen.tick with a made-up wall clock: 2 s at 30× is 60 steps."""
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            floor.pacer.speed = 30
            now = [100.0]
            floor.wall_clock = lambda: now[0]
            floor.tick()
            for _ in range(8):
                now[0] += 0.25
                floor.tick()
            await pilot.pause()
            assert floor.model.sim.t == 60
            assert "04:01:00" in _clock_line(app)
            await pilot.press("space")
            now[0] += 5
            floor.tick()
            assert floor.model.sim.t == 60  # paused: the wall clock owes nothing
    run(scenario())


def test_pacer_owes_whole_steps_and_never_races():
    pacer = Pacer(step_seconds=1, speed=10)
    assert pacer.due(0.0) == 0
    assert sum(pacer.due(t / 16) for t in range(1, 17)) == 10   # 1 s at 10×
    assert pacer.due(60.0) == round(MAX_TICK_GAP * 10)          # a stall skips time
    pacer.toggle_pause()
    assert pacer.due(61.0) == 0
    pacer.toggle_pause()
    assert pacer.due(62.0) == 0                                  # resuming starts afresh
    two = Pacer(step_seconds=2, speed=1)
    two.due(0.0)
    assert [two.due(t * 0.25) for t in range(1, 9)] == [0, 0, 0, 0, 0, 0, 0, 1]


def test_advance_respects_its_time_budget():
    model = new_model()
    assert model.advance(500, budget_s=0.0) == 1
    assert model.advance(3) == 3 and model.sim.t == 4


def test_help_overlay_lists_the_roles_keys_and_pauses():
    async def scenario(role, present, absent):
        app = floor_app(new_model(role), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert app.floor.pacer.paused
            text = str(app.screen.query_one("Static").render())
            assert all(word in text for word in present), text
            assert not any(word in text for word in absent), text
            assert "ADL lights" in text
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, FloorScreen) and not app.floor.pacer.paused
    run(scenario(None, ["Buy/sell", "Reduce", "Margin", "Cancel all orders", "Pause", "Speed"],
                 ["Quote on/off"]))
    run(scenario("maker", ["Quote on/off", "Pull all", "Spread", "Skew", "Pause"],
                 ["Buy/sell", "Cancel all orders", "Reduce"]))


@pytest.mark.parametrize("role", [None, "maker"])
def test_every_floor_action_is_in_the_command_palette(role):
    async def scenario():
        app = floor_app(new_model(role), paused=False)
        async with app.run_test(size=(120, 40)):
            floor = app.floor
            titles = [c.title for c in app.get_system_commands(floor)]
            actions = {b.action for b in FloorScreen.BINDINGS
                       if floor_module.role_allows(b.action, floor.maker)}
            assert len([t for t in titles if t.startswith("Floor: ")]) >= len(actions)
            for action in actions:
                title = floor_module.PALETTE_TITLES.get(action)
                if title:
                    assert f"Floor: {title}" in titles, action
    run(scenario())


def test_palette_runs_an_action():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"speed up")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert app.floor.pacer.speed == 30
    run(scenario())


def test_the_real_speed_is_shown_when_the_machine_cannot_keep_up():
    """The floor's step budget lets a slow machine fall behind: the header says how fast the
    clock really runs (here: 600× asked, each tick's steps cut to a third by the budget)."""
    pacer = Pacer(step_seconds=1, speed=600)
    assert pacer.real_speed() is None
    for k in range(13):          # 3 s of ticks, 200 sim-seconds a second really done
        pacer.note(k * 0.25, k * 50)
    assert pacer.real_speed() == pytest.approx(200)
    pacer.faster()
    assert pacer.real_speed() is None   # a new speed is measured afresh

    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            floor.pacer.speed = 60
            for k in range(13):
                floor.pacer.note(k * 0.25, k * 5)   # 20× really
            floor.sync()
            await pilot.pause()
            assert "▶ 60× (really 20×)" in _clock_line(app)
    run(scenario())
