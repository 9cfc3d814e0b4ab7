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
    """The real migrations and a pretend format 4 over the golden v1: each step sees the
    previous one's output, pure data in and out."""
    seen = []
    real = dict(runs.MIGRATIONS)

    def step(n):
        def migrate(header, tree):
            seen.append((n, header["format_version"], header.get("note")))
            header, tree = real[n](header, tree) if n in real else (header, tree)
            return dict(header, note=f"from v{n}"), tree
        return migrate

    monkeypatch.setattr(runs, "FORMAT_VERSION", 4)
    monkeypatch.setattr(runs, "MIGRATIONS", {1: step(1), 2: step(2), 3: step(3)})
    run = saves.load_run(GOLDEN_FILES[0])
    assert seen == [(1, 1, None), (2, 2, "from v1"), (3, 3, "from v2")]
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


def test_a_renamed_agent_field_fails_loudly_on_load(monkeypatch):
    """Agents declare their fields; a format-1 save meeting an engine that forgot the
    migration's rename is refused, naming the field (no state is silently dropped)."""
    monkeypatch.setitem(runs.MIGRATIONS, 1, lambda header, tree: (header, tree))
    with pytest.raises(SaveError, match="has no field 'state'"):
        saves.load_run(GOLDEN / "v1-1011-hedger-0410.cfsave")
