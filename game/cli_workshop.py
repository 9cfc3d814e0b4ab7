"""Workshop subcommands: ``compare`` (the same crash under different rules), ``new-level`` (a
commented starting file) and ``results`` (a leaderboard from finished sessions)."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

from engine.errors import InvalidInput
from engine.level import SHIPPED_LEVELS_DIR

LEVELS_DIR = SHIPPED_LEVELS_DIR
"""The shipped levels (one definition: ``engine.level.SHIPPED_LEVELS_DIR``)."""


def register(sub) -> None:
    """Add the workshop subcommands to the ``crashfloor`` parser."""
    cmp = sub.add_parser("compare", help="run a level under rule variants across seeds and "
                         "print the outcomes side by side")
    cmp.add_argument("level", help="a level name from levels/ or a path")
    cmp.add_argument("--variant", dest="variants", action="append", default=[],
                     metavar="NAME[:KEY=VALUE,...]",
                     help="a variant: overrides in --set syntax, or the name of one of the "
                     "level's [[variants]]; repeat for more (the baseline is always included)")
    cmp.add_argument("--seeds", default="1-5", help="seeds, e.g. 1-20 or 1,3,7 (default 1-5)")
    cmp.add_argument("--workers", type=int, help="processes (default: one per core)")
    out = cmp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", action="store_true", help="print CSV: one row per metric")
    cmp.set_defaults(handler=cmd_compare)

    new = sub.add_parser("new-level", help="write a commented starting level file")
    new.add_argument("name", help="the level's name (file levels/NAME.toml)")
    new.add_argument("--dir", type=Path, default=LEVELS_DIR,
                     help="folder to write into (default: levels/)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(handler=cmd_new_level)

    res = sub.add_parser("results", help="a leaderboard from finished sessions (run --json "
                         "output files, saves or replays)")
    res.add_argument("paths", nargs="+", type=Path, help="files, or folders to search")
    res.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    res.set_defaults(handler=cmd_results)


# --- compare ----------------------------------------------------------------------------------
def cmd_compare(args) -> int:
    from engine.compare import Variant, parse_seeds
    from game.cli import LEVELS_DIR as levels
    from engine.level import find_level
    path = find_level(args.level, levels)
    variants = [Variant.parse(text) for text in args.variants]
    seeds = parse_seeds(args.seeds)
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise InvalidInput(f"--workers must be 1..64, got {args.workers}")
    quiet = args.json or args.csv or not sys.stderr.isatty()
    table = _small_sweep(path, variants, seeds, args.workers, None if quiet else _bar(
        (len(variants) + 1) * len(seeds)))
    if args.json:
        print(json.dumps(table.to_json()))
    elif args.csv:
        sys.stdout.write(compare_csv(table))
    else:
        print_compare(table)
    return 0


def _small_sweep(path, variants, seeds, workers, bar):
    """compare is a small sweep: the same runner (``game.sweep``), no folder, no no-ADL pass;
    the table of ``engine.compare``."""
    from engine.compare import table_of
    from game.sweep import sweep
    from game.sweep.rows import metrics_of_row
    if bar is None:
        result = sweep(path, variants, seeds, None, workers=workers, needed=False)
    else:
        with bar as (progress, update):
            result = sweep(path, variants, seeds, None, workers=workers, needed=False,
                           progress=update)
    if result.interrupted:
        raise KeyboardInterrupt
    results = {(r["variant"], r["seed"]): metrics_of_row(r) for r in result.rows}
    return table_of(str(path), result.variants, seeds, results)


class _bar:
    """A rich progress bar on stderr for ``total`` runs (a context manager giving the bar and
    its update function)."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)
        self.progress = Progress(TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True),
                                 transient=True)
        self.progress.__enter__()
        task = self.progress.add_task("runs", total=self.total)
        return self.progress, lambda done, total: self.progress.update(task, completed=done)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _fmt(key: str, value: float) -> str:
    if key.endswith("_usd"):
        return f"{value / 1e6:,.2f}M" if abs(value) >= 1e5 else f"{value:,.0f}"
    if key.endswith("_pct"):
        return f"{value:.1f}"
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def compare_rows(table) -> list[list[str]]:
    """Header and one row per metric: 'mean ± sd' per variant."""
    head = ["metric"] + [v.name for v in table.variants]
    rows = [head]
    for key, label in table.metrics:
        row = [label + (" (USD)" if key.endswith("_usd") else "")]
        for v in table.variants:
            st = table.rows[v.name][key]
            row.append(_fmt(key, st.mean) + (f" ± {_fmt(key, st.sd)}" if len(st.values) > 1
                                             else ""))
        rows.append(row)
    return rows


