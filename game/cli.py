"""The ``crashfloor`` command line. Headless subcommands never import textual.

    crashfloor                      open the trading floor (the Textual app); with no
                                    terminal (piped), run the default crash headless
    crashfloor play [LEVEL] [--role hedger|maker] [--seed N] [--speed X]
    crashfloor run LEVEL [--seed N] [--until HH:MM] [--set key=value ...] [--json]
    crashfloor check LEVEL...
    crashfloor levels
    crashfloor bench [--json] [--quick] [--full-scale] [--no-tui]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.errors import CrashfloorError, LevelError

LEVELS_DIR = Path(__file__).resolve().parent.parent / "levels"
DEFAULT_LEVEL = "1011"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crashfloor", description="The 10–11 October 2025 crypto "
                                "crash: a trading-floor game and a headless crash engine.")
    sub = p.add_subparsers(dest="command")
    play = sub.add_parser("play", help="play a level on the trading floor (the TUI)")
    play.add_argument("level", nargs="?", default=DEFAULT_LEVEL,
                      help="a level name from levels/ or a path (default: 1011)")
    play.add_argument("--role", choices=("hedger", "maker"),
                      help="play as the hedged trader or the market maker (default: the level's)")
    play.add_argument("--seed", type=int, help="random seed (default: the level's)")
    play.add_argument("--speed", type=float, metavar="X",
                      help="simulated seconds per second (default: the level's clock.speed)")
    run = sub.add_parser("run", help="run a level headless")
    run.add_argument("level", nargs="?", default=DEFAULT_LEVEL,
                     help="a level name from levels/ or a path (default: 1011)")
    run.add_argument("--seed", type=int, help="random seed (default: the level's)")
    run.add_argument("--until", metavar="HH:MM", help="stop at this HKT time")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a level field, e.g. crowd.long_share=0.9")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    check = sub.add_parser("check", help="validate level files")
    check.add_argument("levels", nargs="+")
    sub.add_parser("levels", help="list the shipped levels")
    bench = sub.add_parser("bench", help="measure the engine's speed")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    bench.add_argument("--full-scale", action="store_true",
                       help="also run the 1,600,000-account crash (minutes)")
    bench.add_argument("--no-tui", action="store_true",
                       help="skip the floor's redraw-rate and key-latency measurement")
    from game import cli_saves, cli_workshop
    cli_workshop.register(sub)
    cli_saves.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command is None:
            if _interactive():
                return cmd_play(None)
            return cmd_run(_parser().parse_args(["run"]))
        if args.command == "play":
            return cmd_play(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "check":
            return cmd_check(args.levels)
        if args.command == "levels":
            return cmd_levels()
        if args.command == "bench":
            return cmd_bench(args)
        if getattr(args, "handler", None) is not None:
            return args.handler(args)
    except LevelError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except CrashfloorError as exc:
        print(f"crashfloor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crashfloor: interrupted", file=sys.stderr)
        return 130
    return 0


def load(level: str, overrides: list[str] = ()):
    from engine.level import find_level, load_level
    return load_level(find_level(level, LEVELS_DIR), list(overrides))


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_play(args) -> int:
    """The Textual app: the title screen, or straight onto a level's floor (``play``). The only
    path that imports textual."""
    if args is not None:
        overrides = [f"player.role={args.role}"] if args.role else []
        load(args.level, overrides)  # report a bad level or override before the screen opens
        if args.speed is not None and not 0.1 <= args.speed <= 600:
            print(f"crashfloor: --speed must be 0.1 to 600, got {args.speed:g}", file=sys.stderr)
            return 2
    if not _interactive():
        print("crashfloor: the trading floor needs a terminal; for a headless run use "
              "`crashfloor run`", file=sys.stderr)
        return 2
    from game.app import CrashfloorApp
    if args is None:
        app = CrashfloorApp()
    else:
        app = CrashfloorApp(level=args.level, role=args.role, seed=args.seed, speed=args.speed)
    app.run()
    return 0


def cmd_run(args) -> int:
    from engine.crash import CrashRun
    from engine.clock import parse_hhmm
    level = load(args.level, args.overrides)
    if args.until:
        parse_hhmm(args.until, "--until")
    run = CrashRun(level, seed=args.seed)
    if args.json or not sys.stdout.isatty():
        run.run(until=args.until)
    else:
        _run_with_progress(run, args.until)
    summary = run.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        from game.report import print_summary
        print_summary(summary)
    return 0


def _run_with_progress(run, until: str | None) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("{task.fields[clock]} HKT"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(run.level.data["title"], total=1, clock=run.sim.hhmm)

        def tick(t: int, total: int) -> None:
            if t % 30 == 0 or t == total:
                progress.update(task, completed=t / total, clock=run.sim.hhmm)
        run.run(until=until, progress=tick)


def cmd_bench(args) -> int:
    """The engine's figures (engine.bench, textual-free), then the floor's redraw rate and key
    latency at 60x (game.bench_tui, the one bench part that imports textual; ``--no-tui`` skips
    it)."""
    from engine.bench import print_results, run_all
    results = run_all(args.quick, args.full_scale)
    if not args.no_tui:
        from game.bench_tui import measure_floor
        # --quick: 3 s on the level with 2,000 crowd accounts, as engine.bench's quick level run
        results["tui"] = (measure_floor(seconds=3.0, overrides=["crowd.accounts=2000"])
                          if args.quick else measure_floor(seconds=8.0))
    if args.json:
        print(json.dumps(results))
        return 0
    print_results(results)
    if "tui" in results:
        from game.bench_tui import describe
        print(describe(results["tui"]))
    return 0


def cmd_check(paths: list[str]) -> int:
    failed = 0
    for path in paths:
        try:
            level = load(path)
        except LevelError as exc:
            failed += 1
            print("\n".join(exc.problems))
        else:
            print(f"{level.path}: ok — {level.data['title']}")
    return 1 if failed else 0


def cmd_levels() -> int:
    from engine.level import list_levels
    for name, title, summary in list_levels(LEVELS_DIR):
        print(f"{name:<16} {title}\n{'':<16} {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
