"""The room's state (``game/room/store.py``): codes, heats, trainees, the leaderboard, and a
second process that opens the same file seeing what the first wrote."""

import multiprocessing

import pytest

from engine.errors import InvalidInput
from game.room.store import CODE_ALPHABET, RoomStore, clean_name, new_code


@pytest.fixture
def room(tmp_path):
    store = RoomStore.create(tmp_path / "room.db", "ABC234", "FAC999")
    yield store
    store.close()


def test_codes_are_random_and_checked_without_storing_them(room, tmp_path):
    codes = {new_code() for _ in range(50)}
    assert len(codes) == 50 and all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert room.check_code("ABC234") and room.check_code(" abc234 ")
    assert not room.check_code("ABC235") and not room.check_code(None)
    assert not room.check_code("ABC234", "facilitator") and room.check_code("FAC999",
                                                                            "facilitator")
    assert b"ABC234" not in (tmp_path / "room.db").read_bytes()


def test_names_are_trimmed_and_bounded():
    assert clean_name("  Ada   Lovelace ") == "Ada Lovelace"
    for bad in ("", "   ", "x" * 25, "tab\x07bell", 7):
        with pytest.raises(InvalidInput):
            clean_name(bad)


def test_a_heat_moves_from_the_lobby_to_its_end(room):
    heat = room.new_heat("1011", None, 1)
    assert heat.state == "lobby" and heat.started is None
    assert room.set_state(heat.id, "running").started is not None
    assert room.set_state(heat.id, "paused").state == "paused"
    assert room.set_state(heat.id, "running").state == "running"
    ended = room.set_state(heat.id, "ended")
    assert ended.ended is not None
    with pytest.raises(InvalidInput, match="cannot become running"):
        room.set_state(heat.id, "running")
    with pytest.raises(InvalidInput, match="has ended"):
        room.join(heat.id, "Late")
    nxt = room.new_heat("1011", "bitmex", 2)
    assert room.heat().id == nxt.id and nxt.variant == "bitmex"


def test_trainees_join_rejoin_and_rank(room):
    heat = room.new_heat("1011", None, 1)
    ada = room.join(heat.id, "Ada")
    bob = room.join(heat.id, "Bob")
    assert room.join(heat.id, " Ada ").id == ada.id  # rejoin by name: the same trainee
    room.report(ada.id, 17_940, 650_000)
    room.report(ada.id, 18_000, 640_000.5)
    room.report(bob.id, 18_060, 700_000)
    assert room.curve(ada.id) == [(17_940, 650_000.0), (18_000, 640_000.5)]
    assert [t.name for t in room.leaderboard(heat.id)] == ["Bob", "Ada"]
    room.finish(ada.id, {"score": 80, "stars": 2, "equity_end": 640_000.5})
    assert [t.name for t in room.leaderboard(heat.id)] == ["Ada", "Bob"]
    assert room.trainee(heat.id, "Ada").result["stars"] == 2


def _other_process(path, queue):
    store = RoomStore(path)
    heat = store.heat()
    t = store.join(heat.id, "Cy")
    store.report(t.id, 17_000, 1.0)
    queue.put([x.name for x in store.trainees(heat.id)])
    store.close()


def test_another_process_sees_and_writes_the_same_room(room, tmp_path):
    """A trainee's app is a process of its own: it joins and reports through the same file; a
    restarted server (a new RoomStore) finds both."""
    heat = room.new_heat("1011", None, 3)
    room.join(heat.id, "Ada")
    queue = multiprocessing.get_context("spawn").Queue()
    proc = multiprocessing.get_context("spawn").Process(
        target=_other_process, args=(tmp_path / "room.db", queue))
    proc.start()
    assert queue.get(timeout=60) == ["Ada", "Cy"]
    proc.join(60)
    again = RoomStore(tmp_path / "room.db")
    assert [t.name for t in again.trainees(heat.id)] == ["Ada", "Cy"]
    assert again.trainee(heat.id, "Cy").sim_clock == 17_000
    again.close()


def test_no_room_no_store(tmp_path):
    with pytest.raises(InvalidInput, match="no room"):
        RoomStore(tmp_path / "none.db")
