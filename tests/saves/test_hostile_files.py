"""Hostile saves and replays (issue 11): opening one never writes a file (S1) nor reads a path it
names (S2); crafted states and levels give one clear line and a non-zero exit, never a traceback,
and one bad file does not stop ``crashfloor results`` (S4/S5); memory while loading stays within
a small multiple of the file's size; replay commands are type-checked field by field; text from
a file is printed with its control characters escaped.

Every entry point is tried: ``crashfloor run --resume``, ``crashfloor replay``, ``crashfloor
results``, ``crashfloor saves`` (child processes whose temp folder is inside the test's folder)
and the TUI's Continue and Load (driven by Textual's Pilot, with Python's temp folder moved into
the test's folder). Before the fix, a level name such as ``/abs/victim`` or ``../../victim`` made
the loader write the save's bytes to that file."""

from __future__ import annotations

import math
import os
import struct
import tempfile
import threading

import msgpack
import pytest

from engine import saves
from engine.saves import replay, state
from engine.commands import ClosePosition
from engine.errors import SaveError

from .conftest import small_run
from .crafting import (assert_one_clear_line, cli, files_under, repack, split, tree_of,
                       with_level, with_tree)

CANARY = b"# canary: whatever opens a save must never write here\n"
EVIL_TEXT = b"pwned = true\n[symbols.BTC]\nprice = 1\n"


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A real save and replay of a short session (04:02, one player command) and the level's
    text as the save embeds it."""
    run = small_run()
    run.sim.record_checksums()
    run.run(until="04:01")
    run.sim.submit(ClosePosition(run.player, "BTC", "0.25"))
    run.run(until="04:02")
    folder = tmp_path_factory.mktemp("originals")
    good_save = saves.save_run(run, folder / "good.cfsave").read_bytes()
    good_replay = replay.save_replay(run, folder / "good.cfreplay").read_bytes()
    header, _ = split(good_save)
    assert header["level"]["text"] and "raw" in header["level"]
    return good_save, good_replay


@pytest.fixture
def sandbox(tmp_path):
    """A folder tree with canaries, a temp folder and a working folder for the child process."""
    root = tmp_path / "sandbox"
    for sub in ("victim", "tmp", "cwd", "files", "saves"):
        (root / sub).mkdir(parents=True)
    (root / "victim" / "pyproject.toml").write_bytes(CANARY)
    (root / "victim_b.toml").write_bytes(CANARY)
    return root


def _names(root):
    """Level names a hostile header may carry: absolute, escaping the temp folder through
    ``..`` (from ``root/tmp/<the loader's temp folder>``), with NUL, and very long."""
    absolute = str(root / "victim" / "pyproject")
    return {"absolute": absolute, "dotdot": "../../victim_b", "nul": "lev\x00el/../../x",
            "long": "x" * 3000, "very long": "y" * 10_000, "escapes": "\x1b]0;pwned\x07\x1b[2J"}


def _crafted(originals, root) -> list[tuple[str, bytes, bytes]]:
    """(name, save bytes, replay bytes): every hostile name, with the level's own text (loads)
    and with an attacker's text (refused), and one whose ``path`` names the canary."""
    good_save, good_replay = originals
    out = []
    for key, name in _names(root).items():
        for evil in (False, True):
            text = EVIL_TEXT if evil else None
            out.append((f"{key}{' + evil text' if evil else ''}",
                        with_level(good_save, name=name, text=text),
                        with_level(good_replay, saves.REPLAY_MAGIC, name=name, text=text)))
    out.append(("path names the canary",
                with_level(good_save, keep_raw=True, path=str(root / "victim" / "pyproject.toml")),
                with_level(good_replay, saves.REPLAY_MAGIC, keep_raw=True,
                           path=str(root / "victim" / "pyproject.toml"))))
    return out


def _assert_untouched(root, before, skip=()):
    assert (root / "victim" / "pyproject.toml").read_bytes() == CANARY
    assert (root / "victim_b.toml").read_bytes() == CANARY
    assert files_under(root, skip=(root / "tmp",) + tuple(skip)) == before
    assert list((root / "tmp").iterdir()) == [], "the loader left files in its temp folder"


# --- S1: opening a file never writes one, through every entry point ---------------------------
def test_opening_crafted_files_through_the_cli_writes_nothing(originals, sandbox):
    crafted = _crafted(originals, sandbox)
    files = sandbox / "files"
    for i, (_, save_bytes, replay_bytes) in enumerate(crafted):
        (files / f"c{i}.cfsave").write_bytes(save_bytes)
        (files / f"c{i}.cfreplay").write_bytes(replay_bytes)
    before = files_under(sandbox, skip=(sandbox / "tmp",))
    env = dict(cwd=sandbox / "cwd", tmpdir=sandbox / "tmp")
    for i, (what, _, _) in enumerate(crafted):
        resumed = cli(["run", "--resume", str(files / f"c{i}.cfsave"), "--until", "04:03"], **env)
        assert_one_clear_line(resumed, ok=(0, 2))
        replayed = cli(["replay", str(files / f"c{i}.cfreplay")], **env)
        assert_one_clear_line(replayed, ok=(0, 2))
        if "evil" in what or "very long" in what:
            assert resumed.returncode == replayed.returncode == 2, what
        _assert_untouched(sandbox, before)
    results = cli(["results", str(files), "--csv"], **env)
    assert results.returncode == 0 and "Traceback" not in results.stderr, results.stderr[-2000:]
    assert "skipped" in results.stderr
    listed = cli(["saves", "--saves", str(files)], **env)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert "\x1b" not in listed.stdout and "\\x1b]0;pwned" in listed.stdout
    assert "\x1b" not in results.stdout + results.stderr
    _assert_untouched(sandbox, before)


def test_opening_crafted_saves_in_the_tui_writes_nothing(originals, sandbox, monkeypatch):
    from game.app import CrashfloorApp
    from game.screens.floor import FloorScreen
    from game.screens.load import LoadScreen
    from tests.game.conftest import FIXTURE_LEVELS, run as run_async
    monkeypatch.setattr(tempfile, "tempdir", str(sandbox / "tmp"))
    crafted = _crafted(originals, sandbox)
    saves_dir = sandbox / "saves"
    before = files_under(sandbox, skip=(sandbox / "tmp", saves_dir))
    outcomes = []

    async def scenario():
        app = CrashfloorApp(levels_dir=FIXTURE_LEVELS, ticking=False, saves_dir=saves_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for i, (what, save_bytes, _) in enumerate(crafted):
                for old in saves_dir.iterdir():
                    old.unlink()
                target = saves_dir / f"autosave-x{i}-hedger-0402-20251011-040000.cfsave"
                target.write_bytes(save_bytes)
                app.show_title()
                await pilot.pause()
                await pilot.press("c")                # Continue: the latest autosave
                await pilot.pause()
                continued = isinstance(app.screen, FloorScreen)
                app.show_title()
                await pilot.pause()
                await pilot.press("l")                # Load: the list, then enter
                await pilot.pause()
                assert isinstance(app.screen, LoadScreen)
                await pilot.press("enter")
                await pilot.pause()
                outcomes.append((what, continued, isinstance(app.screen, FloorScreen)))
                _assert_untouched(sandbox, before, skip=(saves_dir,))
    run_async(scenario())
    assert len(outcomes) == len(crafted)
    for what, continued, loaded in outcomes:
        if "evil" in what or "very long" in what:
            assert not continued and not loaded, what
    assert sorted(p.name for p in saves_dir.iterdir()) == [
        f"autosave-x{len(crafted) - 1}-hedger-0402-20251011-040000.cfsave"]


# --- S2: a restored run never reads a path taken from its file ---------------------------------
def test_a_resumed_run_saves_again_without_reading_the_path_its_save_names(originals, tmp_path):
    fifo = tmp_path / "level.fifo"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        crafted = tmp_path / "crafted.cfsave"
        crafted.write_bytes(with_level(originals[0], keep_raw=True, path=path))
        done = {}

        def resume_and_save():
            run = saves.load_run(crafted)
            run.run(until="04:03")
            done["bytes"] = saves.dump_run(run)
        worker = threading.Thread(target=resume_and_save, daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert "bytes" in done, f"resaving a run whose save names {path} hangs or fails"
        header, _ = split(done["bytes"])
        original, _ = split(originals[0])
        assert header["level"]["path"] == path  # the record is the save's own, kept as it was
        assert header["level"]["text"] == original["level"]["text"]
        assert header["level"]["raw"] == original["level"]["raw"]


def test_a_resumed_run_saves_again_from_the_cli_without_reading_the_path(originals, sandbox):
    fifo = sandbox / "files" / "level.fifo"
    os.mkfifo(fifo)
    crafted = sandbox / "files" / "c.cfsave"
    crafted.write_bytes(with_level(originals[0], keep_raw=True, path=str(fifo)))
    out = sandbox / "saves" / "again.cfsave"
    result = cli(["run", "--resume", str(crafted), "--until", "04:03", "--save", str(out)],
                 cwd=sandbox / "cwd", tmpdir=sandbox / "tmp", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert saves.read_info(out).clock.startswith("04:03")


def test_a_level_record_only_ever_reads_a_regular_file(tmp_path):
    import dataclasses
    level = small_run().level
    fifo = tmp_path / "x.toml"
    os.mkfifo(fifo)
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault(
        "record", saves.level_record(dataclasses.replace(level, path=fifo))), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert done["record"]["text"] == b""


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_a_save_that_is_not_a_regular_file_is_refused_at_once(tmp_path, special):
    path = tmp_path / "x.cfsave"
    if special == "fifo":
        os.mkfifo(path)
    elif special == "folder":
        path.mkdir()
    else:
        path = special
    for read in (saves.load_run, saves.read_info, replay.load_replay):
        with pytest.raises(SaveError, match="not a regular file|is a folder"):
            read(path)


# --- S4/S5: crafted states and levels: one clear line, never a traceback -----------------------
def _field(node, name):
    tag, (cls, flat) = next(iter(node.items()))
    assert tag == state.T_OBJECT, node
    return flat, flat.index(name) + 1


def _node(tree, dotted):
    node = tree
    for name in dotted.split("."):
        flat, i = _field(node, name)
        node = flat[i]
    return node


def _edit(originals, dotted, change):
    """The original save with the state node at ``dotted`` (object fields) changed."""
    tree = tree_of(originals[0])
    owner, _, name = dotted.rpartition(".")
    flat, i = _field(_node(tree, owner), name)
    flat[i] = change(flat[i])
    return with_tree(originals[0], tree)


def _nested_level(depth):
    def change(header):
        deep = leaf = {}
        for _ in range(depth):
            leaf["x"] = {}
            leaf = leaf["x"]
        record = dict(header["level"], raw=dict(header["level"]["raw"], nest=deep))
        return dict(header, level=record)
    return change


def _crafted_states(originals) -> dict[str, bytes]:
    good = originals[0]

    def cut(node):
        arr = state.unpack_ndarray(node.data)
        return state.pack_ndarray(arr[:, :10].copy())
    return {
        "int in exchange.books": _edit(originals, "sim.exchange.books", lambda n: n + [3]),
        "int in sim.agents": _edit(originals, "sim.agents", lambda n: n + [5]),
        "NaN mark": _edit(originals, "sim.exchange.marks.mark",
                          lambda n: [math.nan] + n[1:]),
        "cut matrix": _edit(originals, "sim.exchange.acc.cost", cut),
        "_next_oid = 1": _edit(originals, "sim.exchange.ledger.next_oid", lambda n: 1),
        "level nested 900 deep": repack(good, _nested_level(900)),
        "level nested 40 deep": repack(good, _nested_level(40)),
        "level raw not a table": repack(good, lambda h: dict(h, level=dict(h["level"],
                                                                           raw=[1, 2]))),
        "seed as a huge number": repack(good, lambda h: dict(h, seed=2**63)),
    }


def test_crafted_states_are_refused_with_one_clear_error(originals, tmp_path):
    expected = {"int in exchange.books": "books[4]", "int in sim.agents": "agents",
                "NaN mark": "mark", "cut matrix": "acc.cost", "_next_oid = 1": "next_oid",
                "level nested 900 deep": "deep", "level nested 40 deep": "deep",
                "level raw not a table": "table", "seed as a huge number": "seed"}
    for what, data in _crafted_states(originals).items():
        path = tmp_path / "x.cfsave"
        path.write_bytes(data)
        with pytest.raises(SaveError) as caught:
            saves.load_run(path)
        message = str(caught.value)
        assert message.startswith(str(path)) and "\n" not in message, (what, message)
        assert expected[what] in message, (what, message)


def test_crafted_states_through_the_cli_and_results(originals, sandbox):
    files = sandbox / "files"
    crafted = _crafted_states(originals)
    names = []
    for i, data in enumerate(crafted.values()):
        (files / f"bad{i}.cfsave").write_bytes(data)
        names.append(f"bad{i}.cfsave")
    (files / "good.cfsave").write_bytes(originals[0])
    env = dict(cwd=sandbox / "cwd", tmpdir=sandbox / "tmp")
    for name in names[:3] + names[5:6]:
        assert_one_clear_line(cli(["run", "--resume", str(files / name)], **env))
    result = cli(["results", str(files), "--csv"], **env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    skipped = [line for line in result.stderr.splitlines() if line.startswith("crashfloor: ")]
    assert len(skipped) == len(names), result.stderr
    assert all("skipped" in line for line in skipped)
    rows = result.stdout.splitlines()
    assert rows[0].startswith("session,") and [r.split(",")[0] for r in rows[1:]] == ["good"]


def test_memory_while_loading_stays_within_a_small_multiple_of_the_file(originals, tmp_path):
    """A 10 MB payload of empty maps (and one of empty arrays) is refused, its peak memory
    within 20 times its size (it took 785 MB, 78 times, before)."""
    import subprocess
    import sys
    from .conftest import ROOT
    block = b"\xdd" + struct.pack(">I", 1_000_000)
    payloads = {"maps": b"\xdc" + struct.pack(">H", 10) + (block + b"\x80" * 1_000_000) * 10,
                "arrays": b"\xdc" + struct.pack(">H", 10) + (block + b"\x90" * 1_000_000) * 10}
    code = ("import sys, tracemalloc\n"
            "from engine import saves\n"
            "from engine.errors import SaveError\n"
            "tracemalloc.start()\n"
            "try:\n"
            "    saves.load_run(sys.argv[1])\n"
            "except SaveError as exc:\n"
            "    print('refused', str(exc)[:300])\n"
            "print(tracemalloc.get_traced_memory()[1])\n")
    for what, payload in payloads.items():
        path = tmp_path / f"{what}.cfsave"
        path.write_bytes(repack(originals[0], payload=payload))
        size = path.stat().st_size
        out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        lines = out.stdout.splitlines()
        assert lines[0].startswith("refused") and "arrays and maps" in lines[0], lines
        peak = int(lines[-1])
        assert peak < 20 * size, (what, peak, size)


def test_a_header_of_empty_containers_is_refused_within_bounded_memory(tmp_path):
    import tracemalloc
    block = b"\xdd" + struct.pack(">I", 2_000_000) + b"\x80" * 2_000_000
    head = b"\xde" + struct.pack(">H", 1) + b"\xa1k" + b"\x92" + block + block
    data = saves.MAGIC + struct.pack("<I", len(head)) + saves.digest(head) + head
    path = tmp_path / "h.cfsave"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(SaveError, match="arrays and maps"):
            saves.read_info(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(data)


# --- replay commands are type-checked -----------------------------------------------------------
def _replay_with(originals, commands):
    _, payload = split(originals[1], saves.REPLAY_MAGIC)
    body = msgpack.unpackb(payload)
    body["commands"] = commands
    return repack(originals[1], payload=msgpack.packb(body, use_bin_type=True),
                  magic=saves.REPLAY_MAGIC)


def test_replay_commands_are_checked_field_by_field(originals, tmp_path):
    _, payload = split(originals[1], saves.REPLAY_MAGIC)
    (t, good), = msgpack.unpackb(payload)["commands"]
    player = good["account"]
    place = {"type": "PlaceOrder", "account": player, "symbol": "BTC", "side": "buy",
             "qty": "0.1", "price": None, "tif": "ioc", "reduce_only": False, "leverage": None}
    cases = {
        "PlaceOrder.side": [[t, dict(place, side=[1])]],
        "Deposit.usd": [[t, {"type": "Deposit", "account": player, "usd": "1e30"}]],
        "Withdraw.usd": [[t, {"type": "Withdraw", "account": player, "usd": math.nan}]],
        "SetLeverage.leverage": [[t, {"type": "SetLeverage", "account": player,
                                      "symbol": "BTC", "leverage": "x"}]],
        "PlaceOrder.reduce_only": [[t, dict(place, reduce_only="yes")]],
        "ClosePosition.account": [[t, {"type": "ClosePosition", "account": True,
                                       "symbol": "BTC", "fraction": "1"}]],
        "CancelOrder has no field": [[t, {"type": "CancelOrder", "account": player, "oid": 1,
                                          "evil": 1}]],
        "unknown command type": [[t, {"type": "Nuke", "account": player}]],
        "not the player's": [[t, dict(place, account=player + 1)]],
        "out of order": [[t + 5, good], [t, good]],
        "SetQuotes.bid_spread_bps": [[t, {"type": "SetQuotes", "account": player,
                                          "bid_spread_bps": math.inf}]],
    }
    for what, commands in cases.items():
        path = tmp_path / "r.cfreplay"
        path.write_bytes(_replay_with(originals, commands))
        with pytest.raises(SaveError) as caught:
            replay.load_replay(path).build()
        message = str(caught.value)
        assert message.startswith(str(path)) and "\n" not in message, (what, message)
        assert what in message, (what, message)


def test_a_bad_replay_command_is_one_line_from_the_cli(originals, sandbox):
    _, payload = split(originals[1], saves.REPLAY_MAGIC)
    (t, good), = msgpack.unpackb(payload)["commands"]
    path = sandbox / "files" / "r.cfreplay"
    path.write_bytes(_replay_with(originals, [[t, {"type": "Deposit",
                                                   "account": good["account"],
                                                   "usd": "1e30"}]]))
    result = cli(["replay", str(path)], cwd=sandbox / "cwd", tmpdir=sandbox / "tmp")
    assert_one_clear_line(result)
    assert "Deposit.usd" in result.stderr


# --- text from a file is escaped wherever it is printed -----------------------------------------
def test_escape_text():
    assert saves.escape_text("a\x1b[2Jb\x07\n\t\x9b\u202e\x7f") == \
        "a\\x1b[2Jb\\x07\\x0a\\x09\\x9b\\u202e\\x7f"
    assert saves.escape_text("caf\u00e9 \u2603 1011") == "caf\u00e9 \u2603 1011"
    assert saves.escape_text("x" * 500, 10) == "x" * 9 + "…"
    assert saves.escape_text("\udcff") == "\\udcff"


def test_the_saves_listing_escapes_what_a_file_says(originals, tmp_path, capsys):
    from game.cli import main
    evil = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m"
    (tmp_path / "a.cfsave").write_bytes(
        repack(originals[0], lambda h: dict(h, role="hedger\x1b[2J", clock="04:02\x1b[K",
                                            level=dict(h["level"], name=evil))))
    (tmp_path / "evil\x1b[2J.cfsave").write_bytes(b"\x89CFSAVE\nshort")
    assert main(["saves", "--saves", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out and "hedger\\x1b[2J" in out and "evil\\x1b[2J" in out
