"""Levels built on other levels (``base = "1011"``): where a base may come from (containment),
loops and depth, and merging the base's tables under the file's."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from ..text import escape_text
from .discovery import SHIPPED_LEVELS_DIR, _exists, level_names
from .problems import _SHOWN_CHARS, _error, _suggest, toml_value
from .reading import _decode, _file_problem_lines, _parse_toml, _read_bytes
from .tomlpos import KeyLines
from .validation import validate


MAX_BASE_DEPTH = 4


def _base_roots(path: Path) -> tuple[Path, ...]:
    """The folders a base may come from: the shipped levels and the level file's own folder."""
    return tuple(dict.fromkeys([SHIPPED_LEVELS_DIR.resolve(), path.parent.resolve()]))


def _with_base(raw: dict, path: Path, label: str, digest, chain: list[Path],
               roots: tuple[Path, ...] | None) -> dict:
    """``raw`` laid over its base level's raw TOML (recursively); the base's bytes go into
    ``digest``. Problems with the base itself are reported against the base file. With
    ``roots``, the base (symlinks resolved) must lie inside one of those folders."""
    name = raw["base"]
    if not isinstance(name, str):
        raise _error([f"{label}: base = {toml_value(name)} — must be a level name or a path "
                      f"(a string)"])
    shown = toml_value(name, _SHOWN_CHARS)
    if not name.strip() or escape_text(name) != name:
        raise _error([f"{label}: base = {shown} — must be a level name or a relative path to "
                      f"a .toml file, without control characters"])
    candidate = (path.parent / name) if name.endswith(".toml") else path.parent / f"{name}.toml"
    shipped = SHIPPED_LEVELS_DIR / f"{name}.toml"
    if not _exists(candidate) and re.fullmatch(r"[\w.-]+", name) and not name.endswith(".toml") \
            and _exists(shipped):
        candidate = shipped  # a bare name not next to the file: a shipped level
    if not _exists(candidate):
        names = level_names(path.parent)
        raise _error([f"{label}: base = {shown} — no such level next to this file; "
                      f"{_suggest(name, names)}levels there: {', '.join(names) or '(none)'}"])
    resolved = candidate.resolve()
    if roots is not None and not any(resolved.is_relative_to(root) for root in roots):
        raise _error([f"{label}: base = {shown} — outside the levels folders: a base must be "
                      f"a level in {' or '.join(str(root) for root in roots)} (symlinks "
                      f"resolved); to build on another file, run or check it with "
                      f"--allow-outside-base (load_level(..., allow_outside_base=True))"])
    if resolved in chain:
        loop = " → ".join(p.name for p in chain + [resolved])
        raise _error([f"{label}: base = {shown} — the bases form a loop: {loop}"])
    if len(chain) > MAX_BASE_DEPTH:
        raise _error([f"{label}: base = {shown} — bases nest more than {MAX_BASE_DEPTH} deep"])
    base_label = str(candidate)
    content = _read_bytes(candidate, base_label)
    digest.update(content)
    base_text = _decode(content, base_label)
    base_raw = _parse_toml(base_text, base_label)
    if "base" in base_raw:
        base_raw = _with_base(base_raw, candidate, base_label, digest, chain + [resolved], roots)
    _, problems = validate(base_raw)
    if problems:
        raise _error([f"{label}: its base has problems:"]
                     + _file_problem_lines(problems, base_label, KeyLines(base_text, base_raw)))
    merged = _deep_merge(base_raw, raw)
    merged.pop("base", None)
    return merged


def _deep_merge(base: dict, top: dict) -> dict:
    """Tables merge key by key; everything else (values, arrays) in ``top`` replaces."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