def print_compare(table) -> None:
    from rich.console import Console
    from rich.table import Table
    rows = compare_rows(table)
    seeds = table.seeds
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else \
        f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]})" if seeds == list(
            range(seeds[0], seeds[-1] + 1)) else f"seeds {', '.join(map(str, seeds))}"
    out = Table(title=f"{table.level}: mean ± sd over {seed_text}", title_justify="left")
    for k, name in enumerate(rows[0]):
        out.add_column(name, justify="left" if k == 0 else "right")
    for row in rows[1:]:
        out.add_row(*row)
    console = Console()
    console.print(out)
    for v in table.variants[1:]:
        console.print(f"  {v.name}: {', '.join(v.overrides) or '(the level as it is)'}")


def compare_csv(table) -> str:
    """One row per (variant, metric): mean, sd, min, max and each seed's value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", "metric", "mean", "sd", "min", "max"]
               + [f"seed_{s}" for s in table.seeds])
    for v in table.variants:
        for key, _ in table.metrics:
            st = table.rows[v.name][key]
            w.writerow([v.name, key, round(st.mean, 4), round(st.sd, 4), st.low, st.high,
                        *st.values])
    return buf.getvalue()


# --- new-level ----------------------------------------------------------------------------------
def cmd_new_level(args) -> int:
    from engine.level import new_level_text
    name = args.name
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise InvalidInput(f"new-level {name!r}: give a plain name (letters, digits, '-', '_'), "
                           f"not a path; use --dir to choose the folder")
    target = Path(args.dir) / f"{name.removesuffix('.toml')}.toml"
    if target.exists() and not args.force:
        raise InvalidInput(f"{target} already exists; pick another name or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(new_level_text(target.stem), encoding="utf-8")
    print(f"wrote {target}; edit it, then: crashfloor check {target}")
    return 0


# --- results ------------------------------------------------------------------------------------
MAX_JSON_BYTES = 16 * 2**20


def _session_files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        try:
            if p.is_dir():
                found = []
                for f in p.rglob("*"):
                    if f.suffix in (".json", ".cfsave", ".cfreplay") and \
                            not f.name.startswith("."):
                        found.append(f)
                out += sorted(found)
            else:
                out.append(p)
        except OSError:
            out.append(p)  # its problem is reported with the file
    return out


def session_summary(path: Path) -> dict:
    """A finished session's summary (the ``run --json`` object) from a JSON file, a save or a
    replay. A save is re-run from its recorded commands (``load_run(verify=True)``): when its
    state is not what they produce, the summary says so (``modified``/``modified_reason``) and
    the session is not ranked."""
    from engine.errors import SaveError
    from engine.saves import escape_text, modified_reason, read_regular
    label = escape_text(str(path), None)
    if path.suffix == ".json":
        try:
            data = json.loads(read_regular(path, MAX_JSON_BYTES, "run --json",
                                           MAX_JSON_BYTES).decode("utf-8"))
        except SaveError as exc:
            raise InvalidInput(str(exc)) from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidInput(f"{label}: not a run --json file "
                               f"({escape_text(exc, 120)})") from None
        if not isinstance(data, dict) or "objectives" not in data or "level" not in data:
            raise InvalidInput(f"{label}: not a run --json file (no 'level'/'objectives' keys)")
        return data
    from engine.saves.replay import load_replay, verify
    from engine.saves import load_run
    try:
        if path.suffix == ".cfreplay":  # re-run the recorded commands, checked minute by minute
            check = verify(load_replay(path))
            if not check.ok:
                at = check.divergence[0]
                raise InvalidInput(f"{label}: the replay diverges at {at // 3600:02d}:"
                                   f"{at // 60 % 60:02d}; its results cannot be trusted")
            return check.run.summary()
        run = load_run(path, verify=True)  # a save: the session as far as it went
        summary = run.summary()
        reason = modified_reason(run)
        if reason is not None:
            summary = dict(summary, modified=True, modified_reason=reason)
        return summary
    except SaveError as exc:
        raise InvalidInput(str(exc)) from None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _cell(value, limit: int = 60) -> str:
    from engine.saves import escape_text
    return escape_text("" if value is None else value, limit)


def _row(path: Path, s: dict) -> dict:
    """One session's leaderboard row: its cells (CSV and table) and how it sorts."""
    o = s.get("objectives") if isinstance(s.get("objectives"), dict) else {}
    p = s.get("player") if isinstance(s.get("player"), dict) else {}
    score = _number(o.get("score"))
    stars = o.get("stars")
    stars = min(stars, 10) if type(stars) is int and stars > 0 else 0
    equity = _number(p.get("equity_end"))
    modified = ""
    if s.get("modified"):
        modified = _cell(s.get("modified_reason") or "modified", 120)
    finished = s.get("finished", True) is not False  # a run --json older than the field: whole
    rules = s.get("rules") if isinstance(s.get("rules"), list) else []
    rules_text = _cell(", ".join(str(r) for r in rules), 200)
    hits = p.get("adl_hits")
    return {"session": _cell(path.stem), "level": _cell(s.get("level")),
            "seed": _cell(s.get("seed", "")), "role": _cell(p.get("role", "—"), 20),
            "score": score, "stars": stars, "equity": equity,
            "survived": {True: "yes", False: "no"}.get(p.get("survived"), "—"),
            "adl_hits": hits if type(hits) is int else None,
            "sim_end": _cell(s.get("sim_end", ""), 20),
            "lesson": "" if o.get("lesson_showed") is None else
            ("yes" if o["lesson_showed"] else "no"),
            "finished": finished, "rules": rules_text, "modified": modified}


