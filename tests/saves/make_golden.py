"""Write the golden save of the current save format (run once per released format, then keep).

    .venv/bin/python -m tests.saves.make_golden

Each released format keeps its golden file in ``tests/saves/golden/`` for ever:
``test_golden.py`` loads every one of them and plays it to the end. Never regenerate an old one.
"""

from __future__ import annotations

from pathlib import Path

from engine import saves
from engine.saves import runs
from engine.commands import PlaceOrder, SetQuotes
from tests.saves.conftest import golden_path, small_run


def make(role: str) -> Path:
    run = small_run(role=role, seed=3)
    run.sim.record_checksums()
    run.run(until="04:05")
    if role == "hedger":
        run.sim.submit(PlaceOrder(run.player, "BTC", "buy", "0.5", "100000"))
    else:
        run.sim.submit(SetQuotes(run.player, quoting=True, bid_spread_bps=8.0))
    run.run(until="04:10")
    run.sim.submit(PlaceOrder(run.player, "ETH", "sell", "1", None, "ioc"))  # pending in the save
    return saves.save_run(run, golden_path(runs.FORMAT_VERSION, role))


if __name__ == "__main__":
    for role in ("hedger", "maker"):
        print(make(role))
