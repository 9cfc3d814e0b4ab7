"""A trainee's join and lobby screens (``game/room/screens.py``) against a real room file."""

import asyncio

import pytest
from textual.app import App

from game.room.screens import JoinScreen, LobbyScreen
from game.room.store import RoomStore


class _RoomApp(App):
    def __init__(self, store, need_code=True):
        super().__init__()
        self.store, self.need_code = store, need_code
        self.entered = None

    def on_mount(self) -> None:
        self.push_screen(JoinScreen(self.store, self._joined, self.need_code))

    def _joined(self, trainee) -> None:
        self.push_screen(LobbyScreen(self.store, trainee, self._started))

    def _started(self, trainee, heat) -> None:
        self.entered = (trainee.name, heat.state)


@pytest.fixture
def store(tmp_path):
    s = RoomStore.create(tmp_path / "room.db", "ABC234", "FAC999")
    s.new_heat("/somewhere/private/1011.toml", "bitmex", 7)
    yield s
    s.close()


async def _type(pilot, selector, text):
    await pilot.click(selector)
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


def test_a_wrong_code_is_refused_and_the_right_one_lets_in(store):
    asyncio.run(_wrong_then_right(store))


async def _wrong_then_right(store):
    app = _RoomApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _type(pilot, "#join-name", "Ada")
        await _type(pilot, "#join-code", "WRONG1")
        await pilot.press("enter")
        assert "not this room's code" in str(app.screen.query_one("#join-error").render())
        assert store.trainees(store.heat().id) == []
        app.screen.query_one("#join-code").value = "abc234"
        await pilot.click("#join-go")
        await pilot.pause()
        assert isinstance(app.screen, LobbyScreen)
        assert [t.name for t in store.trainees(store.heat().id)] == ["Ada"]


def test_the_lobby_shows_who_is_in_and_leaves_when_the_heat_starts(store):
    asyncio.run(_lobby(store))


async def _lobby(store):
    app = _RoomApp(store, need_code=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await _type(pilot, "#join-name", "[b]Bob[/b]")
        await pilot.press("enter")
        await pilot.pause()
        store.join(store.heat().id, "Cy")
        app.screen.look()
        who = str(app.screen.query_one("#lobby-who").render())
        assert "[b]Bob[/b]" in who and "Cy" in who  # a typed name is shown as typed, not markup
        heat = str(app.screen.query_one("#lobby-heat").render())
        assert "1011 (bitmex), seed 7" in heat and "Waiting" in heat and "private" not in heat
        store.set_state(store.heat().id, "running")
        for _ in range(20):
            await asyncio.sleep(0.1)
            if app.entered:
                break
        assert app.entered == ("[b]Bob[/b]", "running")
