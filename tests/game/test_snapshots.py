"""Screens at fixed moments and sizes (pytest-textual-snapshot). Baselines: __snapshots__/.

Fixed seed, fixed time: the runs are stepped by hand to the moment and the apps open with the
clock stopped. After an intended change of the engine or the screens, re-create the baselines
with ``pytest tests/game --snapshot-update`` and look at them.
"""

from __future__ import annotations

import pytest

from .conftest import floor_app, title_app

SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_title(snap_compare, size):
    assert snap_compare(title_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_floor_mid_crash(snap_compare, crash_0510, size):
    before = crash_0510.run.checksum()
    assert snap_compare(floor_app(crash_0510), terminal_size=size)
    assert crash_0510.run.checksum() == before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_debrief(snap_compare, crash_end, size):
    async def counterfactuals_done(pilot):
        """The debrief re-runs the session in a worker: snap it once the re-runs are shown."""
        await pilot.press("d")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert snap_compare(floor_app(crash_end), run_before=counterfactuals_done,
                        terminal_size=size)


def test_maker_floor(snap_compare, maker_0445):
    assert snap_compare(floor_app(maker_0445), terminal_size=(120, 40))


def test_help_overlay(snap_compare, crash_0510):
    assert snap_compare(floor_app(crash_0510), press=["question_mark"], terminal_size=(120, 40))
