"""Export an SVG of the floor at a fixed moment, for the README (no terminal needed):

    python -m game.screenshot                       # 1011, the hedger, 05:10 HKT, 120×40
    python -m game.screenshot --role maker --at 05:00 --size 80x24 --out floor-maker.svg
    python -m game.screenshot --set crowd.accounts=1500 --out quick.svg

Runs the level headless to ``--at`` (full size by default: a few seconds), opens the app on that
floor with the clock stopped and saves what the screen shows (``App.save_screenshot``). The same
level, seed and time always give the same picture.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from engine.commands import SetQuotes
from engine.crash import CrashRun

from .app import CrashfloorApp, load
from .floor_model import FloorModel


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m game.screenshot",
                                description=__doc__.split("\n")[0])
    p.add_argument("--level", default="1011")
    p.add_argument("--role", choices=("hedger", "maker"))
    p.add_argument("--seed", type=int)
    p.add_argument("--at", default="05:10", metavar="HH:MM", help="HKT time of the picture")
    p.add_argument("--size", default="120x40", metavar="WxH")
    p.add_argument("--screen", choices=("floor", "debrief", "help"), default="floor")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default="crashfloor-floor.svg")
    return p


def prepare(level: str, role: str | None, seed: int | None, at: str,
            overrides: list[str]) -> FloorModel:
    """A floor model stepped to ``at``; a maker quotes from the open."""
    model = FloorModel(CrashRun(load(level, role, overrides), seed=seed))
    if model.role == "maker":
        model.submit(SetQuotes(model.player, quoting=True))
    model.run.run(until=at)
    return model


async def export(model: FloorModel, size: tuple[int, int], out: Path, screen: str) -> None:
    app = CrashfloorApp(model=model, paused=True, ticking=False, guide=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if screen != "floor":
            await pilot.press("d" if screen == "debrief" else "question_mark")
            await pilot.pause()
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    model = prepare(args.level, args.role, args.seed, args.at, args.overrides)
    out = Path(args.out).resolve()
    asyncio.run(export(model, (width, height), out, args.screen))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
