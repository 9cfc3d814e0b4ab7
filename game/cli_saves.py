"""Save and replay subcommands (``replay``, ``saves``) and the helpers ``run``/``play`` share for
``--save``, ``--resume``, ``--record`` and ``--saves``. Headless: never imports textual.

Where saves go: ``--saves DIR``, else ``$CRASHFLOOR_SAVES``, else ``saves/`` in the current folder.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

from . import fmt

SAVES_ENV = "CRASHFLOOR_SAVES"
DEFAULT_SAVES = Path("saves")


def register(sub) -> None:
    """Add the save and replay subcommands to the ``crashfloor`` parser."""
    replay = sub.add_parser("replay", help="re-run a replay headless and verify its checksums")
    replay.add_argument("path", help="a .cfreplay file")
    replay.add_argument("--until", metavar="HH:MM", help="stop at this HKT time")
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.set_defaults(handler=cmd_replay)
    saves = sub.add_parser("saves", help="list the saves in the saves folder")
    add_saves_option(saves)
    saves.add_argument("--json", action="store_true", help="print one JSON object")
    saves.add_argument("--verify", action="store_true",
                       help="load every save and re-run its recorded commands: mark the ones "
                       "whose state they do not produce (slow: as long as playing them)")
    saves.set_defaults(handler=cmd_saves)


def add_saves_option(parser) -> None:
    parser.add_argument("--saves", metavar="DIR",
                        help=f"folder for saves and replays (default: ${SAVES_ENV} or saves/)")


def saves_dir(option: str | None = None) -> Path:
    """``--saves``, else ``$CRASHFLOOR_SAVES``, else ``saves/``."""
    if option:
        return Path(option)
    env = os.environ.get(SAVES_ENV)
    return Path(env) if env else DEFAULT_SAVES


def save_path(target: str, run, folder: Path, suffix: str, prefix: str = "") -> Path:
    """``--save PATH``: that file; a folder (or empty: the saves folder) gets a generated name
    that says level, role, sim time and date."""
    from engine.saves import run_name
    if target and not (target.endswith(("/", os.sep)) or Path(target).is_dir()):
        return Path(target)
    base = Path(target) if target else folder
    name = run_name(run, datetime.now(), prefix)
    return base / (name[: -len(".cfsave")] + suffix)


def cmd_replay(args) -> int:
    from engine.clock import parse_hhmm
    from engine.saves.replay import load_replay, verify
    if args.until:
        parse_hhmm(args.until, "--until")
    replay = load_replay(args.path)
    check = verify(replay, args.until)
    run = check.run
    if args.json:
        out = {"replay": str(args.path), "level": replay.level_name, "seed": replay.seed,
               **check.to_json(), "sim_end": run.sim.hhmm, "checksum": run.checksum(),
               "summary": run.summary()}
        print(json.dumps(out))
    else:
        _print_check(args.path, replay, check)
    return 0 if check.ok else 1


def _print_check(path, replay, check) -> None:
    from engine.clock import fmt_hhmm
    from engine.saves import escape_text
    run = check.run
    head = (f"{escape_text(path, None)}: level {escape_text(replay.level_name, 80)}, seed "
            f"{replay.seed}, {len(replay.commands)} player commands; re-ran to {run.sim.hhmm} HKT")
    print(head)
    if check.ok:
        final = " and the final checksum" if check.final_checked else ""
        print(f"ok: {check.minutes_checked} minute checksums{final} match "
              f"(checksum {run.checksum()})")
        return
    clock, expected, got = check.divergence
    print(f"DIVERGED at {fmt_hhmm(clock)} HKT: expected checksum {expected}, got {got} "
          f"({check.minutes_checked} minutes matched before it)", file=sys.stderr)


def cmd_saves(args) -> int:
    """The saves in the folder, newest first, from their headers (the state is not read); a
    save marked modified says so and why. ``--verify`` loads each one and re-runs its
    commands (``engine.saves.load_run(verify=True)``)."""
    from engine.saves import SaveInfo, list_saves
    folder = saves_dir(args.saves)
    rows = list_saves(folder)
    if getattr(args, "verify", False):
        rows = [_verified(r) for r in rows]
    if args.json:
        print(json.dumps([_info_json(r) if isinstance(r, SaveInfo) else
                          {"path": _shown(r[0]), "error": r[1]} for r in rows]))
        return 0
    if not rows:
        print(f"no saves in {_shown(folder)}")
    for r in rows:
        print(save_listing_line(r) if isinstance(r, SaveInfo) else
              f"{_shown(r[0])}  (unreadable: {_text(r[1], 400)})")
    return 0


def save_listing_line(info) -> str:
    """One save as ``crashfloor saves`` lists it; every text from the file escaped."""
    equity = "—" if info.equity_usd is None else _money(info.equity_usd)
    line = (f"{_shown(info.path)}  {_text(info.level, 60)} · {_text(info.role, 20)} · "
            f"{_text(info.clock[:5], 8)} HKT · equity {equity}")
    if info.modified:
        line += f"  [MODIFIED: {_text(info.modified, 200)}]"
    return line


def _verified(row):
    """``row`` after a full load and a re-run of its commands: modified if they disagree, or
    (path, problem) if the save is refused."""
    import dataclasses
    from engine.errors import SaveError
    from engine.saves import SaveInfo, load_run, modified_reason
    if not isinstance(row, SaveInfo):
        return row
    try:
        run = load_run(row.path, verify=True)
    except SaveError as exc:
        return (row.path, str(exc))
    return dataclasses.replace(row, modified=modified_reason(run))


def _text(value, limit: int | None = 200) -> str:
    from engine.saves import escape_text
    return escape_text(value, limit)


def _shown(path) -> str:
    return _text(str(path), None)


def _money(usd) -> str:
    try:
        return fmt.usd(float(usd))
    except (TypeError, ValueError, OverflowError):
        return "—"


def _info_json(info) -> dict:
    return {"path": str(info.path), "level": info.level, "role": info.role, "seed": info.seed,
            "clock": info.clock, "equity_usd": info.equity_usd, "autosave": info.autosave,
            "modified": info.modified is not None, "modified_reason": info.modified}
