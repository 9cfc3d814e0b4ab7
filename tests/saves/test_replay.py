"""Replays: a scripted session's commands, re-run from the file, reproduce its final checksum and
its JSON summary; a replay that does not match names the first minute that diverges."""

from __future__ import annotations

import json

import msgpack
import pytest

from engine import saves
from engine.saves import replay
from engine.commands import (AddMargin, CancelAll, ClosePosition, PlaceOrder, SetLeverage,
                             SetMarginMode)
from engine.errors import SaveError
from game.cli import main

from .conftest import small_run


def _script(player: int) -> dict[int, list]:
    """What a trainee did, at sim times (seconds since 04:00, on 5-second steps)."""
    return {
        60: [ClosePosition(player, "BTC", "0.25")],
        120: [PlaceOrder(player, "ETH", "buy", "0.2", "3900"), SetLeverage(player, "BTC", 5)],
        600: [CancelAll(player)],
        900: [AddMargin(player, "DOGE", "1000")],
        1500: [ClosePosition(player, "BTC", "0.5")],
        2400: [PlaceOrder(player, "DOGE", "sell", "1000", None, "ioc"),
               SetMarginMode(player, "XRP", "isolated")],   # refused: no such symbol
        4000: [ClosePosition(player, "ETH", "1")],
    }


def _play_scripted(seed: int = 2, stop: int | None = None, run=None):
    run = run or small_run(seed=seed)
    run.sim.record_checksums()
    script = _script(run.player)
    stop = run.sim.duration if stop is None else stop
    while run.sim.t < stop:
        for cmd in script.get(run.sim.t, ()):
            run.sim.submit(cmd)
        run.step()
    return run


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    run = _play_scripted()
    path = replay.save_replay(run, tmp_path_factory.mktemp("r") / "session.cfreplay")
    return run, path


def test_a_replay_reproduces_the_final_checksum_and_json(session):
    run, path = session
    loaded = replay.load_replay(path)
    assert len(loaded.commands) == 9 and len(loaded.checksums) == 95
    check = replay.verify(loaded)
    assert check.ok and check.final_checked and check.minutes_checked == 95
    assert check.run.checksum() == run.checksum()
    assert check.run.summary() == run.summary()


def test_the_replay_command_prints_the_same_json(session, capsys):
    run, path = session
    assert main(["replay", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["first_divergence"] is None
    assert out["checksum"] == run.checksum() and out["summary"] == run.summary()
    assert main(["replay", str(path), "--until", "04:30"]) == 0
    assert "30 minute checksums match" in capsys.readouterr().out


def test_a_tampered_replay_names_the_first_diverging_minute(session, tmp_path, capsys):
    _, path = session
    header, payload = saves.parse_container(path.read_bytes(), "r", saves.REPLAY_MAGIC, "replay")
    body = msgpack.unpackb(payload)
    body["commands"] = [c for c in body["commands"] if c[0] != 60]   # drop the first close
    header = {k: v for k, v in header.items() if not k.startswith("payload")}
    bad = tmp_path / "tampered.cfreplay"
    bad.write_bytes(saves.pack_container(saves.REPLAY_MAGIC, header, msgpack.packb(body)))
    check = replay.verify(replay.load_replay(bad))
    assert not check.ok and check.divergence[0] == 4 * 3600 + 2 * 60   # queued at 04:01
    assert check.minutes_checked == 1
    assert main(["replay", str(bad)]) == 1
    assert "DIVERGED at 04:02 HKT" in capsys.readouterr().err


def test_a_session_saved_and_resumed_still_replays_from_the_start(tmp_path):
    run = _play_scripted(seed=5, stop=1200)
    resumed = saves.load_run(saves.save_run(run, tmp_path / "mid.cfsave"))
    _play_scripted(run=resumed)
    loaded = replay.load_replay(replay.save_replay(resumed, tmp_path / "whole.cfreplay"))
    check = replay.verify(loaded)
    assert check.ok and check.final_checked and check.minutes_checked == 95
    assert check.run.checksum() == _play_scripted(seed=5).checksum()


def test_headless_record_writes_a_replay_that_verifies(tmp_path, capsys):
    from .conftest import LEVEL, SMALL
    target = tmp_path / "run.cfreplay"
    args = ["run", str(LEVEL), *sum((["--set", s] for s in SMALL), []), "--until", "04:20",
            "--json", "--record", str(target)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["replay", str(target), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["minutes_checked"] == 20 and out["sim_end"] == "04:20:00"


@pytest.mark.parametrize("data", [b"", b"\x89CFRPLY\n", b"\x89CFSAVE\n" + b"\x00" * 60])
def test_broken_replays_are_refused(tmp_path, data, capsys):
    path = tmp_path / "broken.cfreplay"
    path.write_bytes(data)
    with pytest.raises(SaveError, match=str(path)):
        replay.load_replay(path)
    assert main(["replay", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"crashfloor: {path}")


def test_every_command_the_game_sends_survives_a_save_and_a_replay(tmp_path):
    """The ticket's and the wallet's commands — a transfer, a stop, a take-profit, orders sized in
    USD and in lots, a USD amend — are logged like any other: a save holding them loads, resumes
    and replays to the same checksum (they were once refused as unknown fields)."""
    from engine.commands import AmendOrder, PlaceTrigger, Transfer
    run = small_run(seed=3, extra=["player.spot_usd=500000"])
    run.sim.record_checksums()
    p = run.player
    script = {
        60: [Transfer(p, "100000"), PlaceOrder(p, "BTC", "buy", usd=20_000),
             PlaceOrder(p, "ETH", "buy", None, "3000", lots=2)],
        120: [PlaceTrigger(p, "BTC", "sell", "stop", "100000", qty="10", reduce_only=True),
              PlaceTrigger(p, "DOGE", "buy", "take_profit", "0.2", usd=100_000,
                           reduce_only=True),
              AmendOrder(p, 1, usd=5_000), Transfer(p, "1000", to="spot")],
    }
    while run.sim.t < 1200:
        for cmd in script.get(run.sim.t, ()):
            run.sim.submit(cmd)
        run.step()
    assert len(run.sim.command_log) == 7
    resumed = saves.load_run(saves.save_run(run, tmp_path / "mid.cfsave"))
    assert resumed.checksum() == run.checksum()
    assert replay.verify_run(resumed) is None
    check = replay.verify(replay.load_replay(replay.save_replay(run, tmp_path / "s.cfreplay")))
    assert check.ok and check.run.checksum() == run.checksum()
