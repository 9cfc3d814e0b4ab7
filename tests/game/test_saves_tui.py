"""Saves in the TUI: autosave every 5 sim-minutes and on quit, Continue and the load list on the
title, ``play --resume``, a replay playing on the floor, and an unexpected exception that leaves
a loadable autosave and goes back to the title."""

from __future__ import annotations

from engine.saves import replay as replay_mod
from engine import saves
from game.app import CrashfloorApp
from game.floor_model import FloorModel
from game.screens.error import ErrorScreen
from game.screens.floor import FloorScreen
from game.screens.load import LoadScreen
from game.screens.title import TitleScreen

from .conftest import FIXTURE_LEVELS, SMALL, new_model, run, shown


def _app(tmp_path, **kw) -> CrashfloorApp:
    return CrashfloorApp(levels_dir=FIXTURE_LEVELS, overrides=SMALL, ticking=False,
                         saves_dir=tmp_path, **kw)


async def _rebuilt(app, pilot) -> None:
    """Let a resumed session's rebuild (a worker thread behind a progress screen) finish."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def _autosaves(tmp_path):
    return sorted(p.name for p in tmp_path.glob("autosave-*.cfsave"))


def test_autosave_every_five_sim_minutes_one_file_per_session(tmp_path):
    async def scenario():
        app = _app(tmp_path, model=new_model())
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            floor.advance(290)
            assert _autosaves(tmp_path) == []
            floor.advance(15)                       # 04:05:05: the first autosave
            (first,) = _autosaves(tmp_path)
            assert first.startswith("autosave-1011-hedger-0405-")
            floor.advance(300)                      # 04:10:05: replaces it
            (second,) = _autosaves(tmp_path)
            assert "-0410-" in second
            assert (tmp_path / second).with_suffix(".cfreplay").exists()
            assert saves.load_run(tmp_path / second).sim.hhmm == "04:10:05"
            await pilot.pause()
    run(scenario())


def test_quit_autosaves_and_continue_picks_it_up(tmp_path):
    async def play_then_quit():
        app = _app(tmp_path, model=new_model(until="04:07"))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+q")
            await pilot.pause()
    run(play_then_quit())
    (saved,) = _autosaves(tmp_path)
    assert "-0407-" in saved

    async def continue_from_title():
        app = _app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, TitleScreen)
            await pilot.press("c")
            await _rebuilt(app, pilot)
            assert isinstance(app.screen, FloorScreen)
            assert app.screen.model.sim.hhmm == "04:07:00"
            assert ("Resumed", "The 10–11 crash at 04:07 HKT") in [s[:2] for s in shown(app)] \
                or any(t == "Resumed" for t, _, _ in shown(app))
    run(continue_from_title())


def test_the_load_list_shows_level_role_time_and_equity(tmp_path):
    model = new_model(until="04:12")
    saves.save_run(model.run, tmp_path / "1011-hedger-0412-20251011-040000.cfsave")
    (tmp_path / "broken.cfsave").write_bytes(b"nope")

    async def scenario():
        app = _app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("l")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LoadScreen)
            text = " ".join(str(o.prompt) for o in screen.query_one("#saves").options)
            assert "1011" in text and "hedger" in text and "04:12 HKT" in text
            assert "equity $" in text and "unreadable" in text
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FloorScreen)
            assert app.screen.model.sim.hhmm == "04:12:00"
    run(scenario())


def test_a_bad_save_is_a_notice_not_a_crash(tmp_path):
    bad = tmp_path / "autosave-1011-hedger-0400-20250101-000000.cfsave"
    bad.write_bytes(b"\x89CFSAVE\nshort")

    async def scenario():
        app = _app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.resume(bad) is False
            await pilot.pause()
            assert isinstance(app.screen, TitleScreen)
            assert any(t == "Cannot load that save" for t, _, _ in shown(app))
    run(scenario())


def test_an_unexpected_exception_autosaves_and_goes_back_to_the_title(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("injected failure")

    async def scenario():
        app = _app(tmp_path, model=new_model(until="04:03"), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            monkeypatch.setattr(FloorModel, "snapshot", broken)
            await pilot.press("right")          # next symbol: redraws, and the redraw breaks
            await pilot.pause()
            assert isinstance(app.screen, ErrorScreen)
            assert "injected failure" in str(app.screen.query_one("#error-text").render())
            (saved,) = list(tmp_path.glob("autosave-*.cfsave"))
            assert saves.load_run(saved).sim.hhmm == "04:03:00"
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TitleScreen)
            assert app.is_running
        return app
    app = run(scenario())
    assert app.return_code in (0, None)


def test_play_resume_opens_the_saved_floor(tmp_path):
    model = new_model(until="04:04")
    path = saves.save_run(model.run, tmp_path / "x.cfsave")

    async def scenario():
        app = _app(tmp_path, resumed=saves.load_run(path), paused=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await _rebuilt(app, pilot)
            assert isinstance(app.screen, FloorScreen)
            assert app.screen.model.sim.hhmm == "04:04:00"
    run(scenario())


def test_a_replay_plays_back_on_the_floor(tmp_path):
    from engine.commands import ClosePosition
    model = new_model()
    sim = model.run.sim
    model.advance(30)
    model.submit(ClosePosition(model.player, "BTC", "0.5"))
    model.advance(400)
    path = replay_mod.save_replay(model.run, tmp_path / "s.cfreplay")
    loaded = replay_mod.load_replay(path)

    async def scenario():
        app = _app(tmp_path, resumed=loaded.build(), replay=loaded, paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            floor = app.screen
            assert isinstance(floor, FloorScreen)
            floor.advance(430)
            assert floor.model.run.checksum() == model.run.checksum()
            await pilot.pause()
            clock = floor.query_one("#clock").rendered_text()[0]
            assert "REPLAY ENDED" in clock and "▶" not in clock  # not silently "running"
            await pilot.press("b")     # the player's keys do not trade in a replay
            await pilot.pause()
            assert any("replay" in m for _, m, _ in shown(app))
            assert _autosaves(tmp_path) == []
    assert sim.t == 430
    run(scenario())


def test_a_resumed_session_keeps_its_whole_story(tmp_path):
    """Loaded from a save, the session is re-run from the opening bell with its commands, so the
    tape, the player's timeline and the debrief are those of the uninterrupted session."""
    from engine.commands import ClosePosition
    from game import debrief_model
    from game.floor_model import rebuilt
    played = new_model()
    played.sim.submit(ClosePosition(played.player, "BTC", "0.5"))
    played.run.run(until="05:12")
    loaded = saves.load_run(saves.save_run(played.run, tmp_path / "mid.cfsave"))
    model, note = rebuilt(loaded)
    assert note is None and model.run.checksum() == played.run.checksum()
    assert model.log.timeline == played.log.timeline and model.log.timeline
    assert model.log.tape == played.log.tape and model.log.tape
    assert debrief_model.build(model) == debrief_model.build(played)
    # a loaded run that its commands cannot reproduce keeps its own (shorter) story, and says so
    loaded.sim.exchange.acc.wallet[loaded.player] += 1
    model, note = rebuilt(loaded)
    assert model.run is loaded and "does not reach the saved state" in note


