"""Every released save format loads for ever: the golden save of each format in
``tests/saves/golden/`` is loaded (through the migration chain) and played to the end.

When the format changes: bump ``engine.saves.runs.FORMAT_VERSION``, add the one-step migration to
``engine.saves.runs.MIGRATIONS``, keep the old golden files, and write the new format's with
``python -m tests.saves.make_golden``.
"""

from __future__ import annotations

import re

import pytest

from engine import saves
from engine.saves import runs
from engine.saves.container import read_container
from engine.errors import SaveError

from .conftest import GOLDEN

GOLDEN_FILES = sorted(GOLDEN.glob("v*.cfsave"))


def test_there_is_a_golden_save_of_every_format():
    versions = {int(re.match(r"v(\d+)-", p.name).group(1)) for p in GOLDEN_FILES}
    assert versions == set(range(1, runs.FORMAT_VERSION + 1))


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_save_loads_and_plays_to_the_end(path):
    info = saves.read_info(path)
    run = saves.load_run(path)
    assert (run.level.name, run.sim.hhmm[:5], run.seed) == (info.level, info.clock[:5], info.seed)
    assert run.sim._pending, "the golden save holds a command queued for the next step"
    run.run()
    assert run.sim.finished
    ex = run.sim.exchange
    assert ex.total_money() == ex.net_deposits
    assert run.summary()["sim_end"] == "05:35"


def test_migrations_run_in_order_from_an_old_format(monkeypatch):
    """A pretend format 2 (and 3) over the real golden v1: each step sees the previous one's
    output, pure data in and out."""
    seen = []
    real = runs.MIGRATIONS[1]

    def v1_to_v2(header, tree):
        seen.append(("1→2", header["format_version"]))
        header, tree = real(header, tree)
        return dict(header, note="from v1"), tree

    def v2_to_v3(header, tree):
        seen.append(("2→3", header["format_version"], header["note"]))
        return header, tree

    monkeypatch.setattr(runs, "FORMAT_VERSION", 3)
    monkeypatch.setattr(runs, "MIGRATIONS", {**runs.MIGRATIONS, 1: v1_to_v2, 2: v2_to_v3})
    run = saves.load_run(GOLDEN_FILES[0])
    assert seen == [("1→2", 1), ("2→3", 2, "from v1")]
    assert run.sim.hhmm == "04:10:00"


def test_a_missing_migration_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(runs, "FORMAT_VERSION", 2)
    monkeypatch.setattr(runs, "MIGRATIONS", {})
    with pytest.raises(SaveError, match="no migration from save format 1"):
        saves.load_run(GOLDEN_FILES[0])


def test_a_format_1_maker_save_steers_its_restored_desk():
    """Format 1 kept the desks on the exchange (``Exchange.desks``); they are the simulation's
    now, rebuilt from the restored agents, so a quote command reaches the desk that trades."""
    from engine.commands import PullQuotes

    run = saves.load_run(GOLDEN / "v1-1011-maker-0410.cfsave")
    assert run.sim.desks == {run.player: run.desk} and run.desk in run.sim.agents
    assert run.desk.settings.quoting
    run.sim.submit(PullQuotes(run.player))
    run.step()
    assert not run.desk.settings.quoting and run.desk.placed == 0
    assert not run.sim.exchange.books[run.desk.s].orders_of(run.player)


def _format_1_checksum(run) -> str:
    """``Simulation.checksum`` as format 1 defined it: each agent listed its own fields by hand
    (the definition format 2 replaced with the agents' slots, ``engine.agents.base``)."""
    import dataclasses
    import hashlib

    from engine.agents.arbitrage import Arbitrageurs
    from engine.agents.crowd import Crowd
    from engine.agents.market_makers import MarketMakers
    from engine.agents.player_maker import PlayerDesk

    def digest(a) -> bytes:
        if isinstance(a, MarketMakers):
            return (a.factor.tobytes() + a.spread.tobytes() + a.center.tobytes()
                    + a.placed.tobytes() + a.last_quote.tobytes() + repr(a.quotes).encode()
                    + repr(([s.value for s in a.stance], a.pulled_at, a.reentry_since,
                            a.liq_sum, list(a.liq_window), [list(h) for h in a.highs],
                            [list(lo) for lo in a.lows])).encode())
        if isinstance(a, Crowd):
            return repr((a._rehedge, a.index_minutes)).encode()
        if isinstance(a, PlayerDesk):
            settings = {f.name: getattr(a.settings, f.name)
                        for f in dataclasses.fields(a.settings)}
            return repr((settings, a.center, a.dirty, a.spread_earned, a.uptime_seconds,
                         a.session_seconds, a.placed, a.quoted_mid, a.volume, a.minute_volume,
                         a.minute_seconds, a.minute_compliant, a.compliant_seconds, a.rebates,
                         a.penalties, a.minutes_missed)).encode()
        assert isinstance(a, Arbitrageurs)
        return b""

    sim = run.sim
    h = hashlib.blake2b(digest_size=16)
    h.update(sim.exchange.checksum().encode())
    h.update(repr((sim.t, sim.start, sim.end, sim.step_seconds)).encode())
    for agent in sim.agents:
        h.update(digest(agent))
    return h.hexdigest()


@pytest.mark.parametrize("path", [p for p in GOLDEN_FILES if p.name.startswith("v1-")],
                         ids=lambda p: p.name)
def test_the_format_1_migration_restores_the_state_the_file_saved(path):
    """Format 2 renamed the makers' ``state`` to ``stance`` (a ``Stance`` now) and hashes every
    slot of every agent. Recomputing format 1's checksum from the migrated run gives the
    checksum the file was saved with: every field format 1 hashed came back as it was saved."""
    run = saves.load_run(path)
    assert all(isinstance(s, type(run.makers.stance[0])) for s in run.makers.stance)
    header, _ = read_container(path, saves.MAGIC, "save", with_payload=False)
    assert header["format_version"] == 1
    assert _format_1_checksum(run) == header["checksum"]
    assert run.checksum() != header["checksum"]  # format 2 hashes more


def test_a_renamed_agent_field_fails_loudly_on_load(monkeypatch):
    """Agents declare their fields; a format-1 save meeting an engine that forgot the
    migration's rename is refused, naming the field (no state is silently dropped)."""
    monkeypatch.setitem(runs.MIGRATIONS, 1, lambda header, tree: (header, tree))
    with pytest.raises(SaveError, match="has no field 'state'"):
        saves.load_run(GOLDEN / "v1-1011-hedger-0410.cfsave")
