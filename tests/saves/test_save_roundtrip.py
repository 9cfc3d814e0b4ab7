"""Saves restore a run bit for bit: save → load → save gives the same bytes, and a run saved,
loaded and continued ends exactly where the uninterrupted run ends (checksum and summary)."""

from __future__ import annotations

import json
import random
import shutil

import pytest

from engine import saves
from engine.saves import restore
from engine.commands import PlaceOrder, SetQuotes
from engine.crash import CrashRun
from engine.errors import SaveError
from game.cli import main

from .conftest import LEVEL, SMALL, small_run


def test_save_load_save_gives_identical_bytes(tmp_path):
    run = small_run(seed=2)
    run.run(until="04:20")
    run.sim.submit(PlaceOrder(run.player, "BTC", "buy", "0.25", "110000"))  # pending
    first = saves.save_run(run, tmp_path / "a.cfsave")
    loaded = saves.load_run(first)
    assert saves.dump_run(loaded) == first.read_bytes()
    assert loaded.checksum() == run.checksum()
    assert [type(c) for c in loaded.sim._pending] == [PlaceOrder]


def test_maker_desk_round_trip(tmp_path):
    run = small_run(role="maker", seed=4)
    run.run(until="04:10")
    run.sim.submit(SetQuotes(run.player, quoting=True, bid_spread_bps=7.0))
    run.run(until="04:15")
    loaded = saves.load_run(saves.save_run(run, tmp_path / "m.cfsave"))
    assert loaded.desk is not None and loaded.sim.desks[loaded.player] is loaded.desk
    assert loaded.desk in loaded.sim.agents
    assert loaded.desk.settings.bid_spread_bps == 7.0
    run.run(until="04:30")
    loaded.run(until="04:30")
    assert loaded.checksum() == run.checksum()


SCRIPT = {300: ("ETH", "buy", "0.1"), 1500: ("BTC", "sell", "0.05"), 3005: ("ETH", "sell", "0.1")}
"""Player orders at fixed times (market IOCs), fed to the uninterrupted and the resumed runs."""


def _play(run, stop: int | None = None, saves_at=(), dumps=None) -> None:
    """Step ``run`` to ``stop`` (the end), feeding ``SCRIPT``; dump a save at each ``saves_at``."""
    stop = run.sim.duration if stop is None else stop
    while run.sim.t < stop:
        if run.sim.t in saves_at:
            dumps.append(saves.dump_run(run))
        order = SCRIPT.get(run.sim.t)
        if order is not None:
            run.sim.submit(PlaceOrder(run.player, *order, None, "ioc"))
        run.step()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_save_load_continue_equals_the_uninterrupted_run(seed):
    """Five random moments per seed (on step boundaries: stopping between two would change the
    steps themselves); each saved, loaded and played to 05:35."""
    rng = random.Random(seed)
    moments = sorted(rng.sample(range(5, 95 * 60 - 5, 5), 5))
    run = small_run(seed=seed)
    dumps: list[bytes] = []
    _play(run, saves_at=set(moments), dumps=dumps)
    expected = run.checksum(), run.summary()
    assert len(dumps) == 5
    for t, data in zip(moments, dumps, strict=False):
        resumed = _load_bytes(data)
        assert resumed.sim.t == t
        _play(resumed)
        assert (resumed.checksum(), resumed.summary()) == expected, f"resumed at t={t}"


def _load_bytes(data: bytes):
    header, payload = saves.parse_container(data, "memory", saves.MAGIC, "save")
    run = saves.build_run(header, "memory")
    restore.restore(run, saves.unpack_payload(payload, "memory"))
    saves.check_restored(run, header, "memory")
    return run


def test_headless_save_and_resume_give_the_uninterrupted_json(tmp_path, capsys):
    args = ["run", str(LEVEL), "--seed", "5", *sum((["--set", s] for s in SMALL), []), "--json"]
    assert main(args) == 0
    whole = json.loads(capsys.readouterr().out)
    target = tmp_path / "part.cfsave"
    assert main(args + ["--until", "04:47", "--save", str(target)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sim_end"] == "04:47"
    assert str(target) in captured.err
    assert main(["run", "--resume", str(target), "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed == whole


def test_save_into_the_saves_folder_names_level_role_time_and_date(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("CRASHFLOOR_SAVES", str(tmp_path / "env-saves"))
    args = ["run", str(LEVEL), *sum((["--set", s] for s in SMALL), []), "--until", "04:03",
            "--json", "--save"]
    assert main(args) == 0
    (made,) = (tmp_path / "env-saves").glob("*.cfsave")
    assert made.name.startswith("1011-hedger-0403-") and len(made.stem.split("-")) == 5
    assert main(args[:-1] + ["--saves", str(tmp_path / "opt"), "--save"]) == 0
    assert len(list((tmp_path / "opt").glob("1011-hedger-0403-*.cfsave"))) == 1
    info = saves.list_saves(tmp_path / "opt")[0]
    assert (info.level, info.role, info.clock, info.seed) == ("1011", "hedger", "04:03:00", 1)
    assert info.equity_usd > 0


def test_resume_rejects_level_and_seed(capsys, tmp_path):
    assert main(["run", "1011", "--resume", str(tmp_path / "x.cfsave")]) == 2
    assert "--resume" in capsys.readouterr().err


def test_a_save_outlives_its_level_file(tmp_path):
    level_file = tmp_path / "mylevel.toml"
    shutil.copy(LEVEL, level_file)
    from engine.level import load_level
    run = CrashRun(load_level(level_file, SMALL), seed=9)
    run.run(until="04:06")
    target = saves.save_run(run, tmp_path / "s.cfsave")
    level_file.write_text(level_file.read_text().replace("seed = 1", "seed = 2"))
    loaded = saves.load_run(target)
    assert loaded.level.name == "mylevel" and loaded.checksum() == run.checksum()
    level_file.unlink()
    assert saves.load_run(target).checksum() == run.checksum()


def test_unsaveable_values_are_refused_with_a_clear_error():
    run = small_run()
    run.sim.desks[99] = object()  # not an engine object nor a plain value
    with pytest.raises(SaveError, match="cannot save"):
        saves.dump_run(run)


def test_spot_wallet_and_pending_stops_round_trip(tmp_path):
    """The spot wallet's balance and the conditional orders are state: saved, restored, and the
    resumed run ends where the uninterrupted one does."""
    from engine.commands import PlaceTrigger, Transfer
    run = small_run(seed=3, extra=["player.spot_usd=500000"])
    assert run.wallet is not None and run.sim.wallets[run.player] is run.wallet
    run.run(until="04:10")
    run.sim.submit(Transfer(run.player, "120000", "futures"))
    btc = run.sim.exchange.position(run.player, "BTC")
    run.sim.submit(PlaceTrigger(run.player, "BTC", "sell", "stop", str(round(btc.mark * 97 / 100)),
                                qty=str(btc.qty), reduce_only=True))
    run.run(until="04:12")
    assert run.wallet.balance == 380_000 * 1_000_000 and run.sim.exchange.triggers.pending
    loaded = saves.load_run(saves.save_run(run, tmp_path / "w.cfsave"))
    assert loaded.wallet is loaded.sim.wallets[loaded.player] is loaded.recorder.wallet
    assert loaded.wallet.balance == run.wallet.balance
    assert loaded.sim.exchange.triggers.digest() == run.sim.exchange.triggers.digest()
    assert loaded.checksum() == run.checksum()
    run.run(until="05:20")
    loaded.run(until="05:20")
    assert loaded.checksum() == run.checksum()
    assert loaded.summary()["player"] == run.summary()["player"]
