"""``game.bench_tui.measure_floor``: the floor's redraw rate and key latency, as ``crashfloor
bench`` reports them. Only the shape is checked here — speed is measured by the benchmark, never
asserted in a test."""

from __future__ import annotations

from game.bench_tui import describe, measure_floor

from .conftest import SMALL


def test_measure_floor_returns_every_figure():
    r = measure_floor(seconds=1.0, overrides=SMALL)
    assert r["speed"] == 60 and r["size"] == [120, 40] and r["from"] == "05:05"
    for key in ("redraws_per_s", "sim_seconds_per_wall_second", "key_latency_ms_median",
                "key_latency_ms_max", "seconds"):
        assert isinstance(r[key], (int, float)) and r[key] >= 0, key
    assert r["key_latency_ms_median"] <= r["key_latency_ms_max"]
    assert isinstance(r["key_presses"], int) and 1 <= r["keys_handled"] <= r["key_presses"]
    assert isinstance(r["sim_finished"], bool)
    assert "redraws/s" in describe(r)
