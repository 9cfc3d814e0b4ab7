"""The facilitator's screen (``game/room/facilitator.py``) and the heat's export."""

import asyncio
import csv
import io

import pytest

from game.room import export
from game.room.facilitator import FacilitatorApp, NextHeatScreen
from game.room.store import RoomStore

from ..conftest import MINI_LEVEL


@pytest.fixture
def room(tmp_path):
    store = RoomStore.create(tmp_path / "room.db", "ABC234", "FAC999")
    heat = store.new_heat(str(MINI_LEVEL), None, 3)
    ada, bob = store.join(heat.id, "Ada"), store.join(heat.id, "=cmd|' /C calc'!A0")
    store.report(ada.id, 17_460, 640_000)
    store.report(bob.id, 17_520, 655_500.25)
    yield store
    store.close()


def _cells(app):
    table = app.query_one("DataTable")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_the_facilitator_runs_a_heat_and_exports_it(room, tmp_path):
    asyncio.run(_facilitate(room, tmp_path))


async def _facilitate(room, tmp_path):
    app = FacilitatorApp(tmp_path / "room.db", "http://127.0.0.1:8000", "ABC234")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        rows = _cells(app)
        assert [r[1] for r in rows] == ["=cmd|' /C calc'!A0", "Ada"]
        assert rows[0][3] == "04:52" and rows[0][4] == "$655,500" and rows[1][4] == "$640,000"
        info = str(app.query_one("#room-info").render())
        assert "lobby" in info and "ABC234" in info and "http://127.0.0.1:8000" in info
        heat = room.heat().id
        for key, state in (("s", "running"), ("p", "paused"), ("p", "running"), ("e", "ended")):
            await pilot.press(key)
            assert room.heat(heat).state == state
        await pilot.press("s")  # an ended heat does not start again; the screen says why
        assert "cannot become" in str(app.query_one("#room-said").render())
        await pilot.press("x")
        csv_path = tmp_path / f"heat-{heat}-results.csv"
        got = list(csv.reader(io.StringIO(csv_path.read_text())))
        assert got[0][:3] == ["rank", "name", "status"] and got[1][1] == "'=cmd|' /C calc'!A0"
        html_path = tmp_path / f"heat-{heat}-results.html"
        for _ in range(200):
            await pilot.pause(0.1)
            if html_path.exists():
                break
        page = html_path.read_text()
        assert "=cmd|&#x27; /C calc&#x27;!A0" in page
        assert "<polyline" in page and "Liquidations" in page and "<script" not in page
        await pilot.press("n")
        assert isinstance(app.screen, NextHeatScreen)
        app.screen.query_one("#next-variant").value = "bitmex"
        app.screen.query_one("#next-seed").value = "9"
        await pilot.click("#next-seed")
        await pilot.press("enter")
        await pilot.pause()
        new = room.heat()
        assert (new.id, new.variant, new.seed, new.state) == (heat + 1, "bitmex", 9, "lobby")


def test_the_csv_keeps_a_spreadsheet_from_running_a_name(room):
    text = export.to_csv(room, room.heat().id)
    assert "\n1,'=cmd|' /C calc'!A0," in text and "\n2,Ada," in text