def _csv_cells(r: dict) -> list:
    """Numbers as numbers (a spreadsheet sums them), the rest as text."""
    score = r["score"]
    return [r["session"], r["level"], r["seed"], r["role"],
            "" if score is None else (int(score) if score == int(score) else score), r["stars"],
            "" if r["equity"] is None else round(r["equity"], 2), r["survived"],
            "" if r["adl_hits"] is None else r["adl_hits"], r["sim_end"], r["lesson"],
            "yes" if r["finished"] else "no", r["rules"], r["modified"]]


def _table_cells(r: dict) -> list[str]:
    score = r["score"]
    return [r["session"], r["level"], r["seed"], r["role"],
            "" if score is None else (str(int(score)) if score == int(score) else f"{score:g}"),
            "★" * r["stars"] or "—", "" if r["equity"] is None else f"{r['equity']:,.0f}",
            r["survived"], "—" if r["adl_hits"] is None else str(r["adl_hits"]), r["sim_end"],
            r["lesson"], "" if r["finished"] else "unfinished", r["rules"], r["modified"]]


_KINDS = {".cfsave": 0, ".cfreplay": 1, ".json": 2}
"""Which file speaks for a session that left several (a save and its replay share a name)."""


def _one_per_session(files: list[Path]) -> list[Path]:
    """A save and the replay written beside it are one session: keep the save (it knows how
    far the session went and whether it was modified), else the replay."""
    chosen: dict[Path, Path] = {}
    for path in files:
        key = path.with_suffix("") if path.suffix in (".cfsave", ".cfreplay") else path
        best = chosen.get(key)
        if best is None or _KINDS.get(path.suffix, 3) < _KINDS.get(best.suffix, 3):
            chosen[key] = path
    return [p for p in files if p in chosen.values()]


def results_rows(files: list[Path]) -> tuple[list[dict], list[str]]:
    """Leaderboard rows, one per session, grouped by level and rules; in each group the
    finished sessions by score then equity (best first), then the unfinished ones, then the
    modified ones (never ranked); and the problems with files that could not be read (one bad
    file is skipped with its reason, the others still listed)."""
    from engine.saves import escape_text
    rows, problems = [], []
    for path in _one_per_session(files):
        try:
            s = session_summary(path)
            if not isinstance(s, dict):
                raise InvalidInput(f"{escape_text(str(path), None)}: not a session summary")
            rows.append(_row(path, s))
        except (InvalidInput, OSError) as exc:
            problems.append(escape_text(exc, 600))
        except Exception as exc:  # noqa: BLE001 - one hostile file never stops the others
            problems.append(f"{escape_text(str(path), None)}: cannot be read "
                            f"({type(exc).__name__}: {escape_text(exc, 120)})")
    rows.sort(key=lambda r: (r["level"], r["rules"], bool(r["modified"]), not r["finished"],
                             -(r["score"] if r["score"] is not None else -1),
                             -(r["equity"] if r["equity"] is not None else -1e30),
                             r["session"]))
    return rows, problems


RESULT_HEAD = ["session", "level", "seed", "role", "score", "stars", "equity_end_usd",
               "survived", "adl_hits", "sim_end", "lesson_showed", "finished", "rules",
               "modified"]


def cmd_results(args) -> int:
    """A leaderboard of finished sessions; a session marked modified is listed after the others
    with its reason and no rank."""
    files = _session_files(args.paths)
    if not files:
        from engine.saves import escape_text
        raise InvalidInput(f"no session files in {escape_text(', '.join(map(str, args.paths)))} "
                           f"(looked for *.json from run --json, saves and replays)")
    rows, problems = results_rows(files)
    for problem in problems:
        print(f"crashfloor: skipped {problem}", file=sys.stderr)
    if args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(RESULT_HEAD)
        w.writerows(_csv_cells(r) for r in rows)
        return 0 if rows else 2
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    out = Table(title="Leaderboard (ranked within each level and set of rules)",
                title_justify="left")
    out.add_column("#", justify="right")
    short = ["session", "level", "seed", "role", "score", "stars", "equity $", "survived",
             "ADL'd", "at", "lesson", "finished", "rules", "modified"]
    for k, name in enumerate(short):
        out.add_column(name, justify="right" if k in (2, 4, 6, 8) else "left", no_wrap=k < 2)
    rank, group = 0, None
    for r in rows:
        if (r["level"], r["rules"]) != group:
            group, rank = (r["level"], r["rules"]), 0
        if r["modified"]:
            number = "—"
        else:
            rank += 1
            number = str(rank)
        out.add_row(number, *(Text(cell) for cell in _table_cells(r)))  # text, never markup
    Console(width=None if sys.stdout.isatty() else 160).print(out)
    return 0 if rows else 2
