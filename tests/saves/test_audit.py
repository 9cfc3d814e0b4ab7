"""The meaning of a restored state is checked before a game starts (issue 11, S3): states a real
run reaches pass ``engine.saves.audit`` at every step; states edited with every checksum recomputed
(the same engine build wrote them, so the checksum check passes) are refused when they break a
rule, and marked modified, in ``crashfloor saves --verify`` and ``crashfloor results``, when they
are consistent; a save of another engine build loads marked modified, and keeps the mark."""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pytest

from engine import saves
from engine.saves import audit, replay
from engine.commands import ClosePosition
from engine.errors import SaveError
from game.cli import main

from .conftest import small_run
from .crafting import repack


@pytest.mark.parametrize("role, seed", [("hedger", 2), ("maker", 1)])
def test_a_real_run_passes_the_audit_at_every_step(role, seed):
    run = small_run(role, seed)
    fresh = audit.skeleton(run)
    assert audit.audit_run(run, fresh) == []
    while not run.sim.finished:
        if run.sim.t == 300:
            run.sim.submit(ClosePosition(run.player, "BTC", "0.5"))
        run.step()
        assert audit.audit_run(run, fresh) == [], run.sim.hhmm


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    run = small_run(seed=3)
    run.run(until="04:04")
    run.sim.submit(ClosePosition(run.player, "BTC", "0.25"))
    run.run(until="04:05")
    run.sim.submit(ClosePosition(run.player, "ETH", "0.5"))  # queued: applied by the next step
    path = saves.save_run(run, tmp_path_factory.mktemp("audit") / "base.cfsave")
    return path


def _tampered(saved, tmp_path, edit, name="t.cfsave"):
    """The save loaded, edited by ``edit(run)``, saved again by this build: every checksum is
    right."""
    run = saves.load_run(saved)
    edit(run)
    return saves.save_run(run, tmp_path / name)


def _trader_with_cross_positions(run):
    ex = run.sim.exchange
    acc = ex.acc
    for a in range(acc.n):
        if a != run.player and not acc.is_fund[a] and (acc.qty[:, a] != 0).any() \
                and not acc.iso[:, a].any() and ex.equity_units(a) > 0:
            return a
    raise AssertionError("no trader with cross positions")


def _rich_flat_trader(run):
    acc = run.sim.exchange.acc
    for a in range(acc.n):
        if a != run.player and not acc.is_fund[a] and not acc.qty[:, a].any() \
                and not acc.order_margin[a] and acc.wallet[a] > 2 * 10**12:
            return a
    raise AssertionError("no rich flat trader")


def _move(run, frm, to, units):
    acc = run.sim.exchange.acc
    acc.wallet[frm] -= units
    acc.wallet[to] += units


def _player_pays_too_much(run):
    a = _trader_with_cross_positions(run)
    _move(run, a, run.player, run.sim.exchange.equity_units(a) + 1)


def _long_without_counterparty(run):
    run.sim.exchange.acc.qty[0, run.player] += 5 * 1000


def _fund_below_floor(run):
    ex = run.sim.exchange
    f = ex.funds.ids[0]
    _move(run, f, run.player, int(ex.acc.wallet[f]) + 9_800_000 * 10**6)


def _leverage(run):
    run.sim.exchange.acc.leverage[0, run.player] = 10_000


def _negative_order_margin(run):
    run.sim.exchange.acc.order_margin[run.player] = -10_000_000 * 10**6


def _order_margin_off(run):
    ex = run.sim.exchange
    oid, info = next(iter(ex.ledger.orders.items()))
    info.margin += 1
    ex.acc.order_margin[info.account] += 1


def _order_missing(run):
    ex = run.sim.exchange
    oid, info = next(iter(ex.ledger.orders.items()))
    del ex.ledger.orders[oid]
    ex.acc.order_margin[info.account] -= info.margin


def _negative_isolated_margin(run):
    acc = run.sim.exchange.acc
    s, a = (int(v[0]) for v in np.nonzero(acc.iso[:, :acc.n] & (acc.qty[:, :acc.n] != 0)))
    acc.wallet[a] += int(acc.iso_margin[s, a]) + 1
    acc.iso_margin[s, a] = -1


def _mark_out_of_range(run):
    run.sim.exchange.marks.mark[0] = 10**13


def _looser_instrument(run):
    ex = run.sim.exchange
    inst = ex.instruments[0]
    loose = tuple(dataclasses.replace(b, max_leverage=10_000) for b in inst.brackets)
    ex.instruments[0] = dataclasses.replace(inst, brackets=loose)


def _pending_not_logged(run):
    run.sim._pending.append(ClosePosition(run.player, "DOGE", "1"))


def _next_oid(run):
    run.sim.exchange.ledger.next_oid = 1


def _crowd_ids(run):
    run.crowd.ids[0] = 10**9


def _crowd_cut(run):
    run.crowd.ids = run.crowd.ids[:10].copy()


