"""The ``crashfloor`` command line. Headless subcommands never import textual.

    crashfloor                      open the trading floor (the Textual app); with no
                                    terminal (piped), run the default crash headless
    crashfloor play [LEVEL] [--role hedger|maker] [--seed N] [--speed X] [--variant NAME]
                    [--set key=value ...] [--saves DIR]
    crashfloor play --resume SAVE | --replay REPLAY
    crashfloor run LEVEL [--seed N] [--until HH:MM] [--variant NAME] [--set key=value ...] [--json]
                         [--save [PATH]] [--record PATH] [--saves DIR] [--allow-outside-base]
    crashfloor run --resume SAVE [--until HH:MM] [--json] [--save [PATH]]
    crashfloor replay REPLAY [--until HH:MM] [--json]
    crashfloor saves [--saves DIR] [--json]
    crashfloor check LEVEL... [--allow-outside-base]
    crashfloor levels
    crashfloor bench [--json] [--quick] [--full-scale] [--no-tui]

Every argument is checked before anything starts (a seed 0..4294967295, a speed, an --until
time, compare's --seeds counted without being listed), and every message that quotes a file or
an argument has its control characters escaped.
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.errors import CrashfloorError, InvalidInput, LevelError
from engine.level import SHIPPED_LEVELS_DIR
from engine.text import escape_text, shorten

LEVELS_DIR = SHIPPED_LEVELS_DIR
"""The shipped levels (one definition: ``engine.level.SHIPPED_LEVELS_DIR``)."""
DEFAULT_LEVEL = "1011"
MAX_SEED = 2**32 - 1
"""Seeds are 0 to 4294967295 (the engine's generator takes 32 bits)."""
SPEED_RANGE = (0.1, 600.0)
"""``play --speed``: simulated seconds per wall second."""
_OUTSIDE_BASE_HELP = ("let a level's base be a file outside the levels folders (the shipped "
                      "levels/ and the level file's own folder)")


def _parser() -> argparse.ArgumentParser:
    from game import cli_saves, cli_workshop
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
    play.add_argument("--set", dest="overrides", action="append", default=[],
                      metavar="KEY=VALUE", help="override a level field, e.g. "
                      "exchange.fund_multiplier=20 (shown on the floor and in the debrief)")
    play.add_argument("--variant", metavar="NAME",
                      help="play one of the level's [[variants]] (before any --set)")
    play.add_argument("--resume", metavar="SAVE", help="continue a saved game")
    play.add_argument("--replay", metavar="REPLAY", help="watch a replay on the floor")
    cli_saves.add_saves_option(play)
    run = sub.add_parser("run", help="run a level headless")
    run.add_argument("level", nargs="?", default=None,
                     help="a level name from levels/ or a path (default: 1011)")
    run.add_argument("--seed", type=int, help="random seed (default: the level's)")
    run.add_argument("--until", metavar="HH:MM", help="stop at this HKT time")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a level field, e.g. crowd.long_share=0.9")
    run.add_argument("--variant", metavar="NAME",
                     help="apply one of the level's [[variants]] (before any --set)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--save", nargs="?", const="", metavar="PATH",
                     help="save the run where it stops (a file, or a folder: a generated name)")
    run.add_argument("--resume", metavar="SAVE", help="continue a save to the end (or --until)")
    run.add_argument("--record", metavar="PATH",
                     help="also write a replay (commands and per-minute checksums)")
    run.add_argument("--adl-needed", action="store_true",
                     help="also run the no-ADL pass (twice the time) so that adl.research has "
                          "the budget ADL needed and its overshoot")
    run.add_argument("--allow-outside-base", action="store_true", help=_OUTSIDE_BASE_HELP)
    cli_saves.add_saves_option(run)
    check = sub.add_parser("check", help="validate level files")
    check.add_argument("levels", nargs="+")
    check.add_argument("--allow-outside-base", action="store_true", help=_OUTSIDE_BASE_HELP)
    sub.add_parser("levels", help="list the shipped levels")
    bench = sub.add_parser("bench", help="measure the engine's speed")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    bench.add_argument("--full-scale", action="store_true",
                       help="also run the 1,600,000-account crash (minutes)")
    bench.add_argument("--no-tui", action="store_true",
                       help="skip the floor's redraw-rate and key-latency measurement")
    cli_workshop.register(sub)
    cli_saves.register(sub)
    from game.sweep import cli as cli_sweep
    cli_sweep.register(sub)
    from game.room import cli as cli_room
    cli_room.register(sub)
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
            return cmd_check(args.levels, args.allow_outside_base)
        if args.command == "levels":
            return cmd_levels()
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "compare":
            check_compare_args(args)
        if getattr(args, "handler", None) is not None:
            return args.handler(args)
    except LevelError as exc:
        print("\n".join(escape_text(line) for line in exc.problems), file=sys.stderr)
        return 2
    except CrashfloorError as exc:
        print(f"crashfloor: {escape_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crashfloor: interrupted", file=sys.stderr)
        return 130
    return 0


def load(level: str, overrides: list[str] = (), allow_outside_base: bool = False):
    from engine.level import find_level, load_level
    return load_level(find_level(level, LEVELS_DIR), list(overrides),
                      allow_outside_base=allow_outside_base)


def check_seed(seed: int | None, option: str = "--seed") -> None:
    """A seed the engine takes (0 to 4294967295), or ``InvalidInput`` naming the option."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"{option} must be a whole number from 0 to {MAX_SEED}, got "
                           f"{shorten(str(seed), 40)}")


def check_speed(speed: float | None) -> None:
    """``play --speed``: 0.1 to 600 simulated seconds per second (NaN and infinity refused)."""
    low, high = SPEED_RANGE
    if speed is not None and not low <= speed <= high:
        raise InvalidInput(f"--speed must be 0.1 to 600 (simulated seconds per second), got "
                           f"{speed:g}")


def check_until(until: str | None) -> None:
    """``--until HH:MM[:SS]``, hours 0–47, or ``InvalidInput`` quoting the value."""
    if until is not None:
        from engine.clock import parse_hhmm
        if not isinstance(until, str) or len(until) > 16:
            raise InvalidInput(f"--until must be 'HH:MM' or 'HH:MM:SS', got "
                               f"{shorten(repr(until), 40)}")
        parse_hhmm(until, "--until")


def check_compare_args(args) -> None:
    """``compare``'s arguments, before any level is loaded or any run starts."""
    from engine.compare import count_seeds
    count_seeds(args.seeds)
    for text in args.variants:
        if not isinstance(text, str) or len(text) > 10_000:
            raise InvalidInput("--variant: at most 10,000 characters")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_play(args) -> int:
    """The Textual app: the title screen, or straight onto a level's floor (``play``). The only
    path that imports textual."""
    from game.cli_saves import saves_dir
    prepared = None
    if args is not None:
        check_seed(args.seed)  # every argument is checked before the app starts, as for run
        check_speed(args.speed)
        prepared = _prepared_floor(args)  # a bad level, save or replay is reported right here
        overrides = [] if prepared else _play_overrides(args)
    if not _interactive():
        print("crashfloor: the trading floor needs a terminal; for a headless run use "
              "`crashfloor run`", file=sys.stderr)
        return 2
    from game.app import CrashfloorApp
    if args is None:
        app = CrashfloorApp(saves_dir=saves_dir())
    else:
        app = CrashfloorApp(level=None if prepared else args.level, role=args.role,
                            seed=args.seed, speed=args.speed, saves_dir=saves_dir(args.saves),
                            resumed=prepared and prepared[0], replay=prepared and prepared[1],
                            overrides=overrides)
    app.run()
    return 0


def _play_overrides(args) -> list[str]:
    """``play --variant NAME --set k=v``: the level's variant, then the sets, checked here (a
    bad one is reported before the app starts)."""
    overrides = variant_overrides(args.level, args.variant) + list(args.overrides)
    if overrides:
        load(args.level, overrides)
    return overrides


def _prepared_floor(args):
    """(resumed run, replay) for ``play --resume`` / ``--replay``; None for a new game."""
    from engine.errors import InvalidInput
    if args.resume and args.replay:
        raise InvalidInput("give --resume or --replay, not both")
    if args.resume or args.replay:
        if args.role or args.seed is not None or args.level != DEFAULT_LEVEL \
                or args.overrides or args.variant:
            raise InvalidInput("--resume and --replay bring their own level, role, seed and "
                               "rules; give no LEVEL, --role, --seed, --variant or --set with "
                               "them")
        if args.resume:
            from engine.saves import load_run
            return load_run(args.resume), None
        from engine.saves.replay import load_replay
        replay = load_replay(args.replay)
        return replay.build(), replay
    overrides = [f"player.role={args.role}"] if args.role else []
    load(args.level, overrides)
    return None


def cmd_run(args) -> int:
    check_until(args.until)
    check_seed(args.seed)
    run = _run_to_start(args)
    if getattr(args, "record", None):
        run.sim.record_checksums()
    if args.json or not sys.stdout.isatty():
        run.run(until=args.until)
    else:
        _run_with_progress(run, args.until)
    _write_outputs(args, run)
    if getattr(args, "adl_needed", False):
        from engine.adl_research import measure_needed
        measure_needed(run)
    summary = run.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        from game.report import print_summary
        print_summary(summary)
    return 0


def _run_to_start(args):
    """A new run of LEVEL, or the run a ``--resume`` save holds."""
    resume = getattr(args, "resume", None)
    if resume:
        from engine.errors import InvalidInput
        from engine.saves import load_run
        if args.level is not None or args.seed is not None or args.overrides or args.variant:
            raise InvalidInput("--resume continues a save with its own level and seed; give no "
                               "LEVEL, --seed, --variant or --set with it")
        return load_run(resume)
    from engine.crash import CrashRun
    name = args.level or DEFAULT_LEVEL
    outside = getattr(args, "allow_outside_base", False)
    overrides = variant_overrides(name, args.variant, outside) + list(args.overrides)
    return CrashRun(load(name, overrides, outside), seed=args.seed)


def variant_overrides(level: str, variant: str | None,
                      allow_outside_base: bool = False) -> list[str]:
    """The ``--set`` overrides of the level's ``[[variants]]`` entry named ``variant``."""
    if not variant:
        return []
    return load(level, (), allow_outside_base).variant_overrides(variant)


def _write_outputs(args, run) -> None:
    """``--save`` and ``--record``: where they went is said on stderr (stdout stays the JSON)."""
    from game.cli_saves import save_path, saves_dir
    folder = saves_dir(getattr(args, "saves", None))
    if getattr(args, "save", None) is not None:
        from engine.saves import SUFFIX, save_run
        path = save_run(run, save_path(args.save, run, folder, SUFFIX))
        print(f"crashfloor: saved {run.level.name} at {run.sim.hhmm} HKT to {path}",
              file=sys.stderr)
    if getattr(args, "record", None):
        from engine.saves.replay import SUFFIX as REPLAY_SUFFIX, save_replay
        path = save_replay(run, save_path(args.record, run, folder, REPLAY_SUFFIX))
        print(f"crashfloor: replay written to {path}", file=sys.stderr)


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


def cmd_check(paths: list[str], allow_outside_base: bool = False) -> int:
    """Every problem of every file, one line each (control characters escaped: a file's text
    never reaches the terminal raw); exit 1 when any file has a problem."""
    failed = 0
    for path in paths:
        try:
            level = load(path, (), allow_outside_base)
        except LevelError as exc:
            failed += 1
            print("\n".join(escape_text(line) for line in exc.problems))
        else:
            print(escape_text(f"{level.path}: ok — {level.data['title']}"))
    return 1 if failed else 0


def cmd_levels() -> int:
    from engine.level import list_levels
    for name, title, summary in list_levels(LEVELS_DIR):
        print(f"{escape_text(name):<16} {escape_text(title)}\n{'':<16} {escape_text(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
