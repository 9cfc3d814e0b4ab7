"""Loading a level: a file (with its base and ``--set`` overrides) or a saved raw table."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from pathlib import Path

from .inheritance import _base_roots, _with_base
from .model import Level
from .overrides import _apply_override, _override_problem_text, _parse_override
from .problems import _error
from .reading import _decode, _file_problem_lines, _parse_toml, _read_bytes, shape_problem
from .tomlpos import KeyLines
from .validation import validate


# --- loading ----------------------------------------------------------------------------------
def load_level(path: str | Path, overrides: Sequence[str] = (), *,
               allow_outside_base: bool = False) -> Level:
    """Read, validate and return a level; raise ``LevelError`` listing every problem found.

    ``overrides`` are ``"dotted.path=value"`` strings (the CLI's ``--set``); the value is read
    as a TOML value when it parses as one, else as a bare string. A ``base`` must be a level in
    the shipped levels folder or in this file's folder (or below them), symlinks resolved, unless
    ``allow_outside_base`` (the CLI's ``--allow-outside-base``).
    """
    path = Path(path)
    label = str(path)
    content = _read_bytes(path, label)
    text = _decode(content, label)
    raw = _parse_toml(text, label)
    lines = KeyLines(text, raw)
    digest = hashlib.sha256(content)
    if "base" in raw:
        roots = None if allow_outside_base else _base_roots(path)
        raw = _with_base(raw, path, label, digest, [path.resolve()], roots)
    data, problems = validate(raw)
    merged, parsed, bad_overrides = copy.deepcopy(raw), [], []
    for item in overrides:  # in order: a later --set may index into what an earlier one set
        override = _parse_override(item, merged)
        if isinstance(override, str):
            bad_overrides.append(override)
        else:
            parsed.append(override)
            _apply_override(merged, override)
    if problems or bad_overrides:
        raise _error(_file_problem_lines(problems, label, lines) + bad_overrides)
    if parsed:
        data, problems = validate(merged)
        if problems:
            raise _error([_override_problem_text(p, parsed, label, lines) for p in problems])
    return Level(path, data, digest.hexdigest(), list(overrides), merged)


def level_from_raw(raw: dict, path: str | Path, sha256: str = "") -> Level:
    """A level from its raw TOML dict (``Level.raw``), as saved inside a save file. The dict is
    checked like a parsed file (a table of string keys, nested at most ``MAX_NESTING`` deep)
    before anything walks it recursively."""
    label = str(path)
    problem = "the level is not a table" if not isinstance(raw, dict) else shape_problem(raw)
    if problem is not None:  # before deepcopy, which recurses
        raise _error([f"{label}: {problem}"])
    data, problems = validate(copy.deepcopy(raw))
    if problems:
        raise _error([f"{label}: {p.subject()} — {p.message}" for p in problems])
    return Level(Path(path), data, sha256, [], copy.deepcopy(raw))


def with_overrides(level: Level, overrides: Sequence[str]) -> Level:
    """``level`` with more ``--set`` overrides applied to what it was built from (``Level.raw``),
    validated like a file's: how a counterfactual changes one switch of a level in play."""
    merged, problems = copy.deepcopy(level.raw), []
    for item in overrides:
        override = _parse_override(item, merged)
        if isinstance(override, str):
            problems.append(override)
        else:
            _apply_override(merged, override)
    if problems:
        raise _error(problems)
    data, found = validate(merged)
    if found:
        raise _error([f"{level.path}: {p.subject()} — {p.message}" for p in found])
    return Level(level.path, data, level.sha256, [*level.overrides, *overrides], merged)
