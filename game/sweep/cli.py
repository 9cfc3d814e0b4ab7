"""``crashfloor sweep``: the command line of a policy sweep (``game/sweep/runner.py``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.errors import InvalidInput


def register(sub) -> None:
    sw = sub.add_parser("sweep", help="run a level under rule variants over many seeds into a "
                        "folder of rows (resumable), with a summary and a report")
    sw.add_argument("level", help="a level name from levels/ or a path")
    sw.add_argument("--variant", dest="variants", action="append", default=[],
                    metavar="NAME[:KEY=VALUE,...]",
                    help="a variant, as for compare; repeat for more (the baseline is always "
                         "included)")
    sw.add_argument("--seeds", default="1-20", help="seeds, e.g. 1-1000 (default 1-20)")
    sw.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="an override for every variant (the baseline too)")
    sw.add_argument("--out", required=True, type=Path,
                    help="the sweep's folder: rows are added to it, finished runs are not "
                         "run again")
    sw.add_argument("--workers", type=int, help="processes (default: one per core)")
    sw.add_argument("--cluster", metavar="local|ADDRESS",
                    help="run on Dask: 'local' starts a LocalCluster, an address joins a "
                         "scheduler (pip install -e '.[cluster]')")
    sw.add_argument("--no-needed", dest="needed", action="store_false",
                    help="skip the no-ADL pass per seed (no needed budget, no overshoot)")
    sw.add_argument("--report", type=Path, metavar="FILE.html",
                    help="write the report: one self-contained HTML file")
    sw.add_argument("--csv", type=Path, metavar="FILE", help="write every row as CSV")
    sw.add_argument("--json", type=Path, metavar="FILE", help="write the summary as JSON")
    sw.set_defaults(handler=cmd_sweep)

    rep = sub.add_parser("sweep-report", help="summarise a sweep folder's rows (no runs): the "
                         "table, and --report/--csv/--json")
    rep.add_argument("out", type=Path, help="the sweep's folder")
    rep.add_argument("--report", type=Path, metavar="FILE.html")
    rep.add_argument("--csv", type=Path, metavar="FILE")
    rep.add_argument("--json", type=Path, metavar="FILE")
    rep.set_defaults(handler=cmd_sweep_report)


def cmd_sweep_report(args) -> int:
    from .store import SweepStore
    from .summary import summarize
    store = SweepStore(args.out)
    manifest = store.manifest()
    if manifest is None:
        raise InvalidInput(f"{args.out}: no sweep here (no manifest.json)")
    rows = store.rows()
    if not rows:
        raise InvalidInput(f"{args.out}: the sweep has no finished runs yet")
    summary = summarize(rows)
    print_summary(summary, f"{len(rows)} runs in {args.out} (engine build "
                           f"{manifest['engine_build']})")
    _outputs(args, summary, rows, f"crashfloor sweep-report {args.out}")
    return 0


def _outputs(args, summary: dict, rows: list[dict], command: str) -> None:
    if args.report:
        from .report import html_report
        _write(args.report, html_report(summary, command))
    if args.csv:
        _write(args.csv, rows_csv(rows))
    if args.json:
        _write(args.json, json.dumps(summary, indent=1))


def cmd_sweep(args) -> int:
    from engine.compare import Variant, parse_seeds
    from engine.level import find_level
    from game.cli import LEVELS_DIR

    from .runner import sweep
    from .store import SweepStore
    from .summary import summarize
    path = find_level(args.level, LEVELS_DIR)
    variants = [Variant.parse(text) for text in args.variants]
    seeds = parse_seeds(args.seeds)
    if args.out.exists() and not args.out.is_dir():
        raise InvalidInput(f"--out {args.out}: not a folder")
    if sys.stderr.isatty():
        result = _with_progress(path, variants, seeds, args)
    else:  # a log file (nohup, a batch job): a plain line a minute
        result = sweep(path, variants, seeds, args.out, sets=args.overrides,
                       workers=args.workers, cluster=args.cluster, needed=args.needed,
                       progress=plain_progress(sys.stderr))
    asked = {v.name for v in result.variants}
    rows = [r for r in SweepStore(args.out).rows()
            if r["variant"] in asked and r["seed"] in set(seeds)]
    summary = summarize(rows)
    note = (f"{result.ran} runs in {result.seconds:.0f} s ({result.runs_per_second:.2f} runs/s), "
            f"{result.skipped} already in {args.out}")
    if result.interrupted:
        print(f"crashfloor: stopped; {len(rows)} finished runs are kept in {args.out}: the same "
              f"command goes on from there", file=sys.stderr)
    print_summary(summary, note)
    _outputs(args, summary, rows, "crashfloor " + " ".join(sys.argv[1:]))
    return 130 if result.interrupted else 0


def plain_progress(stream, every: float = 60.0, clock=time.monotonic):
    """A ``progress(done, total)`` that writes a line to ``stream`` after the first run, then at
    most every ``every`` seconds, and after the last: runs done, runs a second, time left."""
    start = clock()
    last = [None]

    def progress(done: int, total: int) -> None:
        now = clock()
        if done < total and last[0] is not None and now - last[0] < every:
            return
        last[0] = now
        rate = done / (now - start) if now > start else 0.0
        left = f", about {_duration((total - done) / rate)} left" if rate and done < total \
            else ""
        print(f"crashfloor sweep: {done:,}/{total:,} runs ({100 * done / total:.1f}%), "
              f"{rate:.3f} runs/s{left}", file=stream, flush=True)
    return progress


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 1)} min"


def _with_progress(path, variants, seeds, args):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    from .runner import sweep
    with Progress(TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                  TextColumn("left"), TimeRemainingColumn(), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task("runs", total=None, rate="")

        def progress(done: int, total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0
            bar.update(task, completed=done, total=total,
                       rate=f"{done / elapsed:.2f} runs/s" if elapsed else "")
        return sweep(path, variants, seeds, args.out, sets=args.overrides,
                     workers=args.workers, cluster=args.cluster, needed=args.needed,
                     progress=progress)


def print_summary(summary: dict, note: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from .summary import KEY_METRICS, fmt
    console = Console(width=max(100, Console().width))
    table = Table(title=f"{summary.get('level', '')}: mean (p5–p95) over {summary['seeds']} "
                        f"seeds; {note}", title_justify="left")
    table.add_column("metric")
    for v in summary["variants"]:
        table.add_column(v, justify="right")
    for key, label in KEY_METRICS:
        cells = []
        for v in summary["variants"]:
            d = summary["metrics"][key][v]["dist"]
            cells.append("—" if not d.get("n") else
                         f"{fmt(key, d['mean'])}\n({fmt(key, d['p5'])}–{fmt(key, d['p95'])})")
        table.add_row(label, *cells)
    console.print(table)


def rows_csv(rows: list[dict]) -> str:
    import csv
    import io

    from .rows import COLUMNS
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([name for name, _ in COLUMNS])
    for r in rows:
        writer.writerow(["" if r[name] is None else r[name] for name, _ in COLUMNS])
    return buf.getvalue()


def _write(path: Path, text: str) -> None:
    import os
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
