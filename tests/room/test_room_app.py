"""A trainee's app in a heat (``game/room/app.py``): join, wait, play the heat's level, follow
the facilitator's pause and end, report to the room, and continue after rejoining by name."""

import asyncio

import pytest

from game.room.app import RoomTraineeApp, trainee_dir
from game.room.store import RoomStore
from game.screens.debrief import DebriefScreen
from game.screens.floor import FloorScreen

from ..conftest import MINI_LEVEL


@pytest.fixture
def room(tmp_path):
    store = RoomStore.create(tmp_path / "room.db", "ABC234", "FAC999")
    store.new_heat(str(MINI_LEVEL), None, 3)
    yield store
    store.close()


async def _join(app, pilot, name):
    app.screen.query_one("#join-name").value = name
    await pilot.click("#join-go")
    await pilot.pause()


async def _wait_for(pilot, check, tries=200):
    for _ in range(tries):
        await pilot.pause(0.1)
        if check():
            return True
    return False


def test_a_heat_from_the_lobby_to_the_debrief(room, tmp_path):
    asyncio.run(_heat(room, tmp_path))


async def _heat(room, tmp_path):
    app = RoomTraineeApp(tmp_path / "room.db", need_code=False, ticking=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _join(app, pilot, "Ada")
        heat = room.heat()
        room.set_state(heat.id, "running")
        assert await _wait_for(pilot, lambda: isinstance(app.screen, FloorScreen))
        floor = app.screen
        start = floor.model.sim.clock
        floor.advance(120)
        app._reported = 0.0
        app.room_tick(floor)
        ada = room.trainee(heat.id, "Ada")
        assert ada.sim_clock == floor.model.sim.clock > start and ada.equity_usd > 0
        room.set_state(heat.id, "paused")
        app._reported = 0.0
        app.room_tick(floor)
        assert floor.pacer.paused
        floor.pacer.toggle_pause()  # the trainee presses space: the heat's pause holds
        app._reported = 0.0
        app.room_tick(floor)
        assert floor.pacer.paused
        room.set_state(heat.id, "running")
        app._reported = 0.0
        app.room_tick(floor)
        assert not floor.pacer.paused
        room.set_state(heat.id, "ended")
        app._reported = 0.0
        app.room_tick(floor)
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        ada = room.trainee(heat.id, "Ada")
        assert ada.finished and ada.result["equity_end"] == pytest.approx(ada.equity_usd, abs=1)
        assert list(trainee_dir(tmp_path, heat.id, "Ada").glob("autosave-*"))


def test_a_trainee_who_rejoins_continues_from_the_autosave(room, tmp_path):
    asyncio.run(_rejoin(room, tmp_path))


async def _rejoin(room, tmp_path):
    heat = room.heat()
    room.set_state(heat.id, "running")
    first = RoomTraineeApp(tmp_path / "room.db", need_code=False, ticking=False)
    async with first.run_test(size=(120, 40)) as pilot:
        await _join(first, pilot, "Bob")
        assert await _wait_for(pilot, lambda: isinstance(first.screen, FloorScreen))
        start = first.screen.model.sim.clock
        first.screen.advance(400)  # past an autosave (every 5 sim-minutes)
        reached = first.screen.model.sim.clock
    saves = list(trainee_dir(tmp_path, heat.id, "Bob").glob("autosave-*.cfsave"))
    assert saves
    again = RoomTraineeApp(tmp_path / "room.db", need_code=False, ticking=False)
    async with again.run_test(size=(120, 40)) as pilot:
        await _join(again, pilot, "Bob")
        assert await _wait_for(pilot, lambda: isinstance(again.screen, FloorScreen), 100)
        clock = again.screen.model.sim.clock
        assert start < clock <= reached and reached - clock <= 300
        assert [t.name for t in room.trainees(heat.id)] == ["Bob"]