def test_continue_says_when_the_story_cannot_be_rebuilt(tmp_path):
    model = new_model(until="04:03")
    path = saves.save_run(model.run, tmp_path / "x.cfsave")
    loaded = saves.load_run(path)
    loaded.sim.exchange.acc.wallet[loaded.player] += 1

    async def scenario():
        app = _app(tmp_path, resumed=loaded, paused=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await _rebuilt(app, pilot)
            assert isinstance(app.screen, FloorScreen)
            assert any(t == "Story not rebuilt" for t, _, _ in shown(app))
    run(scenario())


def test_resuming_shows_the_rebuilds_progress_then_the_floor(tmp_path):
    """The re-run of a resumed session runs in a worker behind a progress screen that says how
    far it has come; the floor opens at the save's time when it is done."""
    from game.screens.rebuild import RebuildScreen
    model = new_model(until="04:20")
    path = saves.save_run(model.run, tmp_path / "x.cfsave")
    seen = []

    async def scenario():
        app = _app(tmp_path, resumed=saves.load_run(path), paused=True)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, RebuildScreen)
            assert "Rebuilding your session to 04:20:00 HKT" in str(screen.query("Static")[0].render())
            original = screen._show
            screen._show = lambda t: (seen.append(t), original(t))
            await _rebuilt(app, pilot)
            assert isinstance(app.screen, FloorScreen)
            assert app.screen.model.run.checksum() == model.run.checksum()
    run(scenario())
    assert seen and seen[-1] == 1200 and seen == sorted(seen)