TAMPERS = {
    "a trader pays the player more than it has": (_player_pays_too_much, "negative equity"),
    "a 5 BTC long with no counterparty": (_long_without_counterparty, "net to zero"),
    "a fund $9.8M below its floor": (_fund_below_floor, "below its floor"),
    "leverage 10,000x": (_leverage, "leverage 10000"),
    "order margin -$10M": (_negative_order_margin, "negative order margin"),
    "an order's margin off by one": (_order_margin_off, "margin"),
    "an order missing from the records": (_order_missing, "without the exchange's record"),
    "negative isolated margin": (_negative_isolated_margin, "negative margin"),
    "a mark past the largest price": (_mark_out_of_range, "mark price"),
    "an instrument's brackets loosened": (_looser_instrument, "exchange.instruments"),
    "a queued command that was never logged": (_pending_not_logged, "sim._pending"),
    "_next_oid reset": (_next_oid, "next_oid"),
    "a crowd trader that does not exist": (_crowd_ids, "name accounts that do not exist"),
    "the crowd's accounts cut short": (_crowd_cut, "arrays are not the shapes"),
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_a_tampered_state_with_recomputed_checksums_is_refused(saved, tmp_path, what):
    edit, expected = TAMPERS[what]
    path = _tampered(saved, tmp_path, edit)
    with pytest.raises(SaveError) as caught:
        saves.load_run(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "not one the engine can reach" in message and expected in message, message


def test_a_consistent_tamper_is_marked_modified_wherever_it_is_shown(saved, tmp_path, capsys):
    """$1M moved from a rich trader to the player, every checksum recomputed: a state the
    rules allow, but not one the session's commands produce."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    clean = saves.save_run(saves.load_run(saved), folder / "clean.cfsave")

    def steal(run):
        _move(run, _rich_flat_trader(run), run.player, 1_000_000 * 10**6)
    tampered = _tampered(saved, folder, steal, "tampered.cfsave")
    run = saves.load_run(tampered)                    # loads: consistent, same build
    assert saves.modified_reason(run) is None
    assert "not what its recorded commands produce" in replay.verify_run(run)
    assert replay.verify_run(saves.load_run(clean)) is None
    assert "recorded commands" in saves.modified_reason(saves.load_run(tampered, verify=True))
    assert saves.modified_reason(saves.load_run(clean, verify=True)) is None

    assert main(["results", str(folder), "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][-1] == "modified"
    assert [r[0] for r in rows[1:]] == ["clean", "tampered"]
    assert rows[1][-1] == "" and "recorded commands" in rows[2][-1]
    assert main(["results", str(folder)]) == 0
    table = capsys.readouterr().out
    line = next(line for line in table.splitlines() if "tampered" in line)
    assert "—" in line.split("tampered")[0] and "1" not in line.split("tampered")[0]

    assert main(["saves", "--saves", str(folder), "--verify"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "[MODIFIED" in next(x for x in listing if "tampered" in x)
    assert "[MODIFIED" not in next(x for x in listing if "clean" in x)


def test_a_save_of_another_engine_build_loads_marked_modified(saved, tmp_path, capsys):
    other = tmp_path / "other.cfsave"
    other.write_bytes(repack(saved.read_bytes(), lambda h: dict(h, engine_build="0" * 16)))
    info = saves.read_info(other)
    assert info.modified and "another engine build" in info.modified
    from game.screens.load import save_line
    assert "modified" in save_line(info) and "another engine build" in save_line(info)
    run = saves.load_run(other)
    assert "another engine build" in saves.modified_reason(run)
    again = saves.save_run(run, tmp_path / "again.cfsave")      # the mark stays with the run
    assert "another engine build" in saves.read_info(again).modified
    assert "another engine build" in saves.modified_reason(saves.load_run(again))
    assert main(["saves", "--saves", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("[MODIFIED: written by another engine build") == 2
    # re-running its commands with this build gives the same state: verified, clean
    assert saves.modified_reason(saves.load_run(other, verify=True)) is None


def test_a_checksum_that_differs_is_refused_even_when_the_state_is_consistent(saved, tmp_path):
    path = tmp_path / "x.cfsave"
    path.write_bytes(repack(saved.read_bytes(), lambda h: dict(h, checksum="f" * 32)))
    with pytest.raises(SaveError, match="checksum differs"):
        saves.load_run(path)


def test_a_modified_save_says_so_in_the_summary_and_the_debrief():
    """A save from another engine build loads marked modified: the run summary (run --json,
    results) and the debrief's title and score say so."""
    from pathlib import Path

    from engine.saves import load_run
    from game.debrief_model import build
    from game.floor_model import FloorModel

    path = Path(__file__).parent / "golden" / "v1-1011-hedger-0410.cfsave"
    run = load_run(path)
    assert run.modified
    s = run.summary()
    assert s["modified"] is True and s["modified_reason"] == run.modified
    d = build(FloorModel(run))
    assert d.title.endswith("MODIFIED") and d.score[0].startswith("⚠ Modified session")
